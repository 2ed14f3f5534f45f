"""`bot agent add|list` and the desk set-up of `bot run`, through `main()` on real databases."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.cli import demo_banner, main, prepare_desk
from bot.db import make_engine, make_session_factory
from bot.desk.agents import AgentDirectory
from bot.desk.demo import DEMO_AGENT, DEMO_SUPERVISOR
from bot.escalation.engine import load_default_policy
from bot.secrets_file import DEMO_AGENT_PASSWORD
from bot.settings import PROJECT_ROOT, Settings
from tests.desk.conftest import T0

PASSWORD = "a long enough passphrase"
POLICY_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")


@pytest.fixture
def cli_database(database_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    for variable in ("BATON_ADMIN_EMAIL", "BATON_ADMIN_PASSWORD", "BATON_DEMO"):
        monkeypatch.delenv(variable, raising=False)
    return database_url


@pytest.fixture
def migrated(cli_database, migrated_url) -> str:
    """For the tests that look at a database a refused command never migrated.

    With `migrated_url` in the test, `cli_database` is that migrated database.
    """
    return cli_database


@pytest.fixture
def directory_of(cli_database):
    engines = []

    def directory() -> AgentDirectory:
        engine = make_engine(cli_database)
        engines.append(engine)
        return AgentDirectory(make_session_factory(engine))

    yield directory
    for engine in engines:
        engine.dispose()


def run(monkeypatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def test_agent_add_reads_the_password_from_stdin_and_stores_the_agent(
    cli_database, directory_of, monkeypatch, capsys
):
    code = run(
        monkeypatch,
        "agent",
        "add",
        "--email",
        "Sam@Example.com",
        "--name",
        "Sam Carter",
        "--team",
        "billing",
        "--team",
        "shop",
        "--capacity",
        "2",
        "--language",
        "en",
        "cy",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "added Sam Carter <sam@example.com> as agent" in out
    assert PASSWORD not in out
    sam = directory_of().authenticate("sam@example.com", PASSWORD, T0)
    assert sam is not None
    assert (sam.role, sam.teams, sam.capacity, sam.languages) == (
        "agent",
        ("billing", "shop"),
        2,
        ("en", "cy"),
    )


def test_agent_add_admin_and_the_teams_come_from_escalation_yml(
    cli_database, directory_of, monkeypatch
):
    code = run(
        monkeypatch,
        "agent",
        "add",
        "--admin",
        "--email",
        "you@example.com",
        "--name",
        "You",
        "--password-stdin",
        stdin=PASSWORD,
    )

    assert code == 0
    directory = directory_of()
    assert directory.has_admin()
    assert directory.agent_by_email("you@example.com").role == "admin"
    assert tuple(team.key for team in directory.teams()) == POLICY_TEAMS


def test_agent_add_without_stdin_asks_twice(cli_database, directory_of, monkeypatch):
    answers = iter([PASSWORD, PASSWORD])
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(answers))

    code = main(
        ["agent", "add", "--role", "supervisor", "--email", "dana@example.com", "--name", "Dana"]
    )

    assert code == 0
    assert len(prompts) == 2
    assert directory_of().authenticate("dana@example.com", PASSWORD, T0).role == "supervisor"


@pytest.mark.parametrize(
    "answers, message",
    [
        ([PASSWORD, PASSWORD + "x"], "the two passwords differ; nobody was added"),
        (["too short"], "the password is 9 characters; use at least 12"),
    ],
)
def test_agent_add_refuses_a_bad_typed_password(
    migrated, directory_of, monkeypatch, capsys, answers, message
):
    typed = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))

    code = main(["agent", "add", "--email", "dana@example.com", "--name", "Dana"])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bot: {message}") and err.count("\n") == 1
    assert directory_of().agents() == []


@pytest.mark.parametrize(
    "arguments, stdin, message",
    [
        (
            ["--team", "biling"],
            PASSWORD,
            "unknown team 'biling'; known teams: billing, technical, shop",
        ),
        (
            ["--role", "owner"],
            PASSWORD,
            "role 'owner' is not a role; allowed: agent, supervisor, admin",
        ),
        (
            ["--admin", "--role", "agent"],
            PASSWORD,
            "--admin and --role agent contradict each other",
        ),
        (["--capacity", "-1"], PASSWORD, "capacity -1 is out of range"),
        (["--language", "english"], PASSWORD, "'english' is not a language code"),
        ([], "short\n", "the password is 5 characters; use at least 12"),
        ([], "", "no password on the first line of standard input"),
    ],
)
def test_agent_add_errors_are_one_line_and_exit_2(
    migrated, directory_of, monkeypatch, capsys, arguments, stdin, message
):
    code = run(
        monkeypatch,
        "agent",
        "add",
        "--email",
        "sam@example.com",
        "--name",
        "Sam",
        "--password-stdin",
        *arguments,
        stdin=stdin,
    )

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("bot: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert directory_of().agents() == []


def test_agent_add_refuses_a_taken_email(cli_database, monkeypatch, capsys):
    arguments = ("agent", "add", "--email", "sam@example.com", "--name", "Sam", "--password-stdin")
    assert run(monkeypatch, *arguments, stdin=PASSWORD) == 0
    capsys.readouterr()

    assert run(monkeypatch, *arguments[:3], "SAM@example.com", *arguments[4:], stdin=PASSWORD) == 2
    assert (
        capsys.readouterr().err == "bot: an agent with the email sam@example.com already exists\n"
    )


def test_a_bad_email_is_refused_before_the_password_is_asked(cli_database, monkeypatch, capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("asked for a password"))

    assert main(["agent", "add", "--email", "sam", "--name", "Sam"]) == 2
    assert capsys.readouterr().err == "bot: 'sam' is not an email address (name@example.com)\n"


def test_a_missing_option_is_argparses_usage_error(cli_database):
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "add", "--name", "Sam"])
    assert exit_.value.code == 2


def test_agent_list_shows_everybody_with_their_load(cli_database, monkeypatch, capsys):
    assert main(["agent", "list"]) == 0
    assert "no agents yet" in capsys.readouterr().out
    run(
        monkeypatch,
        "agent",
        "add",
        "--email",
        "sam@example.com",
        "--name",
        "Sam",
        "--team",
        "billing",
        "--password-stdin",
        stdin=PASSWORD,
    )
    capsys.readouterr()

    assert main(["agent", "list"]) == 0

    header, sam = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "ID",
        "EMAIL",
        "NAME",
        "ROLE",
        "STATUS",
        "CHATS",
        "TEAMS",
        "LANGUAGES",
    ]
    assert sam.split()[1:] == ["sam@example.com", "Sam", "agent", "offline", "0/3", "billing", "en"]


def test_an_unreachable_database_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nothing?connect_timeout=2")

    assert main(["agent", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bot: database error: ") and err.count("\n") == 1


# --- what `bot run` sets up -----------------------------------------------------------


def test_demo_mode_creates_sam_and_dana_with_one_generated_password(
    migrated, directory_of, tmp_path
):
    secrets_file = tmp_path / "var" / "secrets.env"
    env: dict = {}
    settings = Settings.from_env({"DATABASE_URL": migrated, "BATON_DEMO": "1"})

    password = prepare_desk(settings, load_default_policy(), secrets_file=secrets_file, env=env)

    assert password and len(password) >= 12
    assert dotenv_values(secrets_file)[DEMO_AGENT_PASSWORD] == password
    directory = directory_of()
    sam = directory.authenticate(DEMO_AGENT.email, password, T0)
    dana = directory.authenticate(DEMO_SUPERVISOR.email, password, T0)
    assert (sam.name, sam.role, sam.capacity, sam.teams) == (
        "Sam Carter",
        "agent",
        3,
        tuple(sorted(POLICY_TEAMS)),
    )
    assert (dana.name, dana.role) == ("Dana Reyes", "supervisor")

    # The next run reuses the password and the people.
    again = prepare_desk(settings, load_default_policy(), secrets_file=secrets_file, env={})
    assert again == password
    assert len(directory.agents()) == 2


def test_a_fresh_secrets_file_gives_the_demo_people_its_new_password(
    migrated, directory_of, tmp_path
):
    settings = Settings.from_env({"DATABASE_URL": migrated, "BATON_DEMO": "1"})
    first = prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "a.env", env={})

    second = prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "b.env", env={})

    assert second != first
    directory = directory_of()
    assert directory.authenticate(DEMO_AGENT.email, second, T0) is not None
    assert directory.authenticate(DEMO_AGENT.email, first, T0) is None


def test_no_demo_people_and_no_password_outside_demo_mode(migrated, directory_of, tmp_path):
    settings = Settings.from_env({"DATABASE_URL": migrated})

    assert (
        prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "s.env", env={})
        is None
    )
    assert directory_of().agents() == []
    assert not (tmp_path / "s.env").exists()


def test_the_admin_from_the_environment_is_created_once(migrated, directory_of, tmp_path):
    settings = Settings.from_env(
        {
            "DATABASE_URL": migrated,
            "BATON_ADMIN_EMAIL": "Boss@Example.com",
            "BATON_ADMIN_PASSWORD": PASSWORD,
        }
    )

    prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "s.env", env={})
    prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "s.env", env={})

    (admin,) = directory_of().agents()
    assert (admin.email, admin.role) == ("boss@example.com", "admin")
    assert directory_of().authenticate("boss@example.com", PASSWORD, T0) == admin


def test_an_admin_email_taken_by_an_agent_stops_the_start(migrated, directory_of, tmp_path):
    directory_of().sync_teams([("billing", "Billing")])
    directory_of().create_agent(email="boss@example.com", name="Boss", password=PASSWORD, now=T0)
    settings = Settings.from_env(
        {
            "DATABASE_URL": migrated,
            "BATON_ADMIN_EMAIL": "boss@example.com",
            "BATON_ADMIN_PASSWORD": PASSWORD,
        }
    )

    with pytest.raises(
        Exception, match="cannot create the admin of BATON_ADMIN_EMAIL: an agent with the email"
    ):
        prepare_desk(settings, load_default_policy(), secrets_file=tmp_path / "s.env", env={})


def test_the_banner_names_the_console_the_people_and_where_the_password_is():
    # Where it is kept, not the password: the banner goes to stdout, and stdout to logs.
    assert demo_banner("http://localhost:5005", "BATON_DEMO_AGENT_PASSWORD in var/secrets.env") == (
        "Agent console: http://localhost:5005/desk/ — sign in as sam@demo.baton (agent) or "
        "dana@demo.baton (supervisor); the password is BATON_DEMO_AGENT_PASSWORD in var/secrets.env"
    )


def test_the_demo_password_is_generated_not_built_in(tmp_path):
    from bot.secrets_file import ensure_local_secrets

    first = ensure_local_secrets(tmp_path / "one.env", {}, keys=(DEMO_AGENT_PASSWORD,))
    second = ensure_local_secrets(tmp_path / "two.env", {}, keys=(DEMO_AGENT_PASSWORD,))

    assert first[DEMO_AGENT_PASSWORD] != second[DEMO_AGENT_PASSWORD]
    assert Path(tmp_path / "one.env").stat().st_mode & 0o777 == 0o600
    source = (PROJECT_ROOT / "bot" / "desk" / "demo.py").read_text() + (
        PROJECT_ROOT / "bot" / "cli.py"
    ).read_text()
    assert first[DEMO_AGENT_PASSWORD] not in source
