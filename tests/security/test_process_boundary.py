"""The process boundary, attacked from outside: `bot run`, the action server, Rasa's HTTP API.

The e2e tests start the real product: the shared demo server (`baton_server`, as
`make run` starts it) and, in this module, `bot run` alone, as production starts
it. An outsider here is a client on another host (this host's network address,
not loopback), a client that reaches the action server directly with a forged
tracker, or anyone who reads the process list or the output. The secrets file
tests run without a server.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sqlite3
import stat
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from dotenv import dotenv_values

from bot.secrets_file import (
    ACTION_SERVER_TOKEN,
    DEMO_AGENT_PASSWORD,
    ensure_local_secrets,
    read_local_secrets,
)
from bot.settings import PROJECT_ROOT
from tests.baton_server import BatonServer, start_baton_server
from tests.e2e.widget_client import WidgetClient
from tests.trackers import bot_event, metadata_for, user_event

SECRETS_FILE = PROJECT_ROOT / "var" / "secrets.env"
FORGED_SENDER = "forged-by-an-outsider"


def network_address() -> str | None:
    """This host's address on its network (what another host connects to), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return (
        None
        if ipaddress.ip_address(address).is_loopback or ipaddress.ip_address(address).is_unspecified
        else address
    )


def from_the_network(url: str) -> str:
    """`url` as a client on another host reaches it: through this host's network address."""
    address = network_address()
    if address is None:
        pytest.skip("this host has no network address besides loopback")
    return url.replace("127.0.0.1", address)


def accepts_connections(url: str) -> bool:
    host, port = url.split("//", 1)[1].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def forged_handoff_call(sender_id: str) -> Dict[str, Any]:
    """What Rasa would POST to the action server to hand `sender_id` to a person."""
    events = [
        user_event("hi", "greet", metadata=metadata_for(None)),
        bot_event("Hi! I'm Baton."),
        user_event("I want to talk to a person", "request_human", metadata=metadata_for(None)),
    ]
    return {
        "next_action": "action_request_handoff",
        "sender_id": sender_id,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender_id,
            "slots": {},
            "latest_message": events[-1]["parse_data"],
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_input_channel": "webchat",
        },
    }


def tickets_of(server: BatonServer, sender_id: str) -> List[str]:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT t.reference FROM tickets t JOIN conversations c ON c.id = t.conversation_id "
            "WHERE c.sender_id = ?",
            (sender_id,),
        ).fetchall()
    return [reference for (reference,) in rows]


def command_lines(pid: int) -> List[str]:
    """The command lines of `pid` and every process under it (what `ps` shows other users)."""
    lines = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            lines.append(Path(f"/proc/{current}/cmdline").read_text().replace("\0", " "))
            pending += [
                int(child)
                for child in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            continue
    return lines


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatonServer]:
    """`bot run` without flags: production, on this host's every interface."""
    server = start_baton_server(tmp_path_factory.mktemp("production"), demo=False)
    yield server
    server.stop()


# --- the action server answers only the Rasa server -----------------------------------------


@pytest.mark.e2e
def test_a_forged_tracker_posted_to_the_action_server_is_refused_and_opens_no_ticket(
    production_server,
):
    call = forged_handoff_call(FORGED_SENDER)

    for headers in (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": production_server.action_server_token},
    ):
        refused = requests.post(
            f"{production_server.actions_url}/webhook", json=call, headers=headers, timeout=30
        )
        assert refused.status_code == 401, refused.text
        assert "error" in refused.json()
    # Nor may a stranger list the actions; the health check tells nothing and stays open.
    assert requests.get(f"{production_server.actions_url}/actions", timeout=10).status_code == 401
    assert requests.get(f"{production_server.actions_url}/health", timeout=10).status_code == 200
    assert tickets_of(production_server, FORGED_SENDER) == []

    # The same call with the Rasa server's token is run: the token, nothing else, stopped it.
    accepted = requests.post(
        f"{production_server.actions_url}/webhook",
        json=forged_handoff_call("sent-with-the-token"),
        headers={"Authorization": f"Bearer {production_server.action_server_token}"},
        timeout=60,
    )
    assert accepted.status_code == 200, accepted.text
    assert len(tickets_of(production_server, "sent-with-the-token")) == 1


