"""`--since 7d` or `--since 2026-11-01`: the start of the period a command looks at."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"^(\d+)\s*([wdhm])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """The start of the period, as an aware UTC datetime.

    Args:
        text: a duration back from `now` ("7d", "12h", "30m", "2w") or a date
            ("2026-11-01", midnight UTC) or an ISO date and time ("2026-11-01T09:00",
            UTC unless it names its zone).
        now: the end of the period (aware).

    Raises:
        ValueError: with a message saying what is accepted.
    """
    value = text.strip().lower()
    match = _DURATION.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        if amount <= 0:
            raise ValueError(f"--since {text!r}: the duration must be more than zero")
        return now - dt.timedelta(**{_UNITS[unit]: amount})
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        else:
            start = dt.datetime.fromisoformat(text.strip())
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration nor a date; "
            "allowed: 7d, 12h, 30m, 2w, or a date such as 2026-11-01"
        ) from None
    start = start.astimezone(dt.timezone.utc)
    if start >= now:
        raise ValueError(f"--since {text!r} is not in the past")
    return start
