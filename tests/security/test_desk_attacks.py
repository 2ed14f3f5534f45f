"""An outsider against the desk's sign-in and API, and an abusive customer, on the security
tests' own `bot run` (tests/security/conftest.py): these tests spend sign-in budgets and
back-offs and block addresses on purpose. The server trusts 127.0.0.1 as its proxy, so each
test plays clients of its own through X-Forwarded-For (`desk_client`, `new_client`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Callable, Dict, List, Tuple

import aiohttp
import pytest
import requests
import socketio
import websockets
from sqlalchemy import delete, select

from bot import audit
from bot.db import make_engine, make_session_factory
from bot.store.models import AgentSession, AuditEntry
from tests.baton_server import BatonServer
from tests.e2e.desk_client import TEST_PASSWORD, DeskClient, create_agent
from tests.e2e.widget_client import WidgetClient
from tests.security.raw_http import post_head, raw_request

pytestmark = pytest.mark.e2e

LOGIN = "/desk/api/login"


@pytest.fixture
def server(isolated_server: BatonServer) -> BatonServer:
    """The security tests' own `bot run` (tests/security/conftest.py)."""
    return isolated_server


def new_client() -> str:
    """A client address of the documentation range, a new one per call."""
    number = uuid.uuid4().int
    return f"198.18.{number % 250}.{(number >> 8) % 250 + 1}"


def sign_in(
    server: BatonServer, email: str, password: str, client: str, **headers: str
) -> requests.Response:
    return requests.post(
        f"{server.url}{LOGIN}",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": client, **headers},
        timeout=60,
    )


