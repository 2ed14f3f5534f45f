"""`bot`: Baton's command line (run the product, migrate, mint a demo token)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
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

    run = commands.add_parser("run", help="start the Rasa server and the action server together")
    run.add_argument("--port", type=int, default=DEFAULT_RASA_PORT)
    run.add_argument("--actions-port", type=int, default=DEFAULT_ACTIONS_PORT)
    run.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    run.add_argument("--endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    run.add_argument("--credentials", type=Path, default=PROJECT_ROOT / "credentials.yml")
    run.add_argument("--no-demo", action="store_true", help="serve no demo page or demo tokens")

    commands.add_parser("migrate", help="apply the database migrations to DATABASE_URL")

    token = commands.add_parser("token", help="mint a customer token, as the host website would")
    token.add_argument("customer_id")
    token.add_argument("--name")

    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run_servers(args)
        if args.command == "migrate":
            return migrate()
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
    """Start both servers; Ctrl-C (or SIGTERM) stops both, and the first to die stops the other."""
    if not args.model.exists():
        print(f"bot: no trained model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    _load_local_secrets()
    if not args.no_demo:
        os.environ.setdefault("BATON_DEMO", "1")
    settings = Settings.from_env()  # fail early, with the variable's name, on bad settings
    from bot.accounts.factory import account_service_from_settings

    migrate()
    account_service_from_settings(settings)  # creates and seeds the demo accounts once
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


def _server_commands(args: argparse.Namespace) -> Dict[str, List[str]]:
    rasa = str(Path(sys.executable).parent / "rasa")
    return {
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
    lines += [f"  Health:         {base}/webhooks/webchat/", "Press Ctrl-C to stop both servers.", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
