"""`bot`: Baton's command line (run the product, migrate, run the clock, check the content and the
policy, report the escalation KPIs, export failed conversations for review, mint a token, add desk
agents, show the ICE servers of a call)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, MutableMapping, Sequence

from bot.settings import (
    ACTION_SERVER_HOST_ENV,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    action_server_host,
)

if TYPE_CHECKING:  # the CLI imports SQLAlchemy only for the commands that need it
    import datetime as dt

    from sqlalchemy.orm import sessionmaker

    from bot.escalation.engine import YamlEscalationPolicy

DEFAULT_RASA_PORT = 5005
DEFAULT_ACTIONS_PORT = 5055
SECRETS_FILE = PROJECT_ROOT / "var" / "secrets.env"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "baton.tar.gz"
# The demo, and the action server always, listen on this host only.
LOOPBACK = "127.0.0.1"
# Production's Rasa server: customers and agents reach it (through a TLS proxy).
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 -- on purpose: production serves customers
# Where the action server listens when `bot run` starts it (default: loopback).
# Files and folders `bot run` creates (secrets, SQLite databases, logs): the owner's only.
PRIVATE_UMASK = 0o077
_TRUE = ("1", "true", "yes")


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
    run.add_argument(
        "--demo",
        action="store_true",
        help=(
            "serve the demo page, demo tokens and demo desk people, on 127.0.0.1 only (what `make "
            "run` does)"
        ),
    )
    run.add_argument(
        "--host",
        help=(
            f"the interface the Rasa server binds (default {ALL_INTERFACES}; with --demo, "
            f"{LOOPBACK})"
        ),
    )
    run.add_argument(
        "--actions-host",
        help=(
            f"the interface the action server binds (default ${ACTION_SERVER_HOST_ENV}, else "
            f"{LOOPBACK})"
        ),
    )
    # Kept so old scripts still start: production (no demo) is what `bot run` does now.
    run.add_argument("--no-demo", action="store_true", help=argparse.SUPPRESS)

    commands.add_parser("migrate", help="apply the database migrations to DATABASE_URL")

    clock = commands.add_parser(
        "clock", help="run the SLA escalation clock (safe on every replica)"
    )
    clock.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps")

    commands.add_parser("check-escalation", help="validate escalation.yml and list every mistake")

    token = commands.add_parser("token", help="mint a customer token, as the host website would")
    token.add_argument("customer_id")
    token.add_argument("--name")

    agent = commands.add_parser("agent", help="add and list the people of the agent desk")
    agent_commands = agent.add_subparsers(dest="agent_command", required=True)
    add = agent_commands.add_parser(
        "add", help="add an agent, supervisor or admin (asks for the password twice)"
    )
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="what customers see when this person joins")
    add.add_argument("--role", help="agent (the default), supervisor or admin")
    add.add_argument("--admin", action="store_true", help="the same as --role admin")
    add.add_argument(
        "--team",
        dest="teams",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY",
        help="a team key of escalation.yml (repeatable)",
    )
    add.add_argument("--capacity", type=int, default=3, help="chats at once (default 3)")
    add.add_argument(
        "--language",
        dest="languages",
        action="extend",
        nargs="+",
        metavar="CODE",
        help="a language the person chats in (repeatable; default en)",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    agent_commands.add_parser("list", help="list the desk's people")

    ice = commands.add_parser(
        "ice-servers",
        help=(
            "print the RTCConfiguration a call participant gets now (freshly minted TURN "
            "credentials)"
        ),
    )
    ice.add_argument("--role", choices=("customer", "agent"), default="customer")

    report = commands.add_parser(
        "report", help="print the escalation KPIs and the top root causes of a period"
    )
    report.add_argument(
        "--since",
        default="7d",
        help="a duration back from now (7d, 12h, 30m) or a date (2026-11-01)",
    )
    report.add_argument(
        "--until", help="the end of the period: a date or a duration back from now (default now)"
    )
    report.add_argument("--team", help="only the escalations to this team key of escalation.yml")
    report.add_argument("--format", choices=("table", "json", "csv"), default="table")

    check = commands.add_parser(
        "check",
        help=(
            "validate the training data, escalation.yml and the content (each finding as "
            "file:line: message)"
        ),
    )
    check.add_argument(
        "--project", type=Path, default=PROJECT_ROOT, help="the Rasa project folder to check"
    )

    export = commands.add_parser(
        "export-review",
        help=(
            "write escalated and failed conversations as draft test stories and candidate NLU "
            "examples"
        ),
    )
    export.add_argument(
        "--since", default="7d", help="a duration back from now (7d, 12h) or a date"
    )
    export.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "review", help="the review folder"
    )
    export.add_argument("--limit", type=int, default=200, help="at most this many conversations")

    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run_servers(args)
        if args.command == "migrate":
            os.umask(PRIVATE_UMASK)  # a new SQLite database is the owner's only
            return migrate()
        if args.command == "clock":
            os.umask(PRIVATE_UMASK)
            return run_escalation_clock(args.interval)
        if args.command == "check-escalation":
            return 0 if _escalation_policy() is not None else 2
        if args.command == "token":
            return mint(args.customer_id, args.name)
        if args.command == "agent":
            return add_agent(args) if args.agent_command == "add" else list_agents()
        if args.command == "ice-servers":
            return print_ice_servers(args.role)
        if args.command == "report":
            from bot.metrics.report_cli import run_report

            return run_report(args)
        if args.command == "check":
            from bot.content.check import run_check

            return run_check(args.project)
        if args.command == "export-review":
            from bot.content.export import run_export
            from bot.secrets_file import ACTION_SERVER_TOKEN

            # The export reads only endpoints.yml's tracker store, but Rasa expands every
            # ${VARIABLE} of the file while parsing it, the action server's token included.
            os.environ.setdefault(ACTION_SERVER_TOKEN, "")
            return run_export(args)
    except SettingsError as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    return 1


def migrate() -> int:
    from bot.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    return 0


def _escalation_policy() -> YamlEscalationPolicy | None:
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
    from bot.escalation.notify import CompositeNotifier, LogNotifier, Notifier, WebhookNotifier

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    settings = Settings.from_env()
    policy = _escalation_policy()
    if policy is None:
        return 2
    notifiers: List[Notifier] = [LogNotifier()]
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


def print_ice_servers(role: str) -> int:
    """The RTCConfiguration of a webrtc call participant, as JSON, to test a TURN server.

    docs/calls.md 6.4 says how. The credentials are real and valid for
    BATON_TURN_TTL_SECONDS: paste them into the Trickle ICE sample page, not into a ticket
    or a chat.
    """
    import datetime as dt
    import json
    import secrets

    from bot.calls.config import CallSettings
    from bot.calls.webrtc import WebRtcProvider

    _load_local_secrets()
    settings = CallSettings.from_env()
    if settings.provider != "webrtc":
        print(
            f"bot: BATON_CALL_PROVIDER is {settings.provider or 'off'}; ICE servers are used only "
            "with 'webrtc'",
            file=sys.stderr,
        )
        return 2
    # A made-up call id, as a real call's would be: coturn scopes credentials by name.
    name = f"{secrets.token_hex(16)}-{role}"
    rtc = WebRtcProvider(settings).rtc_configuration(name, dt.datetime.now(dt.timezone.utc))
    print(json.dumps(rtc, indent=2))
    return 0


def _load_local_secrets() -> None:
    from dotenv import load_dotenv

    from bot.secrets_file import ensure_local_secrets

    # An operator's .env wins over generated secrets; the environment wins over both.
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    ensure_local_secrets(SECRETS_FILE, os.environ)


class _Refused(Exception):
    """A command cannot go on; the message is for the person who typed it."""


class DeskSetupError(Exception):
    """`bot run` cannot set up the desk's people (the message says which and why)."""


