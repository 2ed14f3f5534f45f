"""The desk's OpenAPI 3 description, served at /desk/api/openapi.json (docs/desk.md).

Every route the desk registers is described here, the console's page and files and
the live socket included (tests/security/test_desk_openapi.py compares the
operations with the routes of the real blueprint), and every operation lists each
status it can answer. Errors share one schema, `{"error": str, "code"?: str}`; a 429
carries `Retry-After`. tests/security/test_desk_fuzz.py fuzzes the running desk from
this document and fails on a server error or on any answer it does not describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from bot.tickets.states import (
    AGENT_STATUSES,
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_RESOLVED,
    CONVERSATION_WITH_AGENT,
    TICKET_STATUSES,
)

API_SERVER = "/desk/api"
# The console's page and files are served beside the API, not under it.
CONSOLE_SERVER = "/desk"
# Tags that say what an operation is, for readers and for the fuzz (which only
# fuzzes the JSON API: the console's files and the WebSocket are not JSON calls).
TAG_API = "api"
TAG_CONSOLE = "console"
TAG_LIVE = "live"

# Who may call an operation: anyone, a signed-in console (the session cookie), or a
# signed-in console that also sends the session's CSRF token (every write).
PUBLIC = "public"
SESSION = "session"
WRITE = "write"

_JSON = "application/json"


def _ref(name: str) -> Dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Dict[str, Any]) -> Dict[str, Any]:
    # OpenAPI 3.0 ignores the siblings of a `$ref`, and an `enum` allows null only if listed.
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "nullable": True}
    return {**schema, "nullable": True}


_STRING = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_PERSON = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "nullable": True},
        "name": {"type": "string", "nullable": True},
    },
    "required": ["id", "name"],
}
_CONNECTION_ID = {
    "type": "string",
    "pattern": "^[0-9a-f]{32}$",
    "description": "from this console's latest `hello`",
}
_CANDIDATE = {
    "type": "object",
    "properties": {
        "candidate": {"type": "string", "maxLength": 1024},
        "sdpMid": {"type": "string", "maxLength": 64, "nullable": True},
        "sdpMLineIndex": {"type": "integer", "minimum": 0, "maximum": 63, "nullable": True},
        "usernameFragment": {"type": "string", "maxLength": 256, "nullable": True},
    },
    "required": ["candidate"],
}
_SIGNAL_BODY = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "connection_id": _CONNECTION_ID,
                "type": {"enum": ["sdp"]},
                "description": {
                    "type": "object",
                    "properties": {
                        "type": {"enum": ["offer"]},
                        "sdp": {"type": "string", "maxLength": 65536},
                    },
                    "required": ["type", "sdp"],
                },
            },
            "required": ["connection_id", "type", "description"],
        },
        {
            "type": "object",
            "properties": {
                "connection_id": _CONNECTION_ID,
                "type": {"enum": ["ice"]},
                "candidate": _CANDIDATE,
            },
            "required": ["connection_id", "type", "candidate"],
        },
        {
            "type": "object",
            "properties": {"connection_id": _CONNECTION_ID, "type": {"enum": ["connected"]}},
            "required": ["connection_id", "type"],
        },
    ]
}
# The metrics' period and team (docs/metrics.md), as query parameters.
_METRICS_PARAMETERS = [
    {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "start of the period (included): 7d, 12h, 30m, 2w back from now, "
        "or an ISO date (that day 00:00 UTC) or date-time; default 7d",
        "schema": {"type": "string", "example": "2026-11-20"},
    },
    {
        "name": "until",
        "in": "query",
        "required": False,
        "description": "end of the period (excluded), in the same forms; default now. "
        "At most 366 days after since",
        "schema": {"type": "string", "example": "2026-11-27"},
    },
    {
        "name": "team",
        "in": "query",
        "required": False,
        "description": "a team key of escalation.yml: that team's escalations only",
        "schema": {"type": "string"},
    },
]


def _path_parameter(name: str, description: str) -> Dict[str, Any]:
    # A path segment: never empty, never a slash (the router would not match it).
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": "^[^/]+$"},
    }


_CONVERSATION_ID = _path_parameter("conversation_id", "the conversation id (Rasa's sender id)")
_CALL_ID = _path_parameter("call_id", "the call's id")
_BLOCK_ID = {
    "name": "block_id",
    "in": "path",
    "required": True,
    "description": "the block's id",
    "schema": {"type": "integer"},
}
_ASSET = _path_parameter("asset", "a file name of the console (console.css)")
_CONSOLE_MODULE = _path_parameter(
    "module", "one of the console's ES modules (main.js, api.js, live.js…)"
)
_VENDOR_ASSET = _path_parameter("asset", "a browser library the console loads (chart.umd.min.js)")


def _object(properties: Dict[str, Any], required: Tuple[str, ...] = ()) -> Dict[str, Any]:
    schema: Dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _reason_body() -> Dict[str, Any]:
    return _object({"reason": {"type": "string", "maxLength": 500, "nullable": True}})


# Text that is not blank (the desk strips it first).
_NOT_BLANK = "\\S"
_TEXT_BODY = _object(
    {"text": {"type": "string", "pattern": _NOT_BLANK, "maxLength": 4000}}, ("text",)
)


@dataclass(frozen=True)
class Operation:
    """One route of the desk as the document describes it."""

    method: str
    path: str
    summary: str
    access: str
    success: int
    success_schema: Any = None
    body: Any = None
    errors: Tuple[int, ...] = ()
    parameters: Tuple[Dict[str, Any], ...] = ()
    media_type: str = _JSON
    tag: str = TAG_API
    success_description: str = "OK"


# Before a handler runs, every request may be refused for its body's framing
# (connectors/http_guard.py): a Content-Length that is not a number (400), a declared
# length over the route's limit (413) and, on the API, a chunked body (411).
_CONSOLE_TRANSPORT_ERRORS = (400, 413)
_API_TRANSPORT_ERRORS = (400, 411, 413)
# Who may call an operation decides more: no session (401), the agent's request
# budget (429), and for writes a missing or wrong CSRF token (403).
_ACCESS_ERRORS = {PUBLIC: (), SESSION: (401, 429), WRITE: (401, 403, 429)}
# A JSON body: not JSON, or not an object (400); a field missing or wrong (422).
_BODY_ERRORS = (400, 422)
_CONVERSATION_ERRORS = (404, 409)
# A refused call answers its `code` (docs/calls.md 3.5): calls_disabled and not_allowed
# 403, no_such_conversation and no_such_call 404, busy, invalid_state, call_elsewhere and
# not_with_you 409, too_large 413, malformed_payload 422 (a body that is not a JSON
# object included), rate_limited 429.
_CALL_ERRORS = (403, 404, 409, 413, 422, 429)

OPERATIONS: Tuple[Operation, ...] = (
    Operation(
        "get",
        "/",
        "The agent console (HTML)",
        PUBLIC,
        200,
        _STRING,
        media_type="text/html",
        tag=TAG_CONSOLE,
    ),
    Operation(
        "get",
        "/assets/{asset}",
        "A file of the console",
        PUBLIC,
        200,
        _STRING,
        errors=(404,),
        parameters=(_ASSET,),
        media_type="*/*",
        tag=TAG_CONSOLE,
    ),
    Operation(
        "get",
        "/assets/console/{module}",
        "One of the console's JavaScript modules",
        PUBLIC,
        200,
        _STRING,
        errors=(404,),
        parameters=(_CONSOLE_MODULE,),
        media_type="application/javascript",
        tag=TAG_CONSOLE,
    ),
    Operation(
        "get",
        "/assets/vendor/{asset}",
        "A browser library the console loads",
        PUBLIC,
        200,
        _STRING,
        errors=(404,),
        parameters=(_VENDOR_ASSET,),
        media_type="*/*",
        tag=TAG_CONSOLE,
    ),
    Operation("get", "/openapi.json", "This document", PUBLIC, 200, {"type": "object"}),
    Operation(
        "get",
        "/live",
        "The live socket (WebSocket; docs/desk.md 'Live updates'): "
        "the session cookie authenticates it",
        PUBLIC,
        101,
        errors=(426,),
        tag=TAG_LIVE,
        success_description="Switching Protocols. A refused session or origin gets one `error` "
        "message, then the socket closes",
    ),
    Operation(
        "post",
        "/login",
        "Sign in (JSON only); sets the session cookie",
        PUBLIC,
        200,
        _ref("Me"),
        body=_object(
            {
                "email": {"type": "string", "minLength": 1, "maxLength": 320},
                "password": {"type": "string", "minLength": 1},
            },
            ("email", "password"),
        ),
        errors=(*_BODY_ERRORS, 401, 415, 429, 503),
    ),
    Operation(
        "post", "/logout", "Sign out; the agent's conversations go back to the queue", WRITE, 204
    ),
    Operation("get", "/me", "Who is signed in, and the CSRF token", SESSION, 200, _ref("Me")),
    Operation(
        "put",
        "/me/status",
        "Set online, away or offline",
        WRITE,
        200,
        _object({"agent": _ref("Agent")}, ("agent",)),
        body=_object({"status": {"enum": list(AGENT_STATUSES)}}, ("status",)),
        errors=_BODY_ERRORS,
    ),
    Operation(
        "get",
        "/teams",
        "The teams of escalation.yml",
        SESSION,
        200,
        _object(
            {
                "teams": {
                    "type": "array",
                    "items": _object({"key": _STRING, "name": _STRING}, ("key", "name")),
                }
            },
            ("teams",),
        ),
    ),
    Operation(
        "get",
        "/queue",
        "Queued and live conversations you may see, by priority, SLA deadline, age",
        SESSION,
        200,
        _object({"conversations": {"type": "array", "items": _ref("Summary")}}, ("conversations",)),
    ),
    Operation(
        "get",
        "/agents",
        "Every agent (supervisors and admins)",
        SESSION,
        200,
        _object({"agents": {"type": "array", "items": _ref("Agent")}}, ("agents",)),
        errors=(403,),
    ),
    Operation(
        "post",
        "/agents",
        "Add an agent (admins)",
        WRITE,
        201,
        _object({"agent": _ref("Agent")}, ("agent",)),
        body=_object(
            {
                "email": {
                    "type": "string",
                    "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
                    "maxLength": 320,
                },
                "name": {"type": "string", "pattern": _NOT_BLANK, "maxLength": 255},
                "password": {"type": "string", "minLength": 12},
                "role": {"enum": ["agent", "supervisor", "admin"]},
                "teams": {"type": "array", "items": _STRING},
                "capacity": {"type": "integer", "minimum": 0, "maximum": 50},
                "languages": {"type": "array", "items": _STRING},
            },
            ("email", "name", "password"),
        ),
        errors=(*_BODY_ERRORS, 403, 409),
    ),
    Operation(
        "get",
        "/metrics",
        "The escalation metrics of a period (supervisors and admins; docs/metrics.md)",
        SESSION,
        200,
        _ref("MetricsReport"),
        errors=(400, 403),
        parameters=tuple(_METRICS_PARAMETERS),
    ),
    Operation(
        "get",
        "/metrics.csv",
        "The same report as a CSV download: a row per breakdown row, the totals first",
        SESSION,
        200,
        _STRING,
        errors=(400, 403),
        parameters=tuple(_METRICS_PARAMETERS),
        media_type="text/csv",
    ),
    Operation(
        "get",
        "/conversations/{conversation_id}",
        "One conversation: ticket, context, transcript, history, notes",
        SESSION,
        200,
        _ref("Detail"),
        errors=(403, 404),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/accept",
        "Take the conversation (supervisors may take one over)",
        WRITE,
        200,
        _ref("Detail"),
        errors=_CONVERSATION_ERRORS,
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/messages",
        "Write to the customer",
        WRITE,
        201,
        _object({"message": _ref("Message")}, ("message",)),
        body=_TEXT_BODY,
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/typing",
        "Tell the customer you are typing",
        WRITE,
        204,
        body=_object({"typing": {"type": "boolean"}}, ("typing",)),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/notes",
        "An internal note (never shown to the customer)",
        WRITE,
        201,
        _object({"note": _ref("Note")}, ("note",)),
        body=_TEXT_BODY,
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/transfer",
        "Functional escalation to another team",
        WRITE,
        200,
        _ref("Detail"),
        body=_object(
            {
                "team": {"type": "string", "pattern": _NOT_BLANK},
                "reason": {"type": "string", "maxLength": 500, "nullable": True},
            },
            ("team",),
        ),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/escalate",
        "Hierarchical escalation to the next level",
        WRITE,
        200,
        _ref("Detail"),
        body=_reason_body(),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/resolve",
        "Resolve; the bot asks the customer for a rating",
        WRITE,
        200,
        _ref("Detail"),
        body=_reason_body(),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/return-to-bot",
        "Give the conversation back to the bot",
        WRITE,
        200,
        _ref("Detail"),
        body=_reason_body(),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/block",
        "End an abusive customer's conversation for good and block them: the conversation, "
        "and with block_address their addresses for BATON_LIMIT_BLOCK_ADDRESS_HOURS",
        WRITE,
        200,
        _object(
            {"conversation": _ref("Detail"), "blocks": {"type": "array", "items": _ref("Block")}},
            ("conversation", "blocks"),
        ),
        body=_object(
            {
                "reason": {"type": "string", "pattern": _NOT_BLANK, "maxLength": 500},
                "block_address": {"type": "boolean"},
            },
            ("reason",),
        ),
        errors=(*_BODY_ERRORS, *_CONVERSATION_ERRORS),
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "get",
        "/blocks",
        "The blocks in force (supervisors and admins)",
        SESSION,
        200,
        _object({"blocks": {"type": "array", "items": _ref("Block")}}, ("blocks",)),
        errors=(403,),
    ),
    Operation(
        "delete",
        "/blocks/{block_id}",
        "Lift a block (supervisors and admins)",
        WRITE,
        204,
        errors=(403, 404),
        parameters=(_BLOCK_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/calls",
        "Offer a video call or ask for the customer's screen (docs/calls.md)",
        WRITE,
        201,
        _ref("CallAnswer"),
        body=_object(
            {"media": {"enum": ["video", "screen"]}, "connection_id": _CONNECTION_ID},
            ("media", "connection_id"),
        ),
        errors=_CALL_ERRORS,
        parameters=(_CONVERSATION_ID,),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/calls/{call_id}/accept",
        "Accept the customer's request for a call",
        WRITE,
        200,
        _ref("CallAnswer"),
        body=_object({"connection_id": _CONNECTION_ID}, ("connection_id",)),
        errors=_CALL_ERRORS,
        parameters=(_CONVERSATION_ID, _CALL_ID),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/calls/{call_id}/decline",
        "Decline the customer's request for a call",
        WRITE,
        200,
        _ref("CallAnswer"),
        body=_object(
            {"reason": {"enum": ["declined", "permission_denied", "no_device", "unsupported"]}}
        ),
        errors=_CALL_ERRORS,
        parameters=(_CONVERSATION_ID, _CALL_ID),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/calls/{call_id}/signal",
        "Relay the offer, an ICE candidate, or 'connected' (bound console only)",
        WRITE,
        204,
        body=_SIGNAL_BODY,
        errors=_CALL_ERRORS,
        parameters=(_CONVERSATION_ID, _CALL_ID),
    ),
    Operation(
        "post",
        "/conversations/{conversation_id}/calls/{call_id}/hangup",
        "End the call (also when it already ended)",
        WRITE,
        200,
        _ref("CallAnswer"),
        body=_object({"reason": {"enum": ["hung_up", "media_failed", "agent_disconnected"]}}),
        errors=_CALL_ERRORS,
        parameters=(_CONVERSATION_ID, _CALL_ID),
    ),
)


def statuses(operation: Operation) -> Tuple[int, ...]:
    """Every error status the operation can answer: its own, its access's, its transport's."""
    transport = _CONSOLE_TRANSPORT_ERRORS if operation.tag == TAG_CONSOLE else _API_TRANSPORT_ERRORS
    return tuple(sorted({*operation.errors, *_ACCESS_ERRORS[operation.access], *transport}))


ERROR_RESPONSES: Dict[int, str] = {
    400: "Malformed: the body is not a JSON object, or its Content-Length is not a number; "
    "for the metrics: a period that can't be read, or an unknown team",
    401: "Not signed in, the session expired, or (sign-in) a wrong e-mail address or password",
    403: "Not allowed: another team's conversation, a missing role, a missing or wrong "
    "X-CSRF-Token; for calls: calls_disabled, not_allowed",
    404: "No such conversation, call, block or file",
    409: "Conflict: taken by another agent, already resolved, not with you; "
    "for calls: busy, invalid_state, call_elsewhere, not_with_you",
    411: "A chunked body: send it with a Content-Length",
    413: "The body is over the route's size limit (for call signals: too_large)",
    415: "The sign-in is not application/json",
    422: "A field is missing or wrong (for calls: malformed_payload)",
    426: "Not a WebSocket handshake",
    429: "Too many requests: sign-ins from this client or address, the agent's request budget, "
    "or call messages (rate_limited); wait Retry-After seconds",
    503: "Too many sign-ins being checked at once; wait Retry-After seconds",
}
# Refusals that say when to come back.
RETRY_AFTER_STATUSES = (429, 503)

_AGENT = _object(
    {
        "id": {"type": "integer"},
        "email": _STRING,
        "name": _STRING,
        "role": {"enum": ["agent", "supervisor", "admin"]},
        "status": {"enum": list(AGENT_STATUSES)},
        "capacity": {"type": "integer", "minimum": 0},
        "languages": {"type": "array", "items": _STRING},
        "teams": {"type": "array", "items": _STRING},
        "active_chats": {"type": "integer", "minimum": 0},
    },
    ("id", "email", "name", "role", "status", "capacity", "languages", "teams", "active_chats"),
)
_TICKET = _object(
    {
        "reference": _STRING,
        "status": {"enum": list(TICKET_STATUSES)},
        "priority": {"enum": ["P1", "P2", "P3", "P4"]},
        "team": _STRING,
        "team_name": _STRING,
        "level": {"type": "integer"},
        "tier": _STRING,
        "category": _nullable(_STRING),
        "language": _STRING,
        "first_response_due": _MOMENT,
        "resolution_due": _MOMENT,
        "first_response_at": _nullable(_MOMENT),
        "resolved_at": _nullable(_MOMENT),
        "created_at": _MOMENT,
        "assigned_agent": _nullable(_PERSON),
        "reasons": {
            "type": "array",
            "items": _object(
                {
                    "type": _nullable(_STRING),
                    "code": _nullable(_STRING),
                    "text": _nullable(_STRING),
                },
                ("type", "code", "text"),
            ),
        },
    },
    (
        "reference",
        "status",
        "priority",
        "team",
        "team_name",
        "level",
        "tier",
        "category",
        "first_response_due",
        "resolution_due",
        "created_at",
        "assigned_agent",
        "reasons",
    ),
)
_SUMMARY_PROPERTIES: Dict[str, Any] = {
    "conversation_id": _STRING,
    "state": {
        "enum": [
            CONVERSATION_QUEUED,
            CONVERSATION_WITH_AGENT,
            CONVERSATION_RESOLVED,
            CONVERSATION_BOT,
        ]
    },
    "customer": _object(
        {
            "name": _nullable(_STRING),
            "verified": {"type": "boolean"},
            "tier": _nullable(_STRING),
            "customer_id": _nullable(_STRING),
        },
        ("name", "verified"),
    ),
    "ticket": _ref("Ticket"),
    "last_message": _nullable(_ref("Message")),
    "waiting_since": _MOMENT,
    "offered_to_me": {"type": "boolean"},
    "offer_expires_at": _nullable(_MOMENT),
}
_SUMMARY_REQUIRED = (
    "conversation_id",
    "state",
    "customer",
    "ticket",
    "last_message",
    "waiting_since",
    "offered_to_me",
)
_MESSAGE = _object(
    {
        "id": _nullable(_STRING),
        "sender": {"enum": ["customer", "bot", "agent", "system"]},
        "text": _STRING,
        "at": _nullable(_MOMENT),
        "agent": _nullable(_PERSON),
        "intent": _nullable(
            _object(
                {"name": _STRING, "confidence": {"type": "number", "nullable": True}}, ("name",)
            )
        ),
        "sentiment": {"type": "object", "nullable": True},
        "call": _ref("CallNotice"),
    },
    ("sender", "text", "at", "agent", "intent", "sentiment"),
)
_CALL = _object(
    {
        "id": _STRING,
        "conversation_id": _STRING,
        "media": {"enum": ["video", "screen"]},
        "provider": {"enum": ["webrtc", "jitsi"]},
        "state": {"enum": ["requested", "inviting", "connecting", "active", "ended"]},
        "started_by": {"enum": ["agent", "customer"]},
        "agent": _nullable(_PERSON),
        "connection_id": _nullable(_STRING),
        "created_at": _MOMENT,
        "expires_at": _nullable(_MOMENT),
        "answered_at": _nullable(_MOMENT),
        "connected_at": _nullable(_MOMENT),
        "ended_at": _nullable(_MOMENT),
        "end_reason": _nullable(_STRING),
        "ended_by": _nullable({"enum": ["agent", "customer", "system"]}),
        "duration_seconds": {"type": "integer", "nullable": True},
        "join_url": _nullable(_STRING),
    },
    ("id", "conversation_id", "media", "provider", "state", "started_by", "created_at"),
)

SCHEMAS: Dict[str, Any] = {
    "Error": _object(
        {
            "error": {"type": "string", "description": "what is wrong, for a person to act on"},
            "code": {
                "type": "string",
                "description": "machine-readable: the call endpoints' codes (docs/calls.md 3.5); "
                "a refused body's too_large, length_required or malformed",
            },
        },
        ("error",),
    ),
    "Me": _object(
        {
            "agent": _ref("Agent"),
            "csrf_token": _STRING,
            "calls": _object(
                {
                    "provider": {
                        **_nullable({"enum": ["webrtc", "jitsi"]}),
                        "description": "null: calls are off (hide the call buttons)",
                    }
                },
                ("provider",),
            ),
        },
        ("agent", "csrf_token", "calls"),
    ),
    "Agent": _AGENT,
    "Ticket": _TICKET,
    "Summary": _object(_SUMMARY_PROPERTIES, _SUMMARY_REQUIRED),
    "Detail": _object(
        {
            **_SUMMARY_PROPERTIES,
            "context": {
                "type": "object",
                "description": "The escalation packet (docs/escalation.md)",
            },
            "transcript": {"type": "array", "items": _ref("Message")},
            "history": {"type": "array", "items": _ref("HistoryEntry")},
            "notes": {"type": "array", "items": _ref("Note")},
            "call": {
                **_nullable(_ref("Call")),
                "description": "the live call, or the latest if it ended under a minute ago",
            },
        },
        (*_SUMMARY_REQUIRED, "context", "transcript", "history", "notes", "call"),
    ),
    "Message": _MESSAGE,
    "HistoryEntry": _object(
        {
            "at": _MOMENT,
            "actor": _STRING,
            "action": _STRING,
            "from": _nullable(_STRING),
            "to": _nullable(_STRING),
            "reason": _nullable(_STRING),
            "type": _nullable(_STRING),
        },
        ("at", "actor", "action", "from", "to", "reason", "type"),
    ),
    "Note": _object({"at": _MOMENT, "agent": _PERSON, "text": _STRING}, ("at", "agent", "text")),
    "Call": _CALL,
    "CallAnswer": _object({"call": _ref("Call")}, ("call",)),
    "CallNotice": _object(
        {
            "id": _STRING,
            "event": {"enum": ["started", "ended"]},
            "media": {"enum": ["video", "screen"]},
            "provider": {"enum": ["webrtc", "jitsi"]},
            "started_by": {"enum": ["agent", "customer"]},
            "agent": {"type": "object", "nullable": True},
            "duration_seconds": {"type": "integer", "nullable": True},
            "end_reason": _nullable(_STRING),
        }
    ),
    "Block": _object(
        {
            "id": {"type": "integer"},
            "kind": {"enum": ["session", "address"]},
            "value": {
                "type": "string",
                "description": "the address; for a conversation, only the first 8 characters "
                "of its id (a guest's bearer secret)",
            },
            "reason": _STRING,
            "created_by": {"type": "integer", "nullable": True, "description": "the agent's id"},
            "created_at": _MOMENT,
            "expires_at": {
                **_nullable(_MOMENT),
                "description": "null: until a supervisor lifts it",
            },
        },
        ("id", "kind", "value", "reason", "created_by", "created_at", "expires_at"),
    ),
    "MetricsReport": _object(
        {
            "period": {"type": "object"},
            "totals": {"type": "object"},
            "breakdowns": {"type": "object"},
            "references": {"type": "object"},
            "root_causes": {"type": "object"},
        },
        ("period", "totals", "breakdowns", "root_causes"),
    ),
}


def _error_response(status: int) -> Dict[str, Any]:
    answer: Dict[str, Any] = {
        "description": ERROR_RESPONSES[status],
        "content": {_JSON: {"schema": _ref("Error")}},
    }
    if status in RETRY_AFTER_STATUSES:
        answer["headers"] = {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return answer


def operation_id(operation: Operation) -> str:
    """`post_conversations_accept` for `POST /conversations/{conversation_id}/accept`."""
    words = [part for part in operation.path.split("/") if part and not part.startswith("{")]
    name = "_".join([operation.method, *words]) if words else f"{operation.method}_console"
    return name.replace("-", "_").replace(".", "_")


def _operation_json(operation: Operation) -> Dict[str, Any]:
    answer: Dict[str, Any] = {
        "operationId": operation_id(operation),
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    if operation.parameters:
        answer["parameters"] = list(operation.parameters)
    if operation.access == PUBLIC:
        answer["security"] = []
    elif operation.access == WRITE:
        answer["security"] = [{"session": [], "csrf": []}]
    if operation.body is not None:
        answer["requestBody"] = {"required": True, "content": {_JSON: {"schema": operation.body}}}
    success: Dict[str, Any] = {"description": operation.success_description}
    if operation.success_schema is not None:
        success["content"] = {operation.media_type: {"schema": operation.success_schema}}
    responses: Dict[str, Any] = {str(operation.success): success}
    for status in statuses(operation):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    answer["responses"] = responses
    return answer


def _all_error_statuses() -> List[int]:
    return sorted({status for operation in OPERATIONS for status in statuses(operation)})


def openapi_spec() -> Dict[str, Any]:
    """The description, built from the operation table above."""
    paths: Dict[str, Dict[str, Any]] = {}
    for operation in OPERATIONS:
        item = paths.setdefault(operation.path, {})
        if operation.tag == TAG_CONSOLE:
            item["servers"] = [{"url": CONSOLE_SERVER}]
        item[operation.method] = _operation_json(operation)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Baton agent desk",
            "version": "1",
            "description": "The agents' API. Sign in with POST /login; send the session's "
            "CSRF token in X-CSRF-Token with every request that changes something. Bodies "
            "are JSON objects (Content-Type: application/json). Live updates: a WebSocket "
            "at /desk/api/live (docs/desk.md). The console's page and files are served "
            "under /desk.",
        },
        "servers": [{"url": API_SERVER}],
        "tags": [
            {"name": TAG_API, "description": "The JSON API"},
            {"name": TAG_CONSOLE, "description": "The console's page and files, under /desk"},
            {"name": TAG_LIVE, "description": "The live socket (WebSocket)"},
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": {str(status): _error_response(status) for status in _all_error_statuses()},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "baton_desk"},
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "the session's CSRF token (from POST /login or GET /me); "
                    "every write",
                },
            },
        },
        "security": [{"session": []}],
    }
