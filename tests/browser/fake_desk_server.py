"""A fake agent desk: a test double for the console's browser tests only.

It implements the HTTP API and the live WebSocket of docs/desk.md in memory, with
the same cookie, CSRF and error rules, and serves the console's page, style and modules
at the paths the real desk uses (/desk/, /desk/assets/console.css,
/desk/assets/console/<module>.js), so the console cannot tell the difference. It knows
nothing of routing, SLAs or the bot: tests put conversations in, push live events and read
back what the console did.

Tests drive it from their own thread through `FakeDesk` methods, which run on the
server's event loop; `POST /test/push` does the same over HTTP for a person trying
the console by hand.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Sequence, TypeVar

from aiohttp import WSMsgType, web

from tests.browser.desk_contract import Exchange, problems
from tests.browser.fake_webchat_server import _Runner

if TYPE_CHECKING:
    from tests.browser.fake_calls import FakeCalls

WEB_DIR = Path(__file__).resolve().parents[2] / "bot" / "web"
API = "/desk/api"
COOKIE = "baton_desk"
CSRF_HEADER = "X-CSRF-Token"
ASSETS = {"console.css": "text/css"}
# The policy connectors/desk.py sends with the page: Chromium enforces it here too, so an
# inline script or style in the console fails these tests as it would fail in production.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

TEAMS = [
    {"key": "billing", "name": "Billing & Payments"},
    {"key": "technical", "name": "Technical Support"},
    {"key": "care_managers", "name": "Care Managers"},
]
TEAM_NAMES = {team["key"]: team["name"] for team in TEAMS}
TIERS = ["agent", "specialist", "supervisor"]
# How long an offer of a conversation waits for this agent (the real desk's offer timeout).
OFFER_TIME = dt.timedelta(seconds=30)

T = TypeVar("T")


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def message(
    sender: str,
    text: str,
    *,
    at: dt.datetime | None = None,
    agent: Dict[str, Any] | None = None,
    sentiment: str | None = None,
    cues: Sequence[str] = (),
) -> Dict[str, Any]:
    """A Message of docs/desk.md; `cues` make the message frustrated."""
    scores = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}
    return {
        # The channel's id of the message, by which a console shows it once.
        "id": secrets.token_hex(8),
        "sender": sender,
        "text": text,
        "at": iso(at or now()),
        "agent": agent,
        "intent": None,
        "sentiment": (
            {
                "compound": scores.get(sentiment, 0.0),
                "label": sentiment,
                "frustrated": bool(cues),
                "cues": list(cues),
            }
            if sentiment
            else None
        ),
    }


def conversation(
    conversation_id: str,
    *,
    reference: str,
    customer_name: str | None = "Jane Doe",
    verified: bool = True,
    customer_tier: str | None = "consumer",
    priority: str = "P3",
    team: str = "billing",
    category: str | None = "billing",
    level: int = 0,
    waiting_minutes: float = 5,
    first_response_in_minutes: float = 25,
    resolution_in_minutes: float = 240,
    offered_to_me: bool = False,
    transcript: List[Dict[str, Any]] | None = None,
    details: Dict[str, Any] | None = None,
    reasons: List[Dict[str, Any]] | None = None,
) -> Dict[str, Any]:
    """A queued conversation in the Detail shape of docs/desk.md.

    As the real desk: a guest (`verified=False`) has no tier nor customer id, null, whatever
    `customer_tier` says.
    """
    started = now() - dt.timedelta(minutes=waiting_minutes)
    tier = customer_tier if verified else None
    customer_id = "C-1001" if verified else None
    transcript = (
        transcript
        if transcript is not None
        else [
            message("customer", "I was charged twice", at=started, sentiment="negative"),
            message("bot", "Let me get someone from our team.", at=started),
        ]
    )
    return {
        "conversation_id": conversation_id,
        "state": "queued",
        "customer": {
            "name": customer_name,
            "verified": verified,
            "tier": tier,
            "customer_id": customer_id,
        },
        "ticket": {
            "reference": reference,
            "status": "open",
            "priority": priority,
            "team": team,
            "team_name": TEAM_NAMES[team],
            "level": level,
            "tier": TIERS[min(level, len(TIERS) - 1)],
            "category": category,
            "language": "en",
            "first_response_due": iso(now() + dt.timedelta(minutes=first_response_in_minutes)),
            "resolution_due": iso(now() + dt.timedelta(minutes=resolution_in_minutes)),
            "first_response_at": None,
            "resolved_at": None,
            "created_at": iso(started),
            "assigned_agent": None,
            "reasons": reasons
            if reasons is not None
            else [{"type": "functional", "code": "category", "text": "Billing question"}],
        },
        "waiting_since": iso(started),
        "offered_to_me": offered_to_me,
        "offer_expires_at": iso(now() + OFFER_TIME) if offered_to_me else None,
        "context": {
            "version": 1,
            "customer": {
                "verified": verified,
                "customer_id": customer_id,
                "name": customer_name,
                "tier": tier,
            },
            "reason": "customer_request",
            "details": details if details is not None else {"case_category": category},
        },
        "transcript": transcript,
        "history": [
            {
                "at": iso(started),
                "actor": "bot",
                "action": "opened",
                "from": None,
                "to": "open",
                "reason": "customer asked for a person",
                "type": "customer_initiated",
            }
        ],
        "notes": [],
    }


@dataclass
class Request:
    """One API request the console made (the test-only routes are not recorded)."""

    method: str
    path: str
    csrf: str | None
    body: Any


@dataclass
class FakeDeskState:
    """Everything the fake knows; changed only on the server's event loop."""

    password: str
    agent: Dict[str, Any] = field(
        default_factory=lambda: {
            "id": 7,
            "email": "sam@example.com",
            "name": "Sam Agent",
            "role": "agent",
            "status": "online",
            "capacity": 3,
            "languages": ["en"],
            "teams": ["billing"],
            "active_chats": 0,
        }
    )
    sessions: Dict[str, str] = field(default_factory=dict)  # cookie value -> CSRF token
    conversations: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    requests: List[Request] = field(default_factory=list)
    sockets: List[web.WebSocketResponse] = field(default_factory=list)
    socket_opens: int = 0
    connection_ids: Dict[int, str] = field(default_factory=dict)  # id(ws) -> its `hello` id
    calls: FakeCalls | None = None  # set by tests.browser.fake_calls.CallFakes
    # Every answer of the API, checked against the desk's OpenAPI document when it closes.
    exchanges: List[Exchange] = field(default_factory=list)

    def summary(self, conv: Dict[str, Any]) -> Dict[str, Any]:
        """A queue entry: as the real desk's queue, with no last message."""
        keys = ("conversation_id", "state", "customer", "ticket", "waiting_since")
        return {
            **{k: conv[k] for k in keys},
            "last_message": None,
            "offered_to_me": conv["offered_to_me"],
            "offer_expires_at": conv["offer_expires_at"] if conv["offered_to_me"] else None,
        }

    def detail(self, conv: Dict[str, Any]) -> Dict[str, Any]:
        """The Detail of docs/desk.md: the summary, its last message, and the live call."""
        transcript = conv["transcript"]
        call = self.calls.detail_call(conv["conversation_id"]) if self.calls else None
        return {
            **conv,
            **self.summary(conv),
            "last_message": transcript[-1] if transcript else None,
            "call": call,
        }

    def queue(self) -> List[Dict[str, Any]]:
        """Open conversations ordered as docs/desk.md says: priority, SLA deadline, age."""
        open_ = [c for c in self.conversations.values() if c["state"] in ("queued", "with_agent")]
        open_.sort(
            key=lambda c: (
                c["ticket"]["priority"],
                c["ticket"]["first_response_due"],
                c["waiting_since"],
            )
        )
        return [self.summary(c) for c in open_]

    async def push(self, event: Dict[str, Any]) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(event))