def audit_rows(
    server: BatonServer, *, subject: str | None = None, action: str | None = None
) -> List[Tuple[str, str | None, Dict]]:
    """(outcome, client address, details) of the audit log's entries about `subject` or of
    `action`."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    engine = make_engine(server.database_url)
    try:
        with make_session_factory(engine)() as session:
            return [
                (row.outcome, row.client_address, row.details or {})
                for row in session.execute(query).scalars()
            ]
    finally:
        engine.dispose()


def test_a_sign_in_body_announced_at_100_mb_is_refused_before_it_is_read(
    server: BatonServer,
) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    head = post_head(LOGIN, "Content-Type: application/json", "Content-Length: 104857600")
    status, _, answer = asyncio.run(raw_request(port, head, b"{}"))
    assert status == 413
    assert "at most 4096" in answer["error"]


def test_an_e_mail_address_longer_than_any_address_is_refused_without_hashing(
    server: BatonServer,
) -> None:
    address = "a" * 250 + "@example.com"
    answer = sign_in(server, address, "whatever password", new_client())
    assert answer.status_code == 422
    assert "at most 254" in answer.json()["error"]
    assert audit_rows(server, subject=address) == []


def test_a_form_posted_sign_in_from_another_site_is_refused(server: BatonServer) -> None:
    answer = requests.post(
        f"{server.url}{LOGIN}",
        data={"email": "x@example.com", "password": "whatever password"},
        timeout=30,
    )
    assert answer.status_code == 415


def test_parallel_guesses_at_one_address_are_not_all_checked(server: BatonServer) -> None:
    agent = create_agent(server.database_url, name="Parallel Target")

    async def guesses() -> List[int]:
        async with aiohttp.ClientSession() as http:

            async def one(number: int) -> int:
                async with http.post(
                    f"{server.url}{LOGIN}",
                    json={"email": agent.email, "password": f"guess number {number}"},
                    headers={"X-Forwarded-For": new_client()},
                ) as answer:
                    return answer.status

            return await asyncio.gather(*(one(number) for number in range(10)))

    statuses = asyncio.run(guesses())
    # While one guess is being hashed the others are refused, not queued behind it.
    assert statuses.count(429) >= 1
    assert set(statuses) <= {401, 429}


def test_back_off_after_failed_guesses_but_the_agents_own_browser_still_signs_in(
    server: BatonServer,
) -> None:
    agent = create_agent(server.database_url, name="Back Off Target")
    office = new_client()
    browser = requests.Session()
    first = browser.post(
        f"{server.url}{LOGIN}",
        json={"email": agent.email, "password": TEST_PASSWORD},
        headers={"X-Forwarded-For": office},
        timeout=60,
    )
    assert first.status_code == 200
    assert "baton_desk_device" in browser.cookies.get_dict()

    stranger = new_client()
    statuses = [
        sign_in(server, agent.email, f"wrong guess {n}", stranger).status_code for n in range(6)
    ]
    assert statuses[:5] == [401] * 5
    refused = sign_in(server, agent.email, TEST_PASSWORD, stranger)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1

    again = browser.post(
        f"{server.url}{LOGIN}",
        json={"email": agent.email, "password": TEST_PASSWORD},
        headers={"X-Forwarded-For": office},
        timeout=60,
    )
    assert again.status_code == 200

    outcomes = [(outcome, client) for outcome, client, _ in audit_rows(server, subject=agent.email)]
    assert outcomes[0] == (audit.SUCCEEDED, office)
    assert (audit.FAILED, stranger) in outcomes
    assert (audit.REFUSED, stranger) in outcomes
    assert outcomes[-1] == (audit.SUCCEEDED, office)


def test_password_spraying_from_one_client_runs_out_of_budget_and_others_are_not_affected(
    server: BatonServer,
) -> None:
    sprayer = new_client()
    statuses = [
        sign_in(
            server, f"sprayed.{n}.{uuid.uuid4().hex[:6]}@example.com", "Winter2026!!", sprayer
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
    bystander = sign_in(
        server, f"someone.{uuid.uuid4().hex[:6]}@example.com", "Winter2026!!", new_client()
    )
    assert bystander.status_code == 401


def test_the_cookie_is_secure_and_hsts_is_sent_when_the_trusted_proxy_says_https(
    server: BatonServer,
) -> None:
    agent = create_agent(server.database_url, name="Tls Agent")
    over_tls = sign_in(
        server, agent.email, TEST_PASSWORD, new_client(), **{"X-Forwarded-Proto": "https"}
    )
    plain = sign_in(server, agent.email, TEST_PASSWORD, new_client())
    assert over_tls.status_code == plain.status_code == 200
    assert "Secure" in over_tls.headers["Set-Cookie"]
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers


def test_a_strangers_malformed_body_is_never_parsed(server: BatonServer) -> None:
    answer = requests.post(
        f"{server.url}/desk/api/conversations/{uuid.uuid4().hex}/messages",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 401


def test_a_chunked_body_on_the_desk_api_is_refused(server: BatonServer) -> None:
    answer = requests.post(
        f"{server.url}{LOGIN}",
        data=iter([b'{"email": "a@example.com", ', b'"password": "whatever pass"}']),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 411


def desk_client(server: BatonServer) -> DeskClient:
    """A console of a client of its own (never 127.0.0.1, the fuzzer's)."""
    desk = DeskClient(server.url)
    desk.http.headers["X-Forwarded-For"] = new_client()
    return desk


def _signed_in(server: BatonServer) -> DeskClient:
    agent = create_agent(server.database_url, name="Live Agent")
    desk = desk_client(server)
    assert desk.login(agent.email).status_code == 200
    return desk


def test_the_live_socket_refuses_a_page_of_another_origin(server: BatonServer) -> None:
    desk = _signed_in(server)

    async def connect() -> Dict:
        url = server.url.replace("http://", "ws://") + "/desk/api/live"
        async with websockets.connect(
            url,
            extra_headers={"Cookie": desk.cookie_header(), "Origin": "https://evil.example.com"},
        ) as socket:
            return json.loads(await asyncio.wait_for(socket.recv(), 30))

    first = asyncio.run(connect())
    assert first["type"] == "error" and first["status"] == 403


def _live_socket_after(
    server: BatonServer, desk: DeskClient, end_session: Callable[[], object]
) -> Dict:
    """Open the console's live socket, end its session with `end_session()`, ping, and
    return the error the socket sends before it closes."""

    async def listen() -> Dict:
        url = server.url.replace("http://", "ws://") + "/desk/api/live"
        host = server.url.split("://", 1)[1]
        async with websockets.connect(
            url, extra_headers={"Cookie": desk.cookie_header(), "Origin": f"http://{host}"}
        ) as socket:
            await socket.send(json.dumps({"type": "ping"}))
            while json.loads(await asyncio.wait_for(socket.recv(), 30)).get("type") != "pong":
                pass
            await asyncio.to_thread(end_session)
            try:
                await socket.send(json.dumps({"type": "ping"}))  # the console pings every 25 s
            except websockets.exceptions.ConnectionClosed:
                pass  # closed at once (a sign-out): its last words are still to be read
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), 30))
                if event.get("type") == "error":
                    await asyncio.wait_for(socket.wait_closed(), 30)
                    return event

    return asyncio.run(listen())


def test_the_live_socket_closes_when_its_session_signs_out(server: BatonServer) -> None:
    desk = _signed_in(server)
    error = _live_socket_after(server, desk, lambda: desk.call("POST", "/logout"))
    assert error["status"] == 401


def test_the_live_socket_closes_when_its_session_has_ended_elsewhere(server: BatonServer) -> None:
    desk = _signed_in(server)
    agent_id = desk.agent["id"]  # type: ignore[index]

    def expire() -> None:  # what the clock's pruning does to an expired session
        engine = make_engine(server.database_url)
        try:
            with make_session_factory(engine).begin() as session:
                session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))
        finally:
            engine.dispose()

    error = _live_socket_after(server, desk, expire)
    assert error["status"] == 401 and "expired" in error["error"]


def test_a_log_in_names_no_password_in_the_audit_log(server: BatonServer) -> None:
    agent = create_agent(server.database_url, name="Audit Agent")
    sign_in(server, agent.email, "a wrong password here", new_client())
    rows = audit_rows(server, subject=agent.email)
    assert rows and "a wrong password here" not in json.dumps(rows)


