"""The call wire format (docs/calls.md section 3): names, shapes, limits and builders.

Every signal dict that leaves the server is built by a function here; every
signal that arrives is checked by `parse_customer_signal` / `parse_agent_signal`
and rebuilt from its known fields only, so nothing unknown is ever relayed.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Literal, Mapping, Tuple, TypedDict, TypeGuard

from bot.calls.errors import CallRefused

# --- event names ----------------------------------------------------------------------
CALL_EVENT = "baton_call"  # socket.io, both directions
CALL_SIGNAL = "call_signal"  # desk WebSocket message type
HELLO = "hello"  # desk WebSocket: the connection id

# --- signal types ---------------------------------------------------------------------
REQUEST = "request"
ACCEPT = "accept"
DECLINE = "decline"
SDP = "sdp"
ICE = "ice"
CONNECTED = "connected"
HANGUP = "hangup"
AVAILABLE = "available"
UNAVAILABLE = "unavailable"
INVITE = "invite"
INVITING = "inviting"
REQUESTED = "requested"
CONNECTING = "connecting"
ACTIVE = "active"
ENDED = "ended"
ELSEWHERE = "elsewhere"
ERROR = "error"

CUSTOMER_TYPES = (REQUEST, ACCEPT, DECLINE, SDP, ICE, CONNECTED, HANGUP)
AGENT_SIGNAL_TYPES = (SDP, ICE, CONNECTED)  # the body of POST .../signal

# --- media and providers --------------------------------------------------------------
MEDIA_VIDEO = "video"
MEDIA_SCREEN = "screen"
MEDIA = (MEDIA_VIDEO, MEDIA_SCREEN)
PROVIDER_WEBRTC = "webrtc"
PROVIDER_JITSI = "jitsi"
PROVIDERS = (PROVIDER_WEBRTC, PROVIDER_JITSI)

# --- states ---------------------------------------------------------------------------
STATE_REQUESTED = "requested"
STATE_INVITING = "inviting"
STATE_CONNECTING = "connecting"
STATE_ACTIVE = "active"
STATE_ENDED = "ended"
STATES = (STATE_REQUESTED, STATE_INVITING, STATE_CONNECTING, STATE_ACTIVE, STATE_ENDED)
LIVE_STATES = STATES[:-1]

# --- end reasons (2.4) ----------------------------------------------------------------
HUNG_UP = "hung_up"
DECLINED = "declined"
PERMISSION_DENIED = "permission_denied"
NO_DEVICE = "no_device"
UNSUPPORTED = "unsupported"
CANCELLED = "cancelled"
UNANSWERED = "unanswered"
CONNECT_TIMEOUT = "connect_timeout"
MEDIA_FAILED = "media_failed"
CUSTOMER_DISCONNECTED = "customer_disconnected"
AGENT_DISCONNECTED = "agent_disconnected"
CONVERSATION_CLOSED = "conversation_closed"
AGENT_CHANGED = "agent_changed"
MAX_DURATION = "max_duration"
END_REASONS = (
    HUNG_UP,
    DECLINED,
    PERMISSION_DENIED,
    NO_DEVICE,
    UNSUPPORTED,
    CANCELLED,
    UNANSWERED,
    CONNECT_TIMEOUT,
    MEDIA_FAILED,
    CUSTOMER_DISCONNECTED,
    AGENT_DISCONNECTED,
    CONVERSATION_CLOSED,
    AGENT_CHANGED,
    MAX_DURATION,
)
DECLINE_REASONS = (DECLINED, PERMISSION_DENIED, NO_DEVICE, UNSUPPORTED)
CUSTOMER_HANGUP_REASONS = (HUNG_UP, MEDIA_FAILED, PERMISSION_DENIED, NO_DEVICE)
AGENT_HANGUP_REASONS = (HUNG_UP, MEDIA_FAILED, AGENT_DISCONNECTED)

# --- error codes (3.5) ----------------------------------------------------------------
NO_SESSION = "no_session"
MALFORMED_PAYLOAD = "malformed_payload"
TOO_LARGE = "too_large"
CALLS_DISABLED = "calls_disabled"
NOT_ALLOWED = "not_allowed"
NO_SUCH_CONVERSATION = "no_such_conversation"
NOT_WITH_YOU = "not_with_you"
NO_SUCH_CALL = "no_such_call"
BUSY = "busy"
INVALID_STATE = "invalid_state"
CALL_ELSEWHERE = "call_elsewhere"
RATE_LIMITED = "rate_limited"

# --- `by` on the wire; history actors -------------------------------------------------
BY_AGENT = "agent"
BY_CUSTOMER = "customer"
BY_SYSTEM = "system"
ACTOR_CUSTOMER = "customer"
ACTOR_DESK = "desk"

# --- limits (3.1) ---------------------------------------------------------------------
MAX_SDP_LENGTH = 65_536
MAX_CANDIDATE_LENGTH = 1_024
MAX_SDP_MID_LENGTH = 64
MAX_SDP_MLINE_INDEX = 63
MAX_USERNAME_FRAGMENT_LENGTH = 256
MAX_ICE_PER_SIDE = 200
REQUEST_COOLDOWN_SECONDS = 30

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


class Description(TypedDict):
    type: Literal["offer", "answer"]
    sdp: str


class Candidate(TypedDict):
    candidate: str
    sdpMid: str | None
    sdpMLineIndex: int | None
    usernameFragment: str | None


class CustomerSignal(TypedDict, total=False):
    """A widget → server signal after parsing (only the fields of its type)."""

    type: str
    call_id: str
    media: str
    reason: str
    description: Description
    candidate: Candidate


class AgentSignal(TypedDict, total=False):
    """A console → server `/signal` body after parsing."""

    type: str
    connection_id: str
    description: Description
    candidate: Candidate


def is_hex_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(HEX_ID.match(value))


def _malformed(message: str, call_id: str | None = None) -> CallRefused:
    return CallRefused(MALFORMED_PAYLOAD, "malformed", message, call_id)


def _call_id(data: Mapping[str, Any]) -> str:
    value = data.get("call_id")
    if not is_hex_id(value):
        # Not one of ours: deliberately the same answer as an unknown id, no lookup.
        raise CallRefused(NO_SUCH_CALL, "unknown_call", "There is no such call.")
    return value


def _choice(
    data: Mapping[str, Any], field: str, allowed: Tuple[str, ...], default: str | None = None
) -> str:
    value = data.get(field, default)
    if value is None and default is not None:
        value = default
    if not isinstance(value, str) or value not in allowed:
        raise _malformed(f"'{field}' must be one of: {', '.join(allowed)}.")
    return value


def _description(data: Mapping[str, Any], expected: Literal["offer", "answer"]) -> Description:
    description = data.get("description")
    if not isinstance(description, dict):
        raise _malformed("'description' must be an object with 'type' and 'sdp'.")
    if description.get("type") != expected:
        raise _malformed(f"'description.type' must be {expected!r} here.")
    sdp = description.get("sdp")
    if not isinstance(sdp, str) or not sdp:
        raise _malformed("'description.sdp' must be a non-empty string.")
    if len(sdp) > MAX_SDP_LENGTH:
        raise CallRefused(TOO_LARGE, "too_large", f"An SDP is at most {MAX_SDP_LENGTH} characters.")
    return {"type": expected, "sdp": sdp}


def _optional_text(candidate: Mapping[str, Any], field: str, limit: int) -> str | None:
    value = candidate.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _malformed(f"'candidate.{field}' must be a string or null.")
    if len(value) > limit:
        raise CallRefused(
            TOO_LARGE, "too_large", f"'candidate.{field}' is at most {limit} characters."
        )
    return value


def _candidate(data: Mapping[str, Any]) -> Candidate:
    candidate = data.get("candidate")
    if not isinstance(candidate, dict):
        raise _malformed("'candidate' must be an object (RTCIceCandidate.toJSON()).")
    text = candidate.get("candidate")
    if not isinstance(text, str):
        raise _malformed("'candidate.candidate' must be a string.")
    if len(text) > MAX_CANDIDATE_LENGTH:
        raise CallRefused(
            TOO_LARGE,
            "too_large",
            f"'candidate.candidate' is at most {MAX_CANDIDATE_LENGTH} characters.",
        )
    index = candidate.get("sdpMLineIndex")
    if index is not None and (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 0 <= index <= MAX_SDP_MLINE_INDEX
    ):
        raise _malformed(
            f"'candidate.sdpMLineIndex' must be a whole number 0-{MAX_SDP_MLINE_INDEX} or null."
        )
    return {
        "candidate": text,
        "sdpMid": _optional_text(candidate, "sdpMid", MAX_SDP_MID_LENGTH),
        "sdpMLineIndex": index,
        "usernameFragment": _optional_text(
            candidate, "usernameFragment", MAX_USERNAME_FRAGMENT_LENGTH
        ),
    }


def parse_customer_signal(data: Any) -> CustomerSignal:
    """A widget's `baton_call` payload, checked and reduced to its known fields.

    Raises:
        CallRefused: `malformed_payload`, `too_large`, or `no_such_call` for a
            call id that is not 32 lowercase hex characters.
    """
    if not isinstance(data, dict):
        raise _malformed("A call message must be an object with a 'type'.")
    kind = data.get("type")
    if kind not in CUSTOMER_TYPES:
        raise _malformed(
            f"Unknown call message type; expected one of: {', '.join(CUSTOMER_TYPES)}."
        )
    if kind == REQUEST:
        return {"type": REQUEST, "media": _choice(data, "media", (MEDIA_VIDEO,))}
    signal: CustomerSignal = {"type": kind, "call_id": _call_id(data)}
    if kind == DECLINE:
        signal["reason"] = _choice(data, "reason", DECLINE_REASONS, DECLINED)
    elif kind == HANGUP:
        signal["reason"] = _choice(data, "reason", CUSTOMER_HANGUP_REASONS, HUNG_UP)
    elif kind == SDP:
        signal["description"] = _description(data, "answer")
    elif kind == ICE:
        signal["candidate"] = _candidate(data)
    return signal


def parse_connection_id(body: Mapping[str, Any]) -> str:
    value = body.get("connection_id")
    if not is_hex_id(value):
        raise _malformed("'connection_id' must be the 32-hex id of this console's latest 'hello'.")
    return value


def parse_agent_signal(body: Any) -> AgentSignal:
    """The body of `POST .../calls/{call_id}/signal`, checked and reduced to its known fields."""
    if not isinstance(body, dict):
        raise _malformed("The body must be a JSON object with a 'type'.")
    kind = body.get("type")
    if kind not in AGENT_SIGNAL_TYPES:
        raise _malformed(f"'type' must be one of: {', '.join(AGENT_SIGNAL_TYPES)}.")
    signal: AgentSignal = {"type": kind, "connection_id": parse_connection_id(body)}
    if kind == SDP:
        signal["description"] = _description(body, "offer")
    elif kind == ICE:
        signal["candidate"] = _candidate(body)
    return signal


def parse_media(body: Mapping[str, Any]) -> str:
    return _choice(body, "media", MEDIA)


def parse_reason(body: Mapping[str, Any], allowed: Tuple[str, ...], default: str) -> str:
    return _choice(body, "reason", allowed, default)


# --- builders (server → widget / console) ---------------------------------------------


def available(provider: str) -> Dict[str, Any]:
    return {"type": AVAILABLE, "provider": provider, "media": [MEDIA_VIDEO]}


def unavailable() -> Dict[str, Any]:
    return {"type": UNAVAILABLE}


def invite(
    call_id: str, media: str, provider: str, agent_name: str | None, expires_at: str | None
) -> Dict[str, Any]:
    return {
        "type": INVITE,
        "call_id": call_id,
        "media": media,
        "provider": provider,
        "agent_name": agent_name,
        "expires_at": expires_at,
    }


def inviting(call_id: str, media: str, provider: str, expires_at: str | None) -> Dict[str, Any]:
    return {
        "type": INVITING,
        "call_id": call_id,
        "media": media,
        "provider": provider,
        "expires_at": expires_at,
    }


def requested(
    call_id: str,
    media: str,
    expires_at: str | None,
    customer_name: str | None = None,
    to_agent: bool = False,
) -> Dict[str, Any]:
    signal = {"type": REQUESTED, "call_id": call_id, "media": media, "expires_at": expires_at}
    if to_agent:
        signal["customer_name"] = customer_name
    return signal


def connecting(call_id: str, media: str, role: str, rtc: Dict[str, Any] | None) -> Dict[str, Any]:
    return {
        "type": CONNECTING,
        "call_id": call_id,
        "media": media,
        "provider": PROVIDER_WEBRTC,
        "role": role,
        "rtc": rtc,
    }


def sdp(call_id: str, description: Description) -> Dict[str, Any]:
    return {"type": SDP, "call_id": call_id, "description": dict(description)}


def ice(call_id: str, candidate: Candidate) -> Dict[str, Any]:
    return {"type": ICE, "call_id": call_id, "candidate": dict(candidate)}


def active(
    call_id: str, media: str, provider: str, connected_at: str | None, join_url: str | None = None
) -> Dict[str, Any]:
    signal = {
        "type": ACTIVE,
        "call_id": call_id,
        "media": media,
        "provider": provider,
        "connected_at": connected_at,
    }
    if join_url is not None:
        signal["join_url"] = join_url
    return signal


def ended(
    call_id: str, reason: str | None, by: str | None, duration_seconds: int | None
) -> Dict[str, Any]:
    return {
        "type": ENDED,
        "call_id": call_id,
        "reason": reason,
        "by": by,
        "duration_seconds": duration_seconds,
    }


def elsewhere(call_id: str) -> Dict[str, Any]:
    return {"type": ELSEWHERE, "call_id": call_id}


def error(
    code: str, message: str, call_id: str | None = None, in_reply_to: str | None = None
) -> Dict[str, Any]:
    return {
        "type": ERROR,
        "call_id": call_id,
        "code": code,
        "message": message,
        "in_reply_to": in_reply_to,
    }


def hello(connection_id: str) -> Dict[str, Any]:
    return {"type": HELLO, "connection_id": connection_id}


def console_event(
    conversation_id: str, connection_id: str | None, signal: Dict[str, Any]
) -> Dict[str, Any]:
    """The desk WebSocket message carrying a signal to the call's agent's consoles."""
    return {
        "type": CALL_SIGNAL,
        "conversation_id": conversation_id,
        "connection_id": connection_id,
        "signal": signal,
    }


def signal_type_of(data: Any) -> str | None:
    """The `type` of a raw payload, for error replies and logs (never its content)."""
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) and kind in CUSTOMER_TYPES else None
