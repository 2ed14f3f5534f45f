"""How the bot tells a customer when to expect a reply, in the team's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def when(due: dt.datetime, zone: ZoneInfo, now: dt.datetime) -> str:
    """`today at 14:30`, `tomorrow at 08:00`, `Monday at 11:00` or `3 December at 09:00`."""
    local_due, local_now = due.astimezone(zone), now.astimezone(zone)
    days = (local_due.date() - local_now.date()).days
    clock = f"{local_due:%H:%M}"
    if days <= 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"{local_due:%A} at {clock}"
    return f"{local_due.day} {local_due:%B} at {clock}"