# --- an abusive customer, ended and blocked ------------------------------------------------

ALL_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")


async def _handed_off(server: BatonServer, client: str) -> WidgetClient:
    customer = WidgetClient(server.url, headers={"X-Forwarded-For": client})
    await customer.__aenter__()
    reply = await customer.say("I want to talk to a human")
    assert "CS-" in reply["text"], reply
    return customer


async def _turned_away(server: BatonServer, session_id: str | None, client: str) -> Dict:
    """What a widget hears when it comes back: the `blocked` error, or a confirmed session."""
    widget = WidgetClient(server.url, session_id=session_id, headers={"X-Forwarded-For": client})
    try:
        await widget.sio.connect(
            server.url, socketio_path="/socket.io", transports=["websocket"], headers=widget.headers
        )
    except socketio.exceptions.ConnectionError:
        return {"code": "refused_at_connect"}
    try:
        await widget.sio.emit("session_request", {"session_id": session_id})
        confirmed = asyncio.ensure_future(widget._confirmed.get())
        error = asyncio.ensure_future(widget.errors.get())
        done, pending = await asyncio.wait(
            {confirmed, error}, timeout=60, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        assert done, "neither a session nor an error came back"
        return error.result() if error in done else {"session_id": confirmed.result()}
    finally:
        await widget.sio.disconnect()


def test_an_agent_ends_and_blocks_an_abusive_customer_who_cannot_come_back(
    server: BatonServer,
) -> None:
    agent = create_agent(server.database_url, name="Blocking Agent", teams=ALL_TEAMS)
    supervisor = create_agent(server.database_url, name="Lifting Supervisor", role="supervisor")
    abusive, bystander = new_client(), new_client()

    async def scenario() -> None:
        customer = await _handed_off(server, abusive)
        conversation_id = customer.session_id
        desk = desk_client(server)
        assert desk.login(agent.email).status_code == 200
        assert (
            await asyncio.to_thread(desk.call, "POST", f"/conversations/{conversation_id}/accept")
        ).ok
        blocked = await asyncio.to_thread(
            desk.call,
            "POST",
            f"/conversations/{conversation_id}/block",
            {"reason": "threats and insults", "block_address": True},
        )
        assert blocked.status_code == 200, blocked.text
        kinds = sorted(block["kind"] for block in blocked.json()["blocks"])
        assert kinds == ["address", "session"]
        detail = blocked.json()["conversation"]
        assert (detail["ticket"]["status"], detail["state"]) == ("closed", "resolved")

        error = await customer.next_error()
        assert error["code"] == "blocked" and "ended" in error["message"]
        # Back with the same conversation, or from the same address: turned away.
        assert (await _turned_away(server, conversation_id, new_client()))["code"] == "blocked"
        assert (await _turned_away(server, None, abusive))["code"] == "refused_at_connect"
        # Someone else is not affected.
        assert "session_id" in await _turned_away(server, None, bystander)

        lifting = desk_client(server)
        assert lifting.login(supervisor.email).status_code == 200
        listed = (await asyncio.to_thread(lifting.call, "GET", "/blocks")).json()["blocks"]
        ours = [block for block in listed if block["reason"] == "threats and insults"]
        assert len(ours) == 2 and all(
            "…" in block["value"] for block in ours if block["kind"] == "session"
        )
        for block in ours:
            assert (
                await asyncio.to_thread(lifting.call, "DELETE", f"/blocks/{block['id']}")
            ).status_code == 204
        assert (await _turned_away(server, conversation_id, abusive))[
            "session_id"
        ] == conversation_id

    asyncio.run(scenario())
    actions = [
        (outcome, details.get("kind"))
        for outcome, _, details in audit_rows(server, action=audit.CUSTOMER_BLOCKED)
    ]
    assert sorted(actions) == [(audit.SUCCEEDED, "address"), (audit.SUCCEEDED, "session")]


def test_an_agent_of_another_team_cannot_block_a_conversation_they_cannot_see(
    server: BatonServer,
) -> None:
    outsider = create_agent(server.database_url, name="Other Team", teams=("shop",))

    async def scenario() -> int:
        customer = await _handed_off(server, new_client())
        try:
            desk = desk_client(server)
            assert desk.login(outsider.email).status_code == 200
            answer = await asyncio.to_thread(
                desk.call,
                "POST",
                f"/conversations/{customer.session_id}/block",
                {"reason": "no reason"},
            )
            return answer.status_code
        finally:
            await customer.__aexit__()

    assert asyncio.run(scenario()) == 403


def test_a_nul_character_in_a_desk_body_is_refused_not_a_server_error(server: BatonServer) -> None:
    desk = _signed_in(server)
    answer = desk.call("PUT", "/me/status", {"status": "online\u0000"})
    assert answer.status_code == 400
    assert "NUL" in answer.json()["error"]
