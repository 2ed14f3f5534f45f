"""The call signalling of docs/calls.md, in memory: a test double for the browser tests only.

`FakeCalls` relays the signals of section 3 between the widgets of the fake webchat server
and the consoles of the fake desk, with the state machine of section 2.2 (no deadlines), so
a console page and a widget page in one test can set up a real WebRTC call between them.
It runs on the event loop the two fakes share (`CallFakes` starts them so); the fakes call
its `customer_*` and `agent_*` coroutines, tests read `calls` and `signals` back.

Simplifications against the real server: one agent (the fake desk's), one linked
conversation whose customer is every connected widget socket, no rate limits or timers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Tuple

if TYPE_CHECKING:
    from tests.browser.fake_desk_server import FakeDesk, FakeDeskState
    from tests.browser.fake_webchat_server import FakeServers, FakeWebchatServer

CALL_EVENT = "baton_call"
LIVE = ("requested", "inviting", "connecting", "active")
DECLINE_REASONS = ("declined", "permission_denied", "no_device", "unsupported")
CUSTOMER_HANGUP_REASONS = ("hung_up", "media_failed", "permission_denied", "no_device")
AGENT_HANGUP_REASONS = ("hung_up", "media_failed", "agent_disconnected")
LABELS = {"video": "Video call", "screen": "Screen sharing"}
RING_SECONDS = 30
JITSI_DOMAIN = "meet.example.com"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


class Refused(Exception):
    """A signal the server refuses (section 3.5)."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


@dataclass
class FakeCall:
    """One call, as a row of the `calls` table holds it."""

    id: str
    conversation_id: str
    media: str
    provider: str
    state: str
    started_by: str  # "agent" | "customer"
    customer_sid: str | None = None
    connection_id: str | None = None
    room: str | None = None
    created_at: dt.datetime = field(default_factory=_now)
    expires_at: dt.datetime | None = None
    connected_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    ended_by: str | None = None  # "agent" | "customer" | "system"
    offer_relayed: bool = False
    answered: bool = False

    def duration(self) -> int | None:
        if self.connected_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.connected_at).total_seconds())