def test_the_rasa_server_sends_the_action_server_its_token_from_the_environment(monkeypatch):
    # Read as the Rasa server reads it: a quoted "${...}" would be sent as is, and refused.
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv(ACTION_SERVER_TOKEN, "from-the-environment-" + "e" * 20)
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml"))

    assert endpoints.action.headers == {"Authorization": "Bearer from-the-environment-" + "e" * 20}


@pytest.mark.e2e
async def test_the_rasa_server_runs_custom_actions_with_the_token(production_server):
    # A conversation's first message runs action_session_start on the action server,
    # which records the conversation: only if the Rasa server's call got through.
    async with WidgetClient(production_server.url) as guest:
        await guest.say("hello")
        sender_id = guest.session_id
    path = production_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        started = connection.execute(
            "SELECT state FROM conversations WHERE sender_id = ?", (sender_id,)
        ).fetchall()
    assert started == [("bot",)]
    # (The refusals the direct attacks on the action server cause are in the log too;
    # a refused call of the Rasa server's own would show on its side as a 401.)
    assert "ClientResponseError: 401" not in production_server.log()


# Production and demo alike: only the Rasa server on this host talks to the action server.
# One test per server, so that each runs where its server is (one xdist group each).
def assert_action_server_is_local_only(server: BatonServer) -> None:
    assert accepts_connections(server.actions_url)
    assert not accepts_connections(from_the_network(server.actions_url))


@pytest.mark.e2e
def test_the_action_server_is_not_on_the_network_in_production(production_server):
    assert_action_server_is_local_only(production_server)


@pytest.mark.e2e
def test_the_action_server_is_not_on_the_network_in_the_demo(baton_server):
    assert_action_server_is_local_only(baton_server)


# --- Rasa's HTTP API --------------------------------------------------------------------------


@pytest.mark.e2e
def test_rasa_api_takes_its_token_in_a_header_and_refuses_it_in_the_url(baton_server):
    parse = f"{baton_server.url}/model/parse"
    token = baton_server.rasa_api_token

    assert (
        requests.post(
            parse, json={"text": "hi"}, headers=baton_server.api_headers(), timeout=30
        ).status_code
        == 200
    )
    in_the_url = requests.post(parse, params={"token": token}, json={"text": "hi"}, timeout=30)
    assert in_the_url.status_code == 400
    assert "Authorization: Bearer" in in_the_url.json()["error"]
    assert requests.post(parse, json={"text": "hi"}, timeout=30).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * len(token)}
    assert requests.post(parse, json={"text": "hi"}, headers=wrong, timeout=30).status_code == 401
    # The tracker of any conversation is behind the same lock.
    assert (
        requests.get(f"{baton_server.url}/conversations/anyone/tracker", timeout=30).status_code
        == 401
    )


@pytest.mark.e2e
def test_rasa_api_refuses_clients_on_other_hosts_even_with_the_token(production_server):
    remote = from_the_network(production_server.url)
    headers = production_server.api_headers()

    # The server is on the network (customers reach the channel) ...
    assert requests.get(f"{remote}/webhooks/webchat/", timeout=10).status_code == 200
    # ... but its API is not, token or not.
    for method, path in (
        ("GET", "/status"),
        ("GET", "/version"),
        ("POST", "/model/parse"),
        ("GET", "/conversations/anyone/tracker"),
    ):
        response = requests.request(
            method, f"{remote}{path}", headers=headers, json={"text": "hi"}, timeout=30
        )
        assert response.status_code == 403, (path, response.text)
    # Nor through a proxy on this host that is not declared a trusted one.
    forwarded = {**headers, "X-Forwarded-For": "203.0.113.7"}
    assert (
        requests.get(f"{production_server.url}/status", headers=forwarded, timeout=30).status_code
        == 403
    )
    assert (
        requests.get(f"{production_server.url}/status", headers=headers, timeout=30).status_code
        == 200
    )


