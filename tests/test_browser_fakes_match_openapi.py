"""The browser tests' fake desk answers as the real desk's OpenAPI document says.

tests/browser/fake_desk_server.py stands in for the desk in the console's browser
tests. Each fake checks its own answers when it closes (tests/browser/desk_contract.py);
this drives every route of the fake over HTTP, without a browser, through its
successes and its refusals, so the check covers them all in the quick tier, and
shows that the check finds a divergence when there is one.
"""

from __future__ import annotations

import json
import secrets
from typing import Iterator

import pytest
import requests

from bot.desk.openapi import openapi_spec
from tests.browser.desk_contract import Exchange, problems
from tests.browser.fake_calls import CallFakes
from tests.browser.fake_desk_server import API, CSRF_HEADER, FakeDesk, conversation

EMAIL = "sam@example.com"
CONNECTION = "c" * 32


class Console:
    """What the console does over HTTP: a session cookie, and the CSRF token on writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.csrf = ""

    def call(self, method: str, path: str, body: object = None) -> requests.Response:
        headers = {CSRF_HEADER: self.csrf} if method != "GET" else {}
        return self.http.request(
            method, f"{self.url}{API}{path}", json=body, headers=headers, timeout=10
        )

    def sign_in(self, password: str) -> None:
        answer = self.call("POST", "/login", {"email": EMAIL, "password": password})
        assert answer.status_code == 200
        self.csrf = answer.json()["csrf_token"]


@pytest.fixture
def password() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture
def fakes(password: str) -> Iterator[CallFakes]:
    fakes = CallFakes(password)
    yield fakes
    fakes.close()


def _documented_operations() -> set:
    spec = openapi_spec()
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if "servers" not in item
        for method in item
        if method != "servers"
    }


def test_every_route_of_the_fake_answers_as_the_document_says(
    fakes: CallFakes, password: str
) -> None:
    desk = fakes.desk
    mine, other, guest = "c-mine", "c-other", "c-guest"
    desk.add(conversation(mine, reference="BW-1"))
    desk.add(conversation(other, reference="BW-2", team="technical", priority="P1"))
    desk.add(
        conversation(
            guest,
            reference="BW-3",
            customer_name=None,
            verified=False,
            customer_tier="consumer",  # a guest has none, whatever the test says
            offered_to_me=True,
        )
    )
    fakes.link(mine)
    console = Console(desk.url)

    # Refused before signing in, then signed in.
    assert console.call("GET", "/me").status_code == 401
    assert console.call("POST", "/login", {"email": EMAIL, "password": "wrong"}).status_code == 401
    console.sign_in(password)
    assert console.call("GET", "/me").status_code == 200
    assert console.call("PUT", "/me/status", {"status": "away"}).status_code == 200
    assert console.call("PUT", "/me/status", {"status": "asleep"}).status_code == 422
    assert console.call("GET", "/teams").status_code == 200
    queue = console.call("GET", "/queue").json()["conversations"]
    assert {c["conversation_id"] for c in queue} == {mine, other, guest}
    assert next(c for c in queue if c["conversation_id"] == guest)["customer"]["tier"] is None

    # A conversation, through everything an agent does to it.
    assert console.call("GET", f"/conversations/{mine}").status_code == 200
    assert console.call("GET", "/conversations/nobody").status_code == 404
    assert (
        console.call("POST", f"/conversations/{mine}/messages", {"text": "hi"}).status_code == 409
    )
    assert console.call("POST", f"/conversations/{mine}/accept").status_code == 200
    assert console.call("POST", f"/conversations/{mine}/messages", {"text": " "}).status_code == 422
    assert (
        console.call("POST", f"/conversations/{mine}/messages", {"text": "hi"}).status_code == 201
    )
    assert (
        console.call("POST", f"/conversations/{mine}/typing", {"typing": True}).status_code == 204
    )
    assert console.call("POST", f"/conversations/{mine}/notes", {"text": "VIP"}).status_code == 201
    assert console.call("POST", f"/conversations/{mine}/notes", {"text": ""}).status_code == 422

    # Calls: an invitation, the refusals of a call in the wrong state, and a hang-up.
    invite = {"media": "video", "connection_id": CONNECTION}
    answer = console.call("POST", f"/conversations/{mine}/calls", invite)
    assert answer.status_code == 201
    call = answer.json()["call"]["id"]
    assert console.call("POST", f"/conversations/{mine}/calls", invite).status_code == 409
    calls = f"/conversations/{mine}/calls/{call}"
    assert console.call("POST", f"{calls}/accept", {"connection_id": CONNECTION}).status_code == 409
    signal = {"connection_id": CONNECTION, "type": "connected"}
    assert console.call("POST", f"{calls}/signal", signal).status_code == 409
    assert console.call("POST", f"{calls}/hangup", {"reason": "hung_up"}).status_code == 200
    assert console.call("POST", f"{calls}/decline", {"reason": "declined"}).status_code == 409
    assert console.call("POST", f"/conversations/{mine}/calls/nope/hangup", {}).status_code == 404
    assert console.call("GET", f"/conversations/{mine}").json()["call"]["state"] == "ended"

    assert console.call("POST", f"/conversations/{mine}/transfer", {"team": "x"}).status_code == 422
    transfer = {"team": "technical", "reason": "a router"}
    assert console.call("POST", f"/conversations/{mine}/transfer", transfer).status_code == 200
    assert console.call("POST", f"/conversations/{mine}/accept").status_code == 200
    assert (
        console.call("POST", f"/conversations/{mine}/escalate", {"reason": "hard"}).status_code
        == 200
    )
    assert console.call("POST", f"/conversations/{mine}/accept").status_code == 200
    assert console.call("POST", f"/conversations/{mine}/resolve", {}).status_code == 200
    assert console.call("POST", f"/conversations/{mine}/accept").status_code == 409
    assert console.call("POST", f"/conversations/{mine}/resolve", {}).status_code == 409
    assert console.call("POST", f"/conversations/{guest}/accept").status_code == 200
    assert console.call("POST", f"/conversations/{guest}/return-to-bot", {}).status_code == 200
    desk.assign_elsewhere(other)
    assert console.call("POST", f"/conversations/{other}/accept").status_code == 409

    # A write without the CSRF token, then signing out.
    console.csrf = "forged"
    assert console.call("POST", f"/conversations/{other}/notes", {"text": "x"}).status_code == 403
    console.csrf = desk.csrf_tokens()[0]
    assert console.call("POST", "/logout").status_code == 204

    assert desk.answers_off_the_document() == []
    # Every operation the fake implements was answered at least once.
    answered = {(e.method, _documented_path(e.path)) for e in desk.exchanges()}
    implemented = {
        (route.method, _documented_path(route.resource.canonical[len(API) :]))
        for route in _api_routes(desk)
    }
    assert implemented - answered == set()
    assert answered <= _documented_operations()


def test_with_calls_off_the_call_routes_refuse_as_the_real_desk_does(password: str) -> None:
    desk = FakeDesk(password=password)
    try:
        desk.add(conversation("c-1", reference="BW-1"))
        console = Console(desk.url)
        console.sign_in(password)
        assert console.call("GET", "/me").json()["calls"] == {"provider": None}
        invite = {"media": "video", "connection_id": CONNECTION}
        answer = console.call("POST", "/conversations/c-1/calls", invite)
        assert (answer.status_code, answer.json()["code"]) == (403, "calls_disabled")
        assert desk.answers_off_the_document() == []
    finally:
        desk.close()


def test_the_check_finds_a_field_the_fake_leaves_out_or_gets_wrong() -> None:
    summary = conversation("c-1", reference="BW-1")
    detail = {**summary, "last_message": None, "call": None}
    del detail["customer"]["tier"]
    detail["ticket"]["priority"] = "urgent"
    found = problems(
        [
            Exchange("GET", "/conversations/c-1", 200, "application/json", json.dumps(detail)),
            Exchange("GET", "/queue", 418, "application/json", "{}"),
            Exchange("GET", "/nowhere", 200, "application/json", "{}"),
            Exchange("POST", "/logout", 204, "application/json", '{"ok": true}'),
        ]
    )
    assert any(
        "customer" in problem and "'tier' is a required property" in problem for problem in found
    )
    assert any("ticket/priority" in problem and "'urgent'" in problem for problem in found)
    assert any("GET /desk/api/queue → 418" in problem for problem in found)
    assert any("/nowhere" in problem and "no such operation" in problem for problem in found)
    assert any("POST /desk/api/logout → 204: a body" in problem for problem in found)
    assert len(found) == 5, found


def _api_routes(desk: FakeDesk) -> list:
    return [
        route
        for route in desk.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(API)
        and route.method != "HEAD"
        and route.resource.canonical != f"{API}/live"  # the socket: no JSON answer
    ]


def _documented_path(path: str) -> str:
    """A fake's path (or its route) as the document writes it: /conversations/{conversation_id}."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "conversations":
        parts[2] = "{conversation_id}"
    if len(parts) > 4 and parts[3] == "calls":
        parts[4] = "{call_id}"
    return "/".join(parts)