@dataclass
class FakeCalls:
    """The call service and both channels' call handling of the fake servers."""

    provider: str | None = "webrtc"  # "webrtc" | "jitsi" | None (calls off)
    rtc: Dict[str, Any] = field(
        default_factory=lambda: {"iceServers": [], "iceTransportPolicy": "all"}
    )
    web: FakeWebchatServer | None = None
    desk: FakeDeskState | None = None
    conversation_id: str | None = None  # the desk conversation the widgets belong to
    calls: List[FakeCall] = field(default_factory=list)
    # Every signal either side sent, in order: (side, payload); SDP and candidates included.
    signals: List[Tuple[str, Dict[str, Any]]] = field(default_factory=list)

    # --- lookups ------------------------------------------------------------------------
    def live(self) -> FakeCall | None:
        return next((c for c in self.calls if c.state in LIVE), None)

    def find(self, call_id: Any, conversation_id: str | None = None) -> FakeCall:
        call = next((c for c in self.calls if c.id == call_id), None)
        if call is None or (
            conversation_id is not None and call.conversation_id != conversation_id
        ):
            raise Refused("no_such_call", 404, "There is no such call.")
        return call

    def _conversation(self) -> Dict[str, Any]:
        assert self.desk is not None and self.conversation_id is not None
        return self.desk.conversations[self.conversation_id]

    def with_agent(self) -> bool:
        if self.provider is None or self.desk is None or self.conversation_id is None:
            return False
        conv = self._conversation()
        assigned = conv["ticket"]["assigned_agent"]
        return conv["state"] == "with_agent" and bool(assigned)

    def call_json(self, call: FakeCall) -> Dict[str, Any]:
        """The Call object of section 3.3.1."""
        agent = self.desk.agent if self.desk else {"id": 0, "name": "Agent"}
        return {
            "id": call.id,
            "conversation_id": call.conversation_id,
            "media": call.media,
            "provider": call.provider,
            "state": call.state,
            "started_by": call.started_by,
            "agent": {"id": agent["id"], "name": agent["name"]},
            "connection_id": call.connection_id,
            "created_at": _iso(call.created_at),
            "expires_at": _iso(call.expires_at),
            "answered_at": None,
            "connected_at": _iso(call.connected_at),
            "ended_at": _iso(call.ended_at),
            "end_reason": call.end_reason,
            "ended_by": call.ended_by,
            "duration_seconds": call.duration(),
            "join_url": self._join_url(call, "agent") if call.state == "active" else None,
        }

    def detail_call(self, conversation_id: str) -> Dict[str, Any] | None:
        """The Detail's `call`: the live call, or the latest if it ended under 60 s ago."""
        mine = [c for c in self.calls if c.conversation_id == conversation_id]
        if not mine:
            return None
        last = mine[-1]
        if last.state != "ended" or (_now() - (last.ended_at or _now())).total_seconds() < 60:
            return self.call_json(last)
        return None

    def _join_url(self, call: FakeCall, role: str) -> str | None:
        if call.provider != "jitsi" or call.room is None:
            return None
        name = self.desk.agent["name"] if (self.desk and role == "agent") else "Customer"
        return f"https://{JITSI_DOMAIN}/{call.room}#userInfo.displayName=%22{name}%22"

    # --- deliveries ---------------------------------------------------------------------
    async def to_customer(
        self, signal: Dict[str, Any], sid: str | None = None, skip_sid: str | None = None
    ) -> None:
        assert self.web is not None and self.web.sio is not None
        targets = [sid] if sid else [s for s in list(self.web.connected) if s != skip_sid]
        for target in targets:
            await self.web.sio.emit(CALL_EVENT, signal, room=target)

    async def to_agent(self, call: FakeCall, signal: Dict[str, Any]) -> None:
        assert self.desk is not None
        await self.desk.push(
            {
                "type": "call_signal",
                "conversation_id": call.conversation_id,
                "connection_id": call.connection_id,
                "signal": signal,
            }
        )

    async def _history(self, call: FakeCall, action: str, actor: str, to: Any, reason: Any) -> None:
        assert self.desk is not None
        conv = self.desk.conversations[call.conversation_id]
        conv["history"].append(
            {
                "at": _iso(_now()),
                "actor": actor,
                "action": action,
                "from": call.id,
                "to": to,
                "reason": reason,
                "type": None,
            }
        )
        await self.desk.push(
            {
                "type": "conversation_changed",
                "conversation_id": call.conversation_id,
                "state": conv["state"],
            }
        )

    async def _notice(self, call: FakeCall, event: str) -> None:
        """The transcript line of section 1.3.3, to the widgets and the consoles."""
        assert self.desk is not None
        label = LABELS[call.media]
        if event == "started":
            text = f"{label} started"
        elif call.connected_at is not None:
            text = f"{label} ended after {call.duration()} s"
        elif call.end_reason == "declined":
            text = f"{label} declined"
        elif call.end_reason == "permission_denied":
            text = f"{label} could not start: access was blocked in the browser"
        elif call.end_reason in ("cancelled", "conversation_closed", "agent_changed"):
            text = f"{label} cancelled"
        else:
            text = f"{label} could not connect"
        notice = {
            "id": call.id,
            "event": event,
            "media": call.media,
            "provider": call.provider,
            "started_by": call.started_by,
            "agent": {"id": self.desk.agent["id"], "name": self.desk.agent["name"]},
            "duration_seconds": call.duration(),
            "end_reason": call.end_reason,
        }
        assert self.web is not None and self.web.sio is not None
        for sid in list(self.web.connected):
            await self.web.sio.emit(
                "bot_uttered",
                {
                    "text": text,
                    "message_id": secrets.token_hex(16),
                    "baton": {"notice": "call", "call": notice},
                },
                room=sid,
            )
        line = {
            "id": secrets.token_hex(8),
            "sender": "system",
            "text": text,
            "at": _iso(_now()),
            "agent": None,
            "intent": None,
            "sentiment": None,
            "call": notice,
        }
        self.desk.conversations[call.conversation_id]["transcript"].append(line)
        await self.desk.push(
            {"type": "message", "conversation_id": call.conversation_id, "message": line}
        )

    def _rtc(self, call: FakeCall, role: str) -> Dict[str, Any]:
        return {
            "type": "connecting",
            "call_id": call.id,
            "media": call.media,
            "provider": "webrtc",
            "role": role,
            "rtc": self.rtc,
        }

    async def _connect(self, call: FakeCall) -> None:
        """Consent given: connecting (webrtc) or straight to active (jitsi)."""
        if call.provider == "jitsi":
            call.room = f"baton-{secrets.token_hex(16)}"
            await self._activate(call)
            return
        call.state = "connecting"
        await self.to_customer(self._rtc(call, "answerer"), sid=call.customer_sid)
        await self.to_agent(call, self._rtc(call, "offerer"))

    async def _activate(self, call: FakeCall) -> None:
        call.state = "active"
        call.connected_at = _now()
        call.expires_at = None
        active = {
            "type": "active",
            "call_id": call.id,
            "media": call.media,
            "provider": call.provider,
            "connected_at": _iso(call.connected_at),
        }
        if call.provider == "jitsi":
            await self.to_customer({**active, "join_url": self._join_url(call, "customer")})
            await self.to_agent(call, {**active, "join_url": self._join_url(call, "agent")})
        else:
            await self.to_customer(active, sid=call.customer_sid)
            await self.to_agent(call, active)
        await self._history(call, "call_started", self._starter(call), call.media, call.provider)
        await self._notice(call, "started")

    def _starter(self, call: FakeCall) -> str:
        assert self.desk is not None
        return "customer" if call.started_by == "customer" else f"agent:{self.desk.agent['id']}"

    async def end(self, call: FakeCall, reason: str, by: str) -> None:
        """End a live call: `by` is "agent", "customer" or "system"."""
        assert self.desk is not None
        call.state = "ended"
        call.ended_at = _now()
        call.expires_at = None
        call.end_reason = reason
        call.ended_by = by
        ended = {
            "type": "ended",
            "call_id": call.id,
            "reason": reason,
            "by": by,
            "duration_seconds": call.duration(),
        }
        await self.to_customer(ended)
        await self.to_agent(call, ended)
        actor = {"agent": f"agent:{self.desk.agent['id']}", "customer": "customer"}.get(by, "desk")
        duration = call.duration()
        await self._history(
            call, "call_ended", actor, None if duration is None else str(duration), reason
        )
        await self._notice(call, "ended")

    # --- the customer's side (socket.io `baton_call`) ----------------------------------
    async def customer_signal(self, sid: str, data: Any) -> None:
        self.signals.append(("customer", data if isinstance(data, dict) else {"raw": data}))
        kind = data.get("type") if isinstance(data, dict) else None
        try:
            await self._customer(sid, kind, data)
        except Refused as refused:
            await self.to_customer(
                {
                    "type": "error",
                    "call_id": data.get("call_id") if isinstance(data, dict) else None,
                    "code": refused.code,
                    "message": refused.message,
                    "in_reply_to": kind,
                },
                sid=sid,
            )

    async def _customer(self, sid: str, kind: Any, data: Dict[str, Any]) -> None:
        if self.provider is None:
            raise Refused("calls_disabled", 403, "Calls are off.")
        if kind == "request":
            if data.get("media") != "video":
                raise Refused("malformed_payload", 422, "Only video can be requested.")
            if not self.with_agent():
                raise Refused("not_allowed", 403, "No agent is with you.")
            if self.live():
                raise Refused("busy", 409, "A call is already open.")
            call = FakeCall(
                id=secrets.token_hex(16),
                conversation_id=self.conversation_id or "",
                media="video",
                provider=self.provider,
                state="requested",
                started_by="customer",
                customer_sid=sid,
                expires_at=_now() + dt.timedelta(seconds=RING_SECONDS),
            )
            self.calls.append(call)
            await self.to_customer(
                {
                    "type": "requested",
                    "call_id": call.id,
                    "media": "video",
                    "expires_at": _iso(call.expires_at),
                }
            )
            conv = self._conversation()
            await self.to_agent(
                call,
                {
                    "type": "requested",
                    "call_id": call.id,
                    "media": "video",
                    "expires_at": _iso(call.expires_at),
                    "customer_name": conv["customer"]["name"],
                },
            )
            await self._history(call, "call_offered", "customer", "video", call.provider)
            return
        if kind not in ("accept", "decline", "sdp", "ice", "connected", "hangup"):
            raise Refused("malformed_payload", 422, "Unknown signal.")
        call = self.find(data.get("call_id"), self.conversation_id)
        if call.state == "ended":
            if kind in ("accept", "decline"):
                raise Refused("invalid_state", 409, "The call has ended.")
            if kind == "hangup":
                await self.to_customer(
                    {
                        "type": "ended",
                        "call_id": call.id,
                        "reason": call.end_reason,
                        "by": call.ended_by,
                        "duration_seconds": call.duration(),
                    },
                    sid=sid,
                )
            return  # a late sdp, ice or connected: dropped
        if kind in ("sdp", "ice", "connected"):
            if call.customer_sid != sid:
                raise Refused("not_allowed", 403, "This call is not on this tab.")
            if call.provider != "webrtc" or call.state not in ("connecting", "active"):
                raise Refused("invalid_state", 409, "Not now.")
        if kind == "accept":
            if call.state != "inviting":
                raise Refused("invalid_state", 409, "Nothing to accept.")
            call.customer_sid = sid
            await self.to_customer({"type": "elsewhere", "call_id": call.id}, skip_sid=sid)
            await self._connect(call)
        elif kind == "decline":
            reason = data.get("reason")
            if call.state != "inviting" or reason not in DECLINE_REASONS:
                raise Refused("invalid_state", 409, "Nothing to decline.")
            await self.end(call, reason, "customer")
        elif kind == "sdp":
            description = data.get("description") or {}
            if call.state != "connecting" or not call.offer_relayed or call.answered:
                raise Refused("invalid_state", 409, "No answer expected.")
            if description.get("type") != "answer":
                raise Refused("malformed_payload", 422, "The customer only answers.")
            call.answered = True
            await self.to_agent(
                call, {"type": "sdp", "call_id": call.id, "description": description}
            )
        elif kind == "ice":
            await self.to_agent(
                call, {"type": "ice", "call_id": call.id, "candidate": data.get("candidate")}
            )
        elif kind == "connected":
            if call.state == "connecting":
                await self._activate(call)
        elif kind == "hangup":
            reason = data.get("reason", "hung_up")
            if reason not in CUSTOMER_HANGUP_REASONS:
                raise Refused("malformed_payload", 422, "Unknown reason.")
            if call.state in ("requested", "inviting"):
                starter = call.started_by == "customer"
                await self.end(call, "cancelled" if starter else "declined", "customer")
            else:
                await self.end(call, reason, "customer")

    async def customer_disconnected(self, sid: str) -> None:
        call = self.live()
        if call and call.provider == "webrtc" and call.customer_sid == sid:
            if call.state in ("requested", "connecting", "active"):
                await self.end(call, "customer_disconnected", "system")

    # --- the agent's side (REST) --------------------------------------------------------
    def _mine(self, conversation_id: str) -> None:
        assert self.desk is not None
        if self.provider is None:
            raise Refused("calls_disabled", 403, "Calls are off.")
        conv = self.desk.conversations.get(conversation_id)
        if conv is None:
            raise Refused("no_such_conversation", 404, "No such conversation.")
        assigned = conv["ticket"]["assigned_agent"]
        if conv["state"] != "with_agent" or not assigned or assigned["id"] != self.desk.agent["id"]:
            raise Refused("not_with_you", 409, "This conversation is not with you.")

    async def agent_invite(self, conversation_id: str, body: Dict[str, Any]) -> FakeCall:
        self.signals.append(("agent", {"type": "invite", **body}))
        self._mine(conversation_id)
        if body.get("media") not in ("video", "screen"):
            raise Refused("malformed_payload", 422, "media must be video or screen.")
        if self.live():
            raise Refused(
                "busy", 409, "Another call is already open in this conversation; end it first."
            )
        assert self.desk is not None and self.provider is not None
        call = FakeCall(
            id=secrets.token_hex(16),
            conversation_id=conversation_id,
            media=body["media"],
            provider=self.provider,
            state="inviting",
            started_by="agent",
            connection_id=body.get("connection_id"),
            expires_at=_now() + dt.timedelta(seconds=RING_SECONDS),
        )
        self.calls.append(call)
        await self.to_agent(
            call,
            {
                "type": "inviting",
                "call_id": call.id,
                "media": call.media,
                "provider": call.provider,
                "expires_at": _iso(call.expires_at),
            },
        )
        await self.to_customer(
            {
                "type": "invite",
                "call_id": call.id,
                "media": call.media,
                "provider": call.provider,
                "agent_name": self.desk.agent["name"],
                "expires_at": _iso(call.expires_at),
            }
        )
        await self._history(call, "call_offered", self._starter(call), call.media, call.provider)
        return call

    async def agent_accept(
        self, conversation_id: str, call_id: str, body: Dict[str, Any]
    ) -> FakeCall:
        self.signals.append(("agent", {"type": "accept", "call_id": call_id, **body}))
        self._mine(conversation_id)
        call = self.find(call_id, conversation_id)
        if call.state != "requested":
            raise Refused("invalid_state", 409, "Nothing to accept.")
        call.connection_id = body.get("connection_id")
        await self._connect(call)
        return call

    async def agent_decline(
        self, conversation_id: str, call_id: str, body: Dict[str, Any]
    ) -> FakeCall:
        self.signals.append(("agent", {"type": "decline", "call_id": call_id, **body}))
        call = self.find(call_id, conversation_id)
        reason = body.get("reason", "declined")
        if call.state != "requested" or reason not in DECLINE_REASONS:
            raise Refused("invalid_state", 409, "Nothing to decline.")
        await self.end(call, reason, "agent")
        return call

    async def agent_signal(self, conversation_id: str, call_id: str, body: Dict[str, Any]) -> None:
        self.signals.append(("agent", {"call_id": call_id, **body}))
        call = self.find(call_id, conversation_id)
        kind = body.get("type")
        if call.state == "ended":
            return  # late: dropped
        if body.get("connection_id") != call.connection_id:
            raise Refused("call_elsewhere", 409, "This call is open in another window.")
        if call.provider != "webrtc" or call.state not in ("connecting", "active"):
            raise Refused("invalid_state", 409, "Not now.")
        if kind == "sdp":
            description = body.get("description") or {}
            if (
                call.offer_relayed
                or call.state != "connecting"
                or description.get("type") != "offer"
            ):
                raise Refused("invalid_state", 409, "One offer per call.")
            call.offer_relayed = True
            await self.to_customer(
                {"type": "sdp", "call_id": call.id, "description": description},
                sid=call.customer_sid,
            )
        elif kind == "ice":
            await self.to_customer(
                {"type": "ice", "call_id": call.id, "candidate": body.get("candidate")},
                sid=call.customer_sid,
            )
        elif kind == "connected":
            if call.state == "connecting":
                await self._activate(call)
        else:
            raise Refused("malformed_payload", 422, "Unknown signal.")

    async def agent_hangup(
        self, conversation_id: str, call_id: str, body: Dict[str, Any]
    ) -> FakeCall:
        self.signals.append(("agent", {"type": "hangup", "call_id": call_id, **body}))
        call = self.find(call_id, conversation_id)
        reason = body.get("reason", "hung_up")
        if reason not in AGENT_HANGUP_REASONS:
            raise Refused("malformed_payload", 422, "Unknown reason.")
        if call.state in ("requested", "inviting"):
            await self.end(call, "cancelled" if call.started_by == "agent" else "declined", "agent")
        elif call.state != "ended":
            await self.end(call, reason, "agent")
        return call

    async def console_closed(self, connection_id: str) -> None:
        call = self.live()
        if call and call.provider == "webrtc" and call.connection_id == connection_id:
            if call.state in ("connecting", "active"):
                await self.end(call, "agent_disconnected", "system")

    # --- what tests do --------------------------------------------------------------------
    async def available(self) -> None:
        """Tell the widgets calls are possible (the agent joined)."""
        await self.to_customer({"type": "available", "provider": self.provider, "media": ["video"]})

    async def unavailable(self) -> None:
        await self.to_customer({"type": "unavailable"})


class CallFakes:
    """The fake webchat server and the fake desk on one event loop, joined by `FakeCalls`."""

    def __init__(self, password: str, provider: str | None = "webrtc") -> None:
        from tests.browser.fake_desk_server import FakeDesk
        from tests.browser.fake_webchat_server import FakeServers

        self.web: FakeServers = FakeServers()
        self.desk: FakeDesk = FakeDesk(password=password, runner=self.web.runner)
        self.calls = FakeCalls(provider=provider, web=self.web.state, desk=self.desk.state)
        self.web.state.calls = self.calls
        self.desk.state.calls = self.calls

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on the fakes' loop and return its result."""
        loop = self.web.runner.loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=5)

    def link(self, conversation_id: str) -> None:
        """Make the widgets the customer of this desk conversation."""
        self.calls.conversation_id = conversation_id

    def available(self) -> None:
        self.run(self.calls.available())

    def snapshot(self) -> List[FakeCall]:
        """A copy of the calls so far, oldest first."""

        async def _copy() -> List[FakeCall]:
            return [FakeCall(**vars(c)) for c in self.calls.calls]

        return self.run(_copy())

    def close(self) -> None:
        try:
            self.desk.close()  # checks its answers against the OpenAPI document
        finally:
            self.web.close()