def _error(status: int, text: str, code: str | None = None) -> web.Response:
    body = {"error": text, **({"code": code} if code else {})}
    return web.json_response(body, status=status)


def create_app(state: FakeDeskState) -> web.Application:
    """The aiohttp app: console files, the desk API and the live socket."""

    def session(request: web.Request) -> str | None:
        cookie = request.cookies.get(COOKIE)
        return cookie if cookie in state.sessions else None

    @web.middleware
    async def record_answers(request: web.Request, handler: Callable) -> web.StreamResponse:
        """Keep every answer of the API (not the live socket's) for the OpenAPI check."""
        if not request.path.startswith(API):
            return await handler(request)
        answer: web.StreamResponse | None = None
        try:
            answer = await handler(request)
            return answer
        except web.HTTPException as refused:  # an aiohttp Response too
            answer = refused
            raise
        finally:
            if isinstance(answer, web.Response):  # not the live socket
                body = answer.body
                state.exchanges.append(
                    Exchange(
                        method=request.method,
                        path=request.path[len(API) :],
                        status=answer.status,
                        content_type=answer.content_type,
                        body=body.decode() if isinstance(body, bytes) else (answer.text or ""),
                    )
                )

    @web.middleware
    async def desk_rules(request: web.Request, handler: Callable) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API):
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "the body is not JSON")
        state.requests.append(
            Request(request.method, path[len(API) :], request.headers.get(CSRF_HEADER), body)
        )
        request["body"] = body if body is not None else {}
        if path == f"{API}/login":
            return await handler(request)
        cookie = session(request)
        if cookie is None:
            return _error(401, "not signed in")
        if (
            request.method in ("POST", "PUT", "DELETE")
            and request.headers.get(CSRF_HEADER) != state.sessions[cookie]
        ):
            return _error(403, "missing or wrong CSRF token")
        request["cookie"] = cookie
        return await handler(request)

    app = web.Application(middlewares=[record_answers, desk_rules])

    def me(request: web.Request) -> Dict[str, Any]:
        provider = state.calls.provider if state.calls is not None else None
        return {
            "agent": state.agent,
            "csrf_token": state.sessions[request["cookie"]],
            "calls": {"provider": provider},
        }

    async def console(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            WEB_DIR / "console.html", headers={"Content-Security-Policy": CONSOLE_CSP}
        )

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(WEB_DIR / name, headers={"Content-Type": ASSETS[name]})

    async def console_module(request: web.Request) -> web.StreamResponse:
        # The console's ES modules, as the real desk serves them (plain names only).
        name = request.match_info["name"]
        path = WEB_DIR / "console" / name
        if not re.fullmatch(r"[a-z][a-z0-9_-]*\.js", name) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "application/javascript"})

    async def login(request: web.Request) -> web.Response:
        body = request["body"]
        if body.get("email") != state.agent["email"] or body.get("password") != state.password:
            return _error(401, "wrong email or password")
        cookie, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        state.sessions[cookie] = csrf
        provider = state.calls.provider if state.calls is not None else None
        response = web.json_response(
            {"agent": state.agent, "csrf_token": csrf, "calls": {"provider": provider}}
        )
        response.set_cookie(COOKIE, cookie, path="/desk", httponly=True, samesite="Strict")
        return response

    async def logout(request: web.Request) -> web.Response:
        state.sessions.pop(request["cookie"], None)
        response = web.Response(status=204)
        response.del_cookie(COOKIE, path="/desk")
        return response

    async def get_me(request: web.Request) -> web.Response:
        return web.json_response(me(request))

    async def put_status(request: web.Request) -> web.Response:
        status = request["body"].get("status")
        if status not in ("online", "away", "offline"):
            return _error(422, "status must be online, away or offline")
        state.agent["status"] = status
        return web.json_response({"agent": state.agent})

    async def teams(request: web.Request) -> web.Response:
        return web.json_response({"teams": TEAMS})

    async def queue(request: web.Request) -> web.Response:
        return web.json_response({"conversations": state.queue()})

    def find(request: web.Request) -> Dict[str, Any]:
        conv = state.conversations.get(request.match_info["id"])
        if conv is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such conversation"}), content_type="application/json"
            )
        return conv

    def mine(conv: Dict[str, Any]) -> bool:
        assigned = conv["ticket"]["assigned_agent"]
        return (
            conv["state"] == "with_agent" and bool(assigned) and assigned["id"] == state.agent["id"]
        )

    def record(conv: Dict[str, Any], action: str, to: str, reason: str | None, kind: str | None):
        conv["history"].append(
            {
                "at": iso(now()),
                "actor": f"agent:{state.agent['id']}",
                "action": action,
                "from": conv["state"],
                "to": to,
                "reason": reason,
                "type": kind,
            }
        )

    async def changed(conv: Dict[str, Any]) -> None:
        await state.push({"type": "queue_changed"})
        await state.push(
            {
                "type": "conversation_changed",
                "conversation_id": conv["conversation_id"],
                "state": conv["state"],
            }
        )

    async def detail(request: web.Request) -> web.Response:
        return web.json_response(state.detail(find(request)))

    async def accept(request: web.Request) -> web.Response:
        conv = find(request)
        if conv["state"] == "resolved":
            return _error(409, "already resolved")
        if conv["state"] == "with_agent" and not mine(conv):
            return _error(409, "taken by another agent")
        record(conv, "accepted", "with_agent", None, None)
        conv["state"] = "with_agent"
        conv["offered_to_me"] = False
        conv["ticket"]["status"] = "assigned"
        conv["ticket"]["assigned_agent"] = {"id": state.agent["id"], "name": state.agent["name"]}
        await changed(conv)
        return web.json_response(state.detail(conv))

    async def post_message(request: web.Request) -> web.Response:
        conv = find(request)
        text = request["body"].get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(422, "text must not be empty")
        if not mine(conv):
            return _error(409, "not with you")
        sent = message("agent", text, agent={"id": state.agent["id"], "name": state.agent["name"]})
        conv["transcript"].append(sent)
        if conv["ticket"]["first_response_at"] is None:
            conv["ticket"]["first_response_at"] = sent["at"]
        await state.push(
            {"type": "message", "conversation_id": conv["conversation_id"], "message": sent}
        )
        return web.json_response({"message": sent}, status=201)

    async def typing(request: web.Request) -> web.Response:
        find(request)
        return web.Response(status=204)

    async def note(request: web.Request) -> web.Response:
        conv = find(request)
        text = request["body"].get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(422, "text must not be empty")
        added = {
            "at": iso(now()),
            "agent": {"id": state.agent["id"], "name": state.agent["name"]},
            "text": text,
        }
        conv["notes"].append(added)
        return web.json_response({"note": added}, status=201)

    # A refusal, or None. Compare with None: an aiohttp Response is a mapping, and falsy.
    def open_(conv: Dict[str, Any]) -> web.Response | None:
        if conv["state"] not in ("queued", "with_agent"):
            return _error(409, f"the conversation is {conv['state']}")
        if conv["state"] == "with_agent" and not mine(conv):
            return _error(409, "not with you")
        return None

    async def transfer(request: web.Request) -> web.Response:
        conv = find(request)
        team, reason = request["body"].get("team"), request["body"].get("reason")
        if team not in TEAM_NAMES:
            return _error(422, f"unknown team {team!r}")
        refused = open_(conv)
        if refused is not None:
            return refused
        record(conv, "transferred", "queued", reason, "functional")
        conv["state"] = "queued"
        conv["ticket"].update(
            status="open", team=team, team_name=TEAM_NAMES[team], assigned_agent=None
        )
        await changed(conv)
        return web.json_response(state.detail(conv))

    async def escalate(request: web.Request) -> web.Response:
        conv = find(request)
        refused = open_(conv)
        if refused is not None:
            return refused
        record(conv, "escalated", "queued", request["body"].get("reason"), "hierarchical")
        level = conv["ticket"]["level"] + 1
        conv["state"] = "queued"
        conv["ticket"].update(
            status="open",
            level=level,
            tier=TIERS[min(level, len(TIERS) - 1)],
            assigned_agent=None,
        )
        await changed(conv)
        return web.json_response(state.detail(conv))

    def closing(action: str, to_state: str, ticket_status: str) -> Callable:
        async def handler(request: web.Request) -> web.Response:
            conv = find(request)
            refused = open_(conv)
            if refused is not None:
                return refused
            record(conv, action, to_state, request["body"].get("reason"), None)
            conv["state"] = to_state
            conv["ticket"]["status"] = ticket_status
            if ticket_status == "resolved":
                conv["ticket"]["resolved_at"] = iso(now())
            await changed(conv)
            return web.json_response(state.detail(conv))

        return handler

    async def live(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection_id = secrets.token_hex(16)
        state.connection_ids[id(ws)] = connection_id
        await ws.send_str(json.dumps({"type": "hello", "connection_id": connection_id}))
        state.sockets.append(ws)
        state.socket_opens += 1
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and json.loads(msg.data).get("type") == "ping":
                    await ws.send_str(json.dumps({"type": "pong"}))
        finally:
            if ws in state.sockets:
                state.sockets.remove(ws)
            state.connection_ids.pop(id(ws), None)
            if state.calls is not None:
                await state.calls.console_closed(connection_id)
        return ws

    def call_route(use: Callable) -> Callable:
        """A call endpoint of docs/calls.md 3.3.2: refusals become `{"error", "code"}`."""

        async def handler(request: web.Request) -> web.Response:
            from tests.browser.fake_calls import Refused

            if state.calls is None:
                return _error(403, "Calls are turned off here.", "calls_disabled")
            try:
                return await use(request, state.calls)
            except Refused as refused:
                return _error(refused.status, refused.message, refused.code)

        return handler

    async def call_invite(request: web.Request, calls: FakeCalls) -> web.Response:
        call = await calls.agent_invite(request.match_info["id"], request["body"])
        return web.json_response({"call": calls.call_json(call)}, status=201)

    async def call_accept(request: web.Request, calls: FakeCalls) -> web.Response:
        info = request.match_info
        call = await calls.agent_accept(info["id"], info["call_id"], request["body"])
        return web.json_response({"call": calls.call_json(call)})

    async def call_decline(request: web.Request, calls: FakeCalls) -> web.Response:
        info = request.match_info
        call = await calls.agent_decline(info["id"], info["call_id"], request["body"])
        return web.json_response({"call": calls.call_json(call)})

    async def call_signal(request: web.Request, calls: FakeCalls) -> web.Response:
        info = request.match_info
        await calls.agent_signal(info["id"], info["call_id"], request["body"])
        return web.Response(status=204)

    async def call_hangup(request: web.Request, calls: FakeCalls) -> web.Response:
        info = request.match_info
        call = await calls.agent_hangup(info["id"], info["call_id"], request["body"])
        return web.json_response({"call": calls.call_json(call)})

    async def test_push(request: web.Request) -> web.Response:
        await state.push(await request.json())
        return web.Response(status=204)

    conv_path = API + "/conversations/{id}"
    app.router.add_get("/desk/", console)
    app.router.add_get("/desk/assets/{name}", asset)
    app.router.add_get("/desk/assets/console/{name}", console_module)
    app.router.add_post(f"{API}/login", login)
    app.router.add_post(f"{API}/logout", logout)
    app.router.add_get(f"{API}/me", get_me)
    app.router.add_put(f"{API}/me/status", put_status)
    app.router.add_get(f"{API}/teams", teams)
    app.router.add_get(f"{API}/queue", queue)
    app.router.add_get(f"{API}/live", live)  # the cookie authenticates it
    app.router.add_get(conv_path, detail)
    app.router.add_post(f"{conv_path}/accept", accept)
    app.router.add_post(f"{conv_path}/messages", post_message)
    app.router.add_post(f"{conv_path}/typing", typing)
    app.router.add_post(f"{conv_path}/notes", note)
    app.router.add_post(f"{conv_path}/transfer", transfer)
    app.router.add_post(f"{conv_path}/escalate", escalate)
    app.router.add_post(f"{conv_path}/resolve", closing("resolved", "resolved", "resolved"))
    app.router.add_post(f"{conv_path}/return-to-bot", closing("returned", "bot", "closed"))
    app.router.add_post(f"{conv_path}/calls", call_route(call_invite))
    call_path = conv_path + "/calls/{call_id}"
    app.router.add_post(f"{call_path}/accept", call_route(call_accept))
    app.router.add_post(f"{call_path}/decline", call_route(call_decline))
    app.router.add_post(f"{call_path}/signal", call_route(call_signal))
    app.router.add_post(f"{call_path}/hangup", call_route(call_hangup))
    app.router.add_post("/test/push", test_push)
    return app


class FakeDesk:
    """A running fake desk and the test's handle on it."""

    def __init__(self, password: str, runner: _Runner | None = None) -> None:
        # A shared runner (tests.browser.fake_calls) belongs to its owner, who closes it.
        self._owns_runner = runner is None
        self._runner = runner or _Runner()
        self.state = FakeDeskState(password=password)
        self.app = create_app(self.state)
        self.url = self._runner.serve(self.app)

    @property
    def console_url(self) -> str:
        return f"{self.url}/desk/"

    def _on_loop(self, fn: Callable[[], T]) -> T:
        async def _run() -> T:
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
            return result  # type: ignore[return-value]

        return asyncio.run_coroutine_threadsafe(_run(), self._runner.loop).result(timeout=5)

    # --- what tests set up ---------------------------------------------------------------
    def add(self, conv: Dict[str, Any], notify: bool = False) -> None:
        """Put a conversation in; with `notify`, tell the consoles the queue changed."""

        async def _add() -> None:
            self.state.conversations[conv["conversation_id"]] = conv
            if notify:
                await self.state.push({"type": "queue_changed"})

        self._on_loop(_add)

    def push(self, event: Dict[str, Any]) -> None:
        """Send one live event to every open console socket."""
        self._on_loop(lambda: self.state.push(event))

    def customer_says(
        self, conversation_id: str, text: str, sentiment: str | None = None
    ) -> Dict[str, Any]:
        """Add a customer message to the transcript and push it as a `message` event."""
        said = message("customer", text, sentiment=sentiment)

        async def _say() -> None:
            self.state.conversations[conversation_id]["transcript"].append(said)
            await self.state.push(
                {"type": "message", "conversation_id": conversation_id, "message": said}
            )

        self._on_loop(_say)
        return said

    def assign_elsewhere(self, conversation_id: str, name: str = "Alex Other") -> None:
        """Another agent takes the conversation, and nobody tells this console."""

        def _assign() -> None:
            conv = self.state.conversations[conversation_id]
            conv["state"] = "with_agent"
            conv["ticket"].update(status="assigned", assigned_agent={"id": 99, "name": name})

        self._on_loop(_assign)

    def drop_sockets(self) -> None:
        """Close every live socket, as a server restart would."""

        async def _drop() -> None:
            for ws in list(self.state.sockets):
                await ws.close()

        self._on_loop(_drop)

    # --- what tests read back ------------------------------------------------------------
    def conversation(self, conversation_id: str) -> Dict[str, Any]:
        return self._on_loop(lambda: copy.deepcopy(self.state.conversations[conversation_id]))

    def requests(self, method: str | None = None, path: str | None = None) -> List[Request]:
        """API requests made so far, oldest first, optionally only one method and path."""
        return self._on_loop(
            lambda: [
                r
                for r in self.state.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]
        )

    def csrf_tokens(self) -> List[str]:
        return self._on_loop(lambda: list(self.state.sessions.values()))

    def open_sockets(self) -> int:
        return self._on_loop(lambda: len(self.state.sockets))

    def exchanges(self) -> List[Exchange]:
        """Every answer of the API so far, oldest first."""
        return self._on_loop(lambda: list(self.state.exchanges))

    def answers_off_the_document(self) -> List[str]:
        """What the API answered that the real desk's OpenAPI document does not allow."""
        return problems(self.exchanges())

    def close(self) -> None:
        """Stop (when the runner is this fake's own), then fail if it answered off the document."""
        found = self.answers_off_the_document()
        if self._owns_runner:
            self._runner.close()
        assert not found, "The fake desk answered what the real one would not:\n" + "\n".join(found)