@pytest.mark.e2e
def test_the_root_page_names_neither_rasa_nor_its_version(production_server):
    for base in (production_server.url, from_the_network(production_server.url)):
        root = requests.get(f"{base}/", timeout=10)
        assert root.status_code == 200
        assert "rasa" not in root.text.lower()
        assert not any(character.isdigit() for character in root.text)


# --- demo only when asked, on this computer only ----------------------------------------------


@pytest.mark.e2e
def test_bot_run_alone_serves_no_demo(production_server):
    for path in ("/webhooks/webchat/demo", "/webhooks/webchat/demo/token"):
        assert requests.get(f"{production_server.url}{path}", timeout=10).status_code == 404
    assert "Demo page" not in production_server.log()
    assert "sam@demo.baton" not in production_server.log()


@pytest.mark.e2e
def test_the_demo_listens_on_this_computer_only(baton_server):
    assert requests.get(f"{baton_server.url}/webhooks/webchat/demo", timeout=10).status_code == 200
    assert not accepts_connections(from_the_network(baton_server.url))
    assert "Listening on 127.0.0.1 only" in baton_server.log()


# --- nothing secret in the process list or the output -----------------------------------------


def assert_no_secret_in_a_command_line_or_the_output(server: BatonServer) -> None:
    secrets = [server.rasa_api_token, server.action_server_token, server.jwt_secret]
    lines = command_lines(server.process.pid)
    assert len(lines) >= 4  # bot run, the Rasa server, the action server, the clock
    assert not [line for line in lines if any(secret in line for secret in secrets)]
    assert not [secret for secret in secrets if secret in server.log()]


@pytest.mark.e2e
def test_no_secret_is_in_a_command_line_or_the_output_in_production(production_server):
    assert_no_secret_in_a_command_line_or_the_output(production_server)


@pytest.mark.e2e
def test_no_secret_is_in_a_command_line_or_the_output_of_the_demo(baton_server):
    assert_no_secret_in_a_command_line_or_the_output(baton_server)
    # The demo banner says where the password is kept, not what it is.
    password = read_local_secrets(SECRETS_FILE)[DEMO_AGENT_PASSWORD]
    assert password not in baton_server.log()
    assert f"{DEMO_AGENT_PASSWORD} in {SECRETS_FILE}" in baton_server.log()


# --- files: the owner's only ------------------------------------------------------------------


@pytest.mark.e2e
def test_the_databases_bot_run_creates_are_readable_by_their_owner_only(production_server):
    database = Path(production_server.database_url.removeprefix("sqlite:///"))
    for path in (database, production_server.tracker_db):
        assert path.exists(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_secrets_file_is_private_however_permissive_the_umask(tmp_path):
    path = tmp_path / "var" / "secrets.env"
    previous = os.umask(0)  # the worst case: every file created world-readable and writable
    try:
        env: Dict[str, str] = {}
        ensure_local_secrets(path, env)
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dotenv_values(path)[ACTION_SERVER_TOKEN] == env[ACTION_SERVER_TOKEN]
    assert len(env[ACTION_SERVER_TOKEN]) >= 32
    assert [entry.name for entry in path.parent.iterdir()] == ["secrets.env"]  # no temporary left


def test_a_secrets_file_left_readable_by_an_older_run_is_made_private(tmp_path):
    path = tmp_path / "secrets.env"
    ensure_local_secrets(path, {})
    path.chmod(0o644)

    ensure_local_secrets(path, {})  # nothing to generate: only read

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_link_planted_at_the_secrets_file_does_not_receive_the_secrets(tmp_path):
    # Someone who can write the folder points secrets.env at a file they can read:
    # the secrets go to a new private file in its place, not through the link.
    planted = tmp_path / "readable-by-the-attacker"
    planted.write_text("")
    planted.chmod(0o644)
    path = tmp_path / "secrets.env"
    path.symlink_to(planted)

    ensure_local_secrets(path, {}, keys=(ACTION_SERVER_TOKEN,))

    assert planted.read_text() == ""
    assert not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ACTION_SERVER_TOKEN in dotenv_values(path)  # a private secrets file took its place