def _database_error(error: Exception) -> str:
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"database error: {detail[0] if detail else type(error).__name__}"


def add_agent(args: argparse.Namespace) -> int:
    """`bot agent add`: one person of the desk, with a password typed twice (or from stdin)."""
    from dotenv import load_dotenv
    from sqlalchemy.exc import SQLAlchemyError

    from bot.desk.agents import (
        AgentDirectory,
        check_capacity,
        check_role,
        normalize_email,
        normalize_languages,
    )

    load_dotenv(PROJECT_ROOT / ".env", override=False)
    settings = Settings.from_env()
    role = args.role or ("admin" if args.admin else "agent")
    try:
        if args.admin and role != "admin":
            raise _Refused(f"--admin and --role {role} contradict each other")
        # The cheap checks first: nobody types a password twice to learn of a typo.
        normalize_email(args.email)
        check_role(role)
        check_capacity(args.capacity)
        languages = normalize_languages(args.languages or ("en",))
        password = _new_password(args.password_stdin)
        with _desk_database(settings) as session_factory:
            agent = AgentDirectory(session_factory).create_agent(
                email=args.email,
                name=args.name,
                password=password,
                role=role,
                teams=args.teams,
                capacity=args.capacity,
                languages=languages,
                now=_utc_now(),
            )
    except (ValueError, _Refused) as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"bot: {_database_error(error)}", file=sys.stderr)
        return 2
    teams = ", ".join(agent.teams) or "none"
    print(
        f"bot: added {agent.name} <{agent.email}> as {agent.role} (id {agent.id}; teams: {teams}; "
        f"capacity {agent.capacity}; languages: {', '.join(agent.languages)})"
    )
    return 0


