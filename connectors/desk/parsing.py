"""Reading a desk request: its JSON body, its fields and the metrics period, checked.

Each function raises a refusal a person can act on (`DeskError`, `InvalidRequest`,
a call's `malformed_payload`); connectors/desk/errors.py answers it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, Sequence

from sanic.request import Request

from bot.calls import protocol as calls_protocol
from bot.calls.errors import CallRefused
from bot.desk.agents import AgentExists
from bot.desk.service import Conflict, DeskError, InvalidRequest
from bot.metrics.kpis import MetricsQuery
from bot.metrics.period import parse_moment
from connectors.desk.errors import CallError

JSON_CONTENT_TYPE = "application/json"
# The metrics endpoints: the period when none is asked for, and the longest one allowed
# (a year and a day: one report must not scan the whole history).
DEFAULT_METRICS_SINCE = "7d"
MAX_METRICS_DAYS = 366


def is_json(request: Request) -> bool:
    """Whether the request says its body is JSON (a form post from another site cannot)."""
    content_type = (request.headers.get("content-type") or "").split(";")[0]
    return content_type.strip().lower() == JSON_CONTENT_TYPE


def body(request: Request, signed_in: bool = True) -> Dict[str, Any]:
    """The request's JSON object; read only after the session was checked.

    Raises:
        RuntimeError: a handler reads a body before checking who sent it (a bug:
            a stranger's body must cost us nothing but its bounded bytes).
    """
    if signed_in and getattr(request.ctx, "desk_session", None) is None:
        raise RuntimeError("the desk read a body before checking the session")
    if not request.body:
        return {}
    try:
        value = json.loads(request.body)
    except ValueError as error:
        raise DeskError(f"The body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise DeskError("The body must be a JSON object.")
    if _holds_nul(value):
        # PostgreSQL cannot store a NUL in text: refused here, not a server error later.
        raise DeskError("Text may not contain NUL (\\u0000) characters.")
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def call_body(request: Request) -> Dict[str, Any]:
    """A call request's JSON object; anything else is `malformed_payload` (422)."""
    try:
        return body(request)
    except DeskError as error:
        raise CallError(
            CallRefused(calls_protocol.MALFORMED_PAYLOAD, "malformed", error.message)
        ) from None


def text_field(fields: Dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' is required (a non-empty string).")
    return value.strip()


def optional_text(fields: Dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string.")
    return value


def metrics_query(request: Request, now: dt.datetime, team_keys: Sequence[str]) -> MetricsQuery:
    """`since`, `until` and `team` of a metrics request, checked; a 400 says what is wrong."""
    moments = {}
    for name, default in (("since", DEFAULT_METRICS_SINCE), ("until", None)):
        raw = (request.args.get(name) or "").strip()
        if not raw and default is None:
            moments[name] = now
            continue
        try:
            moments[name] = parse_moment(raw or default or "", now)
        except ValueError as error:
            raise DeskError(f"'{name}': {error}") from None
    since, until = moments["since"], moments["until"]
    if since >= until:
        raise DeskError(
            f"'since' ({since.isoformat()}) must be before 'until' ({until.isoformat()})."
        )
    if until - since > dt.timedelta(days=MAX_METRICS_DAYS):
        raise DeskError(
            f"The period is {(until - since).days} days; "
            f"ask for at most {MAX_METRICS_DAYS} days at a time."
        )
    team = (request.args.get("team") or "").strip() or None
    if team is not None and team not in team_keys:
        raise DeskError(f"Unknown team {team!r}; known teams: {', '.join(team_keys)}.")
    return MetricsQuery(since=since, until=until, team=team)


def file_moment(moment: dt.datetime) -> str:
    """A period bound in a file name: the date, and the time (no colons) when not midnight."""
    moment = moment.astimezone(dt.timezone.utc)
    if moment.time() == dt.time(0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H%M")


def directory_error(error: ValueError) -> DeskError:
    """A refusal of the agent directory (weak password, bad role, unknown team, duplicate)."""
    if isinstance(error, AgentExists):
        return Conflict(str(error))
    return InvalidRequest(str(error))
