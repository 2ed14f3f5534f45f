"""`bot`: Baton's command line (run the product, migrate, run the clock, check the policy, mint a token)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List, Sequence

from bot.settings import PROJECT_ROOT, Settings, SettingsError

DEFAULT_RASA_PORT = 5005
DEFAULT_ACTIONS_PORT = 5055
SECRETS_FILE = PROJECT_ROOT / "var" / "secrets.env"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "baton.tar.gz"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="start the Rasa server, the action server and the escalation clock together"
    )
    run.add_argument("--port", type=int, default=DEFAULT_RASA_PORT)
    run.add_argument("--actions-port", type=int, default=DEFAULT_ACTIONS_PORT)
    run.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    run.add_argument("--endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    run.add_argument("--credentials", type=Path, default=PROJECT_ROOT / "credentials.yml")
    run.add_argument("--no-demo", action="store_true", help="serve no demo page or demo tokens")

    commands.add_parser("migrate", help="apply the database migrations to DATABASE_URL")

    clock = commands.add_parser("clock", help="run the SLA escalation clock (safe on every replica)")
    clock.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps")

    commands.add_parser("check-escalation", help="validate escalation.yml and list every mistake")

    token = commands.add_parser("token", help="mint a customer token, as the host website would")
    token.add_argument("customer_id")
    token.add_argument("--name")

    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run_servers(args)
        if args.command == "migrate":
            return migrate()
        if args.command == "clock":
            return run_escalation_clock(args.interval)
        if args.command == "check-escalation":
            return 0 if _escalation_policy() is not None else 2
        if args.command == "token":
            return mint(args.customer_id, args.name)
    except SettingsError as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    return 1


def migrate() -> int:
    from bot.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    return 0


def _escalation_policy():  # type: ignore[no-untyped-def]
    """The policy in escalation.yml, or None after printing every mistake in it."""
    from bot.escalation.engine import load_default_policy
    from bot.escalation.policy import EscalationConfigError

    try:
        return load_default_policy()
    except EscalationConfigError as problems:
        print(f"bot: escalation policy refused:\n{problems}", file=sys.stderr)
        return None


def run_escalation_clock(interval: float) -> int:
    import logging

    from bot.escalation.clock import run_clock
    from bot.escalation.notify import CompositeNotifier, LogNotifier, WebhookNotifier

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    settings = Settings.from_env()
    policy = _escalation_policy()
    if policy is None:
        return 2
    notifiers = [LogNotifier()]
    if settings.escalation_webhook_url:
        notifiers.append(WebhookNotifier(settings.escalation_webhook_url))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_clock(settings, policy, interval, stop, notifier=CompositeNotifier(notifiers))
    return 0


def mint(customer_id: str, name: str | None) -> int:
    from bot.identity import mint_token

    _load_local_secrets()
    settings = Settings.from_env()
    if not settings.jwt_secret:
        print("bot: BATON_JWT_SECRET is not set", file=sys.stderr)
        return 2
    print(mint_token(customer_id, settings.jwt_secret, name=name))
    return 0


def _load_local_secrets() -> None:
    from dotenv import load_dotenv

    from bot.secrets_file import ensure_local_secrets

    # An operator's .env wins over generated secrets; the environment wins over both.
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    ensure_local_secrets(SECRETS_FILE, os.environ)


def run_servers(args: argparse.Namespace) -> int:
    """Start the servers and the clock; Ctrl-C (or SIGTERM) stops them all, and the first to die stops the rest."""
    if not args.model.exists():
        print(f"bot: no trained model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    _load_local_secrets()
    if not args.no_demo:
        os.environ.setdefault("BATON_DEMO", "1")
    settings = Settings.from_env()  # fail early, with the variable's name, on bad settings
    if _escalation_policy() is None:  # refuse to start on an invalid escalation.yml
        return 2
    from bot.accounts.factory import account_service_from_settings

    migrate()
    account_service_from_settings(settings)  # creates and seeds the demo accounts once
    if settings.account_backend == "demo":
        _refresh_demo_accounts(settings)
    env = dict(os.environ)
    commands = _server_commands(args)
    processes: List[subprocess.Popen] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in commands.items():
        print(f"bot: starting the {name}: {' '.join(command)}", flush=True)
        processes.append(subprocess.Popen(command, env=env, cwd=PROJECT_ROOT))
    print("bot: loading the model (about a minute on a laptop) …", flush=True)

    exit_code = 0
    announced = False
    while processes:
        if not announced and not stopping and _answers(f"http://127.0.0.1:{args.port}/webhooks/webchat/"):
            _print_urls(args.port, settings)
            announced = True
        for process in list(processes):
            try:
                code = process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            processes.remove(process)
            if not stopping:
                print(f"bot: {process.args[0]} exited with {code}; stopping the rest", file=sys.stderr)
                exit_code = code or 1
                stop()
    return exit_code


def _refresh_demo_accounts(settings: Settings) -> None:
    """Move the demo customers' dates to today, so the demo order is always "arriving tomorrow"."""
    import datetime as dt

    from bot.accounts.sql import seed_demo_customers
    from bot.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        seed_demo_customers(make_session_factory(engine), dt.date.today())
    finally:
        engine.dispose()


def _server_commands(args: argparse.Namespace) -> Dict[str, List[str]]:
    bin_dir = Path(sys.executable).parent
    rasa = str(bin_dir / "rasa")
    return {
        "escalation clock": [str(bin_dir / "bot"), "clock"],
        "action server": [rasa, "run", "actions", "--actions", "actions", "--port", str(args.actions_port)],
        "Rasa server": [
            rasa, "run",
            "--model", str(args.model),
            "--endpoints", str(args.endpoints),
            "--credentials", str(args.credentials),
            "--port", str(args.port),
        ],
    }


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _print_urls(port: int, settings: Settings) -> None:
    base = f"http://localhost:{port}"
    lines = [
        "",
        "Baton is ready.",
        f"  Widget script:  {base}/webhooks/webchat/widget.js",
    ]
    if settings.demo_enabled:
        lines.append(f"  Demo page:      {base}/webhooks/webchat/demo   <- open this")
    lines += [f"  Health:         {base}/webhooks/webchat/", "Press Ctrl-C to stop everything.", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
