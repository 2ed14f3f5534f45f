"""The desk API's OpenAPI 3 description, served at /desk/api/openapi.json (docs/desk.md)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

_ERROR = {"$ref": "#/components/schemas/Error"}
_DETAIL = {"$ref": "#/components/schemas/Detail"}
_AGENT = {"$ref": "#/components/schemas/Agent"}
_ME = {
    "type": "object",
    "properties": {
        "agent": _AGENT,
        "csrf_token": {"type": "string"},
        "calls": {
            "type": "object",
            "description": "provider null: calls are off (hide the call buttons)",
            "properties": {"provider": {"enum": ["webrtc", "jitsi"], "nullable": True}},
        },
    },
}
_CALL = {"type": "object", "properties": {"call": {"$ref": "#/components/schemas/Call"}}}
_CONNECTION_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "from this console's latest `hello`"}
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
                    "properties": {"type": {"enum": ["offer"]}, "sdp": {"type": "string", "maxLength": 65536}},
                    "required": ["type", "sdp"],
                },
            },
            "required": ["connection_id", "type", "description"],
        },
        {
            "type": "object",
            "properties": {"connection_id": _CONNECTION_ID, "type": {"enum": ["ice"]}, "candidate": _CANDIDATE},
            "required": ["connection_id", "type", "candidate"],
        },
        {
            "type": "object",
            "properties": {"connection_id": _CONNECTION_ID, "type": {"enum": ["connected"]}},
            "required": ["connection_id", "type"],
        },
    ]
}
_CALL_ERRORS = (401, 403, 404, 409, 413, 422, 429)
_METRICS_ERRORS = (400, 401, 403)
# The metrics' period and team (docs/metrics.md), as query parameters.
_METRICS_PARAMETERS = [
    {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "start of the period (included): 7d, 12h, 30m, 2w back from now, or an ISO date "
        "(that day 00:00 UTC) or date-time; default 7d",
        "schema": {"type": "string", "example": "2026-11-20"},
    },
    {
        "name": "until",
        "in": "query",
        "required": False,
        "description": "end of the period (excluded), in the same forms; default now. At most 366 days after since",
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
_METRICS_REPORT = {
    "type": "object",
    "description": "The report of docs/metrics.md (MetricsReport.as_dict())",
    "properties": {
        "period": {"type": "object"},
        "totals": {"type": "object"},
        "breakdowns": {"type": "object"},
        "references": {"type": "object"},
        "root_causes": {"type": "object"},
    },
}
# Operations that answer something other than JSON: (method, path) -> media type.
_MEDIA_TYPES = {("get", "/metrics.csv"): "text/csv"}


def _string_body(*names: str, required: Tuple[str, ...] = ()) -> Dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in names},
        "required": list(required),
    }


# (method, path, summary, request body schema or None, success status, success schema or None, errors)
_OPERATIONS: List[Tuple[str, str, str, Any, int, Any, Tuple[int, ...]]] = [
    ("post", "/login", "Sign in; sets the session cookie", _string_body("email", "password", required=("email", "password")), 200, _ME, (401, 422, 429)),
    ("post", "/logout", "Sign out", None, 204, None, (401, 403)),
    ("get", "/me", "Who is signed in, and the CSRF token", None, 200, _ME, (401,)),
    ("put", "/me/status", "Set online, away or offline", {"type": "object", "properties": {"status": {"enum": ["online", "away", "offline"]}}, "required": ["status"]}, 200, {"type": "object", "properties": {"agent": _AGENT}}, (401, 403, 422)),
    ("get", "/teams", "The teams of escalation.yml", None, 200, {"type": "object", "properties": {"teams": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}}}}, (401,)),
    ("get", "/queue", "Queued and live conversations you may see, by priority, SLA deadline, age", None, 200, {"type": "object", "properties": {"conversations": {"type": "array", "items": {"$ref": "#/components/schemas/Summary"}}}}, (401,)),
    ("get", "/agents", "Every agent (supervisors and admins)", None, 200, {"type": "object", "properties": {"agents": {"type": "array", "items": _AGENT}}}, (401, 403)),
    ("post", "/agents", "Add an agent (admins)", {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "password": {"type": "string", "minLength": 12}, "role": {"enum": ["agent", "supervisor", "admin"]}, "teams": {"type": "array", "items": {"type": "string"}}, "capacity": {"type": "integer", "minimum": 0}, "languages": {"type": "array", "items": {"type": "string"}}}, "required": ["email", "name", "password"]}, 201, {"type": "object", "properties": {"agent": _AGENT}}, (401, 403, 409, 422)),
    ("get", "/metrics", "The escalation metrics of a period (supervisors and admins; docs/metrics.md)", None, 200, _METRICS_REPORT, _METRICS_ERRORS),
    ("get", "/metrics.csv", "The same report as a CSV download: a row per breakdown row, the totals first", None, 200, {"type": "string"}, _METRICS_ERRORS),
    ("get", "/conversations/{conversation_id}", "One conversation: ticket, context, transcript, history, notes", None, 200, _DETAIL, (401, 403, 404)),
    ("post", "/conversations/{conversation_id}/accept", "Take the conversation (supervisors may take one over)", None, 200, _DETAIL, (401, 403, 404, 409)),
    ("post", "/conversations/{conversation_id}/messages", "Write to the customer", _string_body("text", required=("text",)), 201, {"type": "object", "properties": {"message": {"$ref": "#/components/schemas/Message"}}}, (401, 403, 404, 409, 422)),
    ("post", "/conversations/{conversation_id}/typing", "Tell the customer you are typing", {"type": "object", "properties": {"typing": {"type": "boolean"}}, "required": ["typing"]}, 204, None, (401, 403, 404, 409, 422)),
    ("post", "/conversations/{conversation_id}/notes", "An internal note (never shown to the customer)", _string_body("text", required=("text",)), 201, {"type": "object", "properties": {"note": {"$ref": "#/components/schemas/Note"}}}, (401, 403, 404, 422)),
    ("post", "/conversations/{conversation_id}/transfer", "Functional escalation to another team", _string_body("team", "reason", required=("team",)), 200, _DETAIL, (401, 403, 404, 409, 422)),
    ("post", "/conversations/{conversation_id}/escalate", "Hierarchical escalation to the next level", _string_body("reason"), 200, _DETAIL, (401, 403, 404, 409)),
    ("post", "/conversations/{conversation_id}/resolve", "Resolve; the bot asks the customer for a rating", _string_body("reason"), 200, _DETAIL, (401, 403, 404, 409)),
    ("post", "/conversations/{conversation_id}/return-to-bot", "Give the conversation back to the bot", _string_body("reason"), 200, _DETAIL, (401, 403, 404, 409)),
    ("post", "/conversations/{conversation_id}/calls", "Offer a video call or ask for the customer's screen (docs/calls.md)", {"type": "object", "properties": {"media": {"enum": ["video", "screen"]}, "connection_id": _CONNECTION_ID}, "required": ["media", "connection_id"]}, 201, _CALL, _CALL_ERRORS),
    ("post", "/conversations/{conversation_id}/calls/{call_id}/accept", "Accept the customer's request for a call", {"type": "object", "properties": {"connection_id": _CONNECTION_ID}, "required": ["connection_id"]}, 200, _CALL, _CALL_ERRORS),
    ("post", "/conversations/{conversation_id}/calls/{call_id}/decline", "Decline the customer's request for a call", {"type": "object", "properties": {"reason": {"enum": ["declined", "permission_denied", "no_device", "unsupported"]}}}, 200, _CALL, _CALL_ERRORS),
    ("post", "/conversations/{conversation_id}/calls/{call_id}/signal", "Relay the offer, an ICE candidate, or 'connected' (bound console only)", _SIGNAL_BODY, 204, None, _CALL_ERRORS),
    ("post", "/conversations/{conversation_id}/calls/{call_id}/hangup", "End the call (also when it already ended)", {"type": "object", "properties": {"reason": {"enum": ["hung_up", "media_failed", "agent_disconnected"]}}}, 200, _CALL, _CALL_ERRORS),
]

_ERROR_TEXT = {
    400: "Malformed request body; for the metrics: a bad period or an unknown team",
    401: "Not signed in, or the session expired",
    403: "Not allowed (another team's conversation, a missing role, or a missing/wrong X-CSRF-Token)",
    404: "No such conversation",
    409: "Conflict: taken by another agent, already resolved, or not with you; for calls: busy, invalid_state, call_elsewhere",
    413: "A call signal over its size limit (too_large)",
    422: "A field is missing or wrong",
    429: "Too many failed sign-ins; for calls: too many ICE candidates or requests (rate_limited)",
}

_SCHEMAS: Dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "code": {"type": "string", "description": "call endpoints only: the code of docs/calls.md 3.5"},
        },
        "required": ["error"],
    },
    "Call": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "conversation_id": {"type": "string"},
            "media": {"enum": ["video", "screen"]},
            "provider": {"enum": ["webrtc", "jitsi"]},
            "state": {"enum": ["requested", "inviting", "connecting", "active", "ended"]},
            "started_by": {"enum": ["agent", "customer"]},
            "agent": {"type": "object", "nullable": True},
            "connection_id": {"type": "string", "nullable": True},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time", "nullable": True},
            "answered_at": {"type": "string", "format": "date-time", "nullable": True},
            "connected_at": {"type": "string", "format": "date-time", "nullable": True},
            "ended_at": {"type": "string", "format": "date-time", "nullable": True},
            "end_reason": {"type": "string", "nullable": True},
            "ended_by": {"enum": ["agent", "customer", "system"], "nullable": True},
            "duration_seconds": {"type": "integer", "nullable": True},
            "join_url": {"type": "string", "nullable": True},
        },
    },
    "CallNotice": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "event": {"enum": ["started", "ended"]},
            "media": {"enum": ["video", "screen"]},
            "provider": {"enum": ["webrtc", "jitsi"]},
            "started_by": {"enum": ["agent", "customer"]},
            "agent": {"type": "object", "nullable": True},
            "duration_seconds": {"type": "integer", "nullable": True},
            "end_reason": {"type": "string", "nullable": True},
        },
    },
    "Agent": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"enum": ["agent", "supervisor", "admin"]},
            "status": {"enum": ["online", "away", "offline"]},
            "capacity": {"type": "integer"},
            "languages": {"type": "array", "items": {"type": "string"}},
            "teams": {"type": "array", "items": {"type": "string"}},
            "active_chats": {"type": "integer"},
        },
    },
    "Ticket": {
        "type": "object",
        "properties": {
            "reference": {"type": "string"},
            "status": {"enum": ["open", "assigned", "resolved", "closed"]},
            "priority": {"enum": ["P1", "P2", "P3", "P4"]},
            "team": {"type": "string"},
            "team_name": {"type": "string"},
            "level": {"type": "integer"},
            "tier": {"type": "string"},
            "category": {"type": "string", "nullable": True},
            "first_response_due": {"type": "string", "format": "date-time"},
            "resolution_due": {"type": "string", "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"},
            "assigned_agent": {"type": "object", "nullable": True},
            "reasons": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Summary": {
        "type": "object",
        "properties": {
            "conversation_id": {"type": "string"},
            "state": {"enum": ["queued", "with_agent", "resolved", "bot"]},
            "customer": {"type": "object"},
            "ticket": {"$ref": "#/components/schemas/Ticket"},
            "last_message": {"type": "object", "nullable": True},
            "waiting_since": {"type": "string", "format": "date-time"},
            "offered_to_me": {"type": "boolean"},
        },
    },
    "Detail": {
        "allOf": [
            {"$ref": "#/components/schemas/Summary"},
            {
                "type": "object",
                "properties": {
                    "context": {"type": "object", "description": "The escalation packet (docs/escalation.md)"},
                    "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "history": {"type": "array", "items": {"type": "object"}},
                    "notes": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}},
                    "call": {
                        "allOf": [{"$ref": "#/components/schemas/Call"}],
                        "nullable": True,
                        "description": "the live call, or the latest if it ended under a minute ago",
                    },
                },
            },
        ]
    },
    "Message": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "nullable": True},
            "sender": {"enum": ["customer", "bot", "agent", "system"]},
            "text": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "agent": {"type": "object", "nullable": True},
            "intent": {"type": "object", "nullable": True},
            "sentiment": {"type": "object", "nullable": True},
            "call": {"$ref": "#/components/schemas/CallNotice"},
        },
    },
    "Note": {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "agent": {"type": "object"},
            "text": {"type": "string"},
        },
    },
}


def openapi_spec() -> Dict[str, Any]:
    """The description, built from the operation table above."""
    paths: Dict[str, Dict[str, Any]] = {}
    for method, path, summary, body, status, schema, errors in _OPERATIONS:
        operation: Dict[str, Any] = {"summary": summary, "responses": {}}
        if "{conversation_id}" in path:
            operation["parameters"] = [
                {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ]
        if "{call_id}" in path:
            operation["parameters"].append(
                {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}
            )
        if path.startswith("/metrics"):
            operation["parameters"] = list(_METRICS_PARAMETERS)
        if method != "get" and path != "/login":
            operation["parameters"] = operation.get("parameters", []) + [
                {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
            ]
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        success: Dict[str, Any] = {"description": "OK"}
        if schema is not None:
            success["content"] = {_MEDIA_TYPES.get((method, path), "application/json"): {"schema": schema}}
        operation["responses"][str(status)] = success
        for error in errors:
            operation["responses"][str(error)] = {
                "description": _ERROR_TEXT[error],
                "content": {"application/json": {"schema": _ERROR}},
            }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Baton agent desk",
            "version": "1",
            "description": "The agents' API. Sign in with POST /login; send the session's "
            "CSRF token in X-CSRF-Token with every request that changes something. Live "
            "updates: a WebSocket at /desk/api/live (docs/desk.md).",
        },
        "servers": [{"url": "/desk/api"}],
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "baton_desk"}},
        },
        "security": [{"session": []}],
    }
