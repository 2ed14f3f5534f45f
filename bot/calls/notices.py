"""A call's lines in the transcript (docs/calls.md 1.3.3): the text and the tracker metadata."""

from __future__ import annotations

import uuid
from typing import Any, Dict

from bot.calls import protocol as p
from bot.calls.records import CallRecord
from bot.constants import METADATA_CALL

METADATA_MESSAGE_ID = "message_id"
LABELS = {p.MEDIA_VIDEO: "Video call", p.MEDIA_SCREEN: "Screen sharing"}
NEVER_ACTIVE = {
    p.DECLINED: "declined",
    p.PERMISSION_DENIED: "could not start: access was blocked in the browser",
    p.NO_DEVICE: "could not start: no camera or microphone found",
    p.UNSUPPORTED: "could not start: this browser cannot do it",
    p.UNANSWERED: "not answered",
    p.CANCELLED: "cancelled",
    p.CONVERSATION_CLOSED: "cancelled",
    p.AGENT_CHANGED: "cancelled",
}


def format_duration(seconds: int) -> str:
    """`45 s`, `4 min 12 s`, `1 h 2 min`."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def notice_text(record: CallRecord) -> str:
    label = LABELS.get(record.media, "Call")
    if record.state != p.STATE_ENDED:
        return f"{label} started"
    duration = record.duration_seconds
    if duration is not None:
        return f"{label} ended after {format_duration(duration)}"
    return f"{label} {NEVER_ACTIVE.get(record.end_reason or '', 'could not connect')}"


def call_notice(record: CallRecord, event: str) -> Dict[str, Any]:
    """The **CallNotice** object."""
    return {
        "id": record.id,
        "event": event,
        "media": record.media,
        "provider": record.provider,
        "started_by": record.starter,
        "agent": {"id": record.agent_id, "name": record.agent_name}
        if record.agent_id is not None
        else None,
        "duration_seconds": record.duration_seconds if event == "ended" else None,
        "end_reason": record.end_reason if event == "ended" else None,
    }


def notice_metadata(record: CallRecord, event: str) -> Dict[str, Any]:
    """The BotUttered metadata of a call line: a message id and `call` (never `agent`)."""
    return {METADATA_MESSAGE_ID: uuid.uuid4().hex, METADATA_CALL: call_notice(record, event)}