def list_agents() -> int:
    """`bot agent list`: everybody who can sign in to the desk."""
    from dotenv import load_dotenv
    from sqlalchemy.exc import SQLAlchemyError

    from bot.desk.agents import AgentDirectory
    from bot.desk.routing import Router

    load_dotenv(PROJECT_ROOT / ".env", override=False)
    settings = Settings.from_env()
    try:
        with _desk_database(settings) as session_factory:
            agents = AgentDirectory(session_factory).agents()
            chats = Router(session_factory).active_chats_by_agent()
    except _Refused as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"bot: {_database_error(error)}", file=sys.stderr)
        return 2
    if not agents:
        print(
            "bot: no agents yet; add one with: bot agent add --admin --email you@example.com "
            '--name "You"'
        )
        return 0
    rows = [("ID", "EMAIL", "NAME", "ROLE", "STATUS", "CHATS", "TEAMS", "LANGUAGES")]
    rows += [
        (
            str(agent.id),
            agent.email,
            agent.name,
            agent.role,
            agent.status,
            f"{chats.get(agent.id, 0)}/{agent.capacity}",
            ",".join(agent.teams) or "-",
            ",".join(agent.languages),
        )
        for agent in agents
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _new_password(from_stdin: bool) -> str:
    from bot.desk.passwords import check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _Refused("--password-stdin: no password on the first line of standard input")
        check_password(password)
        return password
    import getpass

    try:
        password = getpass.getpass("Password (at least 12 characters): ")
        check_password(password)
        again = getpass.getpass("The same password again: ")
    except (EOFError, KeyboardInterrupt):
        raise _Refused("no password given; nobody was added") from None
    if again != password:
        raise _Refused("the two passwords differ; nobody was added")
    return password


@contextlib.contextmanager
def _desk_database(settings: Settings) -> Iterator[sessionmaker]:
    """Sessions on the migrated database, its teams synced from escalation.yml."""
    from bot.db import make_engine, make_session_factory
    from bot.desk.agents import AgentDirectory
    from bot.migrate import upgrade

    policy = _escalation_policy()
    if policy is None:
        raise _Refused("fix escalation.yml first (its teams are the desk's teams)")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        session_factory = make_session_factory(engine)
        AgentDirectory(session_factory).sync_teams(
            (team.key, team.name) for team in policy.config.teams
        )
        yield session_factory
    finally:
        engine.dispose()


def _utc_now() -> dt.datetime:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def prepare_desk(
    settings: Settings,
    policy: YamlEscalationPolicy,
    *,
    secrets_file: Path = SECRETS_FILE,
    env: MutableMapping[str, str] = os.environ,
) -> str | None:
    """The desk's teams from escalation.yml, the first admin from the environment, the demo people.

    Args:
        settings: the deployment's settings (database, admin, demo mode).
        policy: the loaded escalation.yml.
        secrets_file: where the demo password is generated once and kept.
        env: where the demo password is read from first (an operator's wins).

    Returns:
        The demo people's password in demo mode (for the banner), else None.

    Raises:
        DeskSetupError: the admin or the demo people cannot be created.
    """
    from bot.db import make_engine, make_session_factory
    from bot.desk.agents import AgentDirectory
    from bot.desk.demo import ensure_demo_people
    from bot.secrets_file import DEMO_AGENT_PASSWORD, ensure_local_secrets

    now = _utc_now()
    engine = make_engine(settings.database_url)
    try:
        directory = AgentDirectory(make_session_factory(engine))
        directory.sync_teams((team.key, team.name) for team in policy.config.teams)
        if settings.admin_email and settings.admin_password and not directory.has_admin():
            try:
                directory.create_agent(
                    email=settings.admin_email,
                    name="Administrator",
                    password=settings.admin_password,
                    role="admin",
                    now=now,
                )
            except ValueError as problem:
                raise DeskSetupError(
                    f"cannot create the admin of BATON_ADMIN_EMAIL: {problem}"
                ) from None
            print(f"bot: created the desk admin {settings.admin_email}", flush=True)
        if not settings.demo_enabled:
            return None
        ensure_local_secrets(secrets_file, env, keys=(DEMO_AGENT_PASSWORD,))
        password = env[DEMO_AGENT_PASSWORD]
        try:
            ensure_demo_people(directory, password, now)
        except ValueError as problem:
            raise DeskSetupError(
                f"cannot create the demo desk people ({DEMO_AGENT_PASSWORD}): {problem}"
            ) from None
        return password
    finally:
        engine.dispose()


def run_servers(args: argparse.Namespace) -> int:
    """Start the servers and the clock; Ctrl-C (or SIGTERM) stops all, as does the first to end.

    Without `--demo` this is production: no demo page, tokens or people; the Rasa
    server binds every interface (or `--host`). With `--demo`, every server binds
    127.0.0.1 unless `--host` opens the Rasa server on purpose. The action server
    binds 127.0.0.1 in both (or `--actions-host`) and requires the shared token.
    Nothing secret is printed: not the API token (read from the environment by the
    Rasa server, never in a command line), not the demo password (the banner says
    where it is kept).
    """
    # Before anything is created: the secrets file, the SQLite databases, the
    # servers' files (they inherit it) are readable by their owner only.
    os.umask(PRIVATE_UMASK)
    if args.no_demo:
        print(
            "bot: --no-demo is not needed any more: `bot run` serves no demo unless given --demo",
            file=sys.stderr,
        )
    if not args.model.exists():
        print(f"bot: no trained model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    _load_local_secrets()
    try:
        set_demo_mode(args.demo, os.environ)
    except _Refused as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    settings = Settings.from_env()  # fail early, with the variable's name, on bad settings
    # The servers read these too; here a mistake stops `bot run` with the variable's name.
    from bot.limits.settings import LimitSettings
    from bot.proxies import TrustedProxies

    LimitSettings.from_env(os.environ)
    TrustedProxies.from_env(os.environ)
    _make_existing_files_private(settings)
    policy = _escalation_policy()
    if policy is None:  # refuse to start on an invalid escalation.yml
        return 2
    from bot.accounts.factory import account_service_from_settings

    migrate()
    account_service_from_settings(settings)  # creates and seeds the demo accounts once
    if settings.account_backend == "demo":
        _refresh_demo_accounts(settings)
    try:
        demo_password = prepare_desk(settings, policy)
    except DeskSetupError as problem:
        print(f"bot: {problem}", file=sys.stderr)
        return 2
    rasa_host = args.host or (LOOPBACK if settings.demo_enabled else ALL_INTERFACES)
    actions_host = args.actions_host or action_server_host(os.environ) or LOOPBACK
    env = dict(os.environ)
    commands = _server_commands(args, rasa_host, actions_host)
    processes: Dict[subprocess.Popen[bytes], str] = {}
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
        # The command lines hold no secret: the servers read theirs from the environment.
        print(f"bot: starting the {name}: {' '.join(command)}", flush=True)
        # Our own venv commands, with arguments built here from our own flags (S603).
        processes[subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)] = name  # noqa: S603
    print("bot: loading the model (about a minute on a laptop) …", flush=True)

    exit_code = 0
    announced = False
    probe = f"http://{_reachable(rasa_host)}:{args.port}/webhooks/webchat/"
    while processes:
        if not announced and not stopping and _answers(probe):
            _print_urls(args.port, settings, demo_password, rasa_host)
            announced = True
        for process in list(processes):
            try:
                code = process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            name = processes.pop(process)
            if not stopping:
                print(f"bot: the {name} exited with {code}; stopping the rest", file=sys.stderr)
                exit_code = code or 1
                stop()
    return exit_code


def set_demo_mode(demo: bool, env: MutableMapping[str, str]) -> None:
    """Switch the demo on for `bot run --demo`, and off for every other `bot run`.

    The servers read BATON_DEMO from the environment `bot run` gives them; so the
    flag, not a variable left over in a shell or a .env, decides.

    Raises:
        _Refused: --demo with the real account system, or BATON_DEMO set without --demo.
    """
    if demo:
        if env.get("BATON_ACCOUNT_BACKEND", "demo") == "http":
            raise _Refused(
                "--demo serves a demo page that logs anyone in as a demo customer, so it never "
                "runs with BATON_ACCOUNT_BACKEND=http (your real accounts): unset it for the demo, "
                "or run `bot run` without --demo for production"
            )
        env["BATON_DEMO"] = "1"
        return
    if env.get("BATON_DEMO", "").strip().lower() in _TRUE:
        raise _Refused(
            f"BATON_DEMO={env['BATON_DEMO']} is set, but the demo runs only with `bot run --demo` "
            "(what `make run` does); unset BATON_DEMO to run in production"
        )
    env["BATON_DEMO"] = "0"


def _make_existing_files_private(settings: Settings) -> None:
    """Close what an older Baton (which had no umask) left readable by others under var/.

    New files are private through the umask; a database created before it is not.
    """
    candidates = [
        path
        for pattern in ("*.db", "*.db-*", "*.env")
        for path in (PROJECT_ROOT / "var").glob(pattern)
    ]
    database = settings.database_url
    if database.startswith("sqlite:///"):
        candidates.append(Path(database[len("sqlite:///") :]))
    for path in candidates:
        try:
            if path.is_file() and path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
        except OSError:
            continue  # not ours to change (another user's file): the umask still covers new ones


def _reachable(host: str) -> str:
    """The address this host reaches a server on that binds `host`."""
    if host in (ALL_INTERFACES, "", "::"):
        return LOOPBACK
    return f"[{host}]" if ":" in host else host


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


def _server_commands(
    args: argparse.Namespace, rasa_host: str, actions_host: str
) -> Dict[str, List[str]]:
    """The three processes of `bot run`; no secret is among their arguments (see each launcher)."""
    python = sys.executable
    return {
        "escalation clock": [str(Path(python).parent / "bot"), "clock"],
        # Rasa SDK's server, with the shared token required (actions/server.py).
        "action server": [
            python,
            "-m",
            "actions.server",
            "--host",
            actions_host,
            "--port",
            str(args.actions_port),
        ],
        # `rasa run`, with BATON_RASA_API_TOKEN read from the environment and the API
        # guarded (connectors/rasa_server.py).
        "Rasa server": [
            python,
            "-m",
            "connectors.rasa_server",
            "--model",
            str(args.model),
            "--endpoints",
            str(args.endpoints),
            "--credentials",
            str(args.credentials),
            "--host",
            rasa_host,
            "--port",
            str(args.port),
        ],
    }


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _print_urls(port: int, settings: Settings, demo_password: str | None, host: str) -> None:
    base = f"http://localhost:{port}"
    lines = [
        "",
        "Baton is ready.",
        f"  Widget script:  {base}/webhooks/webchat/widget.js",
    ]
    if settings.demo_enabled:
        lines.append(f"  Demo page:      {base}/webhooks/webchat/demo   <- open this")
    if demo_password:
        lines.append(f"  {demo_banner(base, _demo_password_hint(demo_password))}")
    else:
        lines.append(f"  Agent console:  {base}/desk/")
    lines.append(f"  Health:         {base}/webhooks/webchat/")
    if host == LOOPBACK:
        lines.append(
            f"  Listening on {LOOPBACK} only (this computer); `--host 0.0.0.0` opens it to the "
            "network."
        )
    lines += ["Press Ctrl-C to stop everything.", ""]
    print("\n".join(lines), flush=True)


def _demo_password_hint(password: str) -> str:
    """Where the demo password is kept, never the password itself (stdout ends up in logs)."""
    from bot.secrets_file import DEMO_AGENT_PASSWORD, read_local_secrets

    if read_local_secrets(SECRETS_FILE).get(DEMO_AGENT_PASSWORD) == password:
        return f"{DEMO_AGENT_PASSWORD} in {SECRETS_FILE}"
    return f"{DEMO_AGENT_PASSWORD} (as set in your environment)"


def demo_banner(base: str, password_hint: str) -> str:
    """The banner line that tells a demo visitor how to sign in to the console.

    Args:
        base: the server's URL.
        password_hint: where the password is kept (a variable and a file), not the password.
    """
    from bot.desk.demo import DEMO_AGENT, DEMO_SUPERVISOR

    return (
        f"Agent console: {base}/desk/ — sign in as {DEMO_AGENT.email} (agent) or "
        f"{DEMO_SUPERVISOR.email} (supervisor); the password is {password_hint}"
    )


if __name__ == "__main__":
    sys.exit(main())
