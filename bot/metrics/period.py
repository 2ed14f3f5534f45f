"""The moments people type for a report's period: "7d" back from now, or a date."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Far enough back for any real report; beyond it a typo ("7000d") is more likely.
MAX_LOOKBACK = dt.timedelta(days=3660)


def parse_moment(text: str, now: dt.datetime) -> dt.datetime:
    """`7d`, `12h`, `30m`, `2w` before `now`, or an ISO date (`2026-11-01`, that day's
    00:00 UTC) or date-time (`2026-11-01T09:30`, UTC unless it names a zone).

    Raises:
        ValueError: neither form, with what would be understood.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    duration = _DURATION.match(text or "")
    if duration:
        amount, unit = int(duration.group(1)), duration.group(2).lower()
        if amount == 0:
            raise ValueError(f"{text!r}: a duration back from now must be more than zero")
        back = dt.timedelta(**{_UNITS[unit]: amount})
        if back > MAX_LOOKBACK:
            raise ValueError(f"{text!r} reaches back more than {MAX_LOOKBACK.days} days")
        return now - back
    try:
        # A bare date is that day's midnight UTC (fromisoformat reads it so too).
        moment = dt.datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a moment: use a duration back from now (7d, 12h, 30m, 2w) "
            "or a date (2026-11-01) or date and time (2026-11-01T09:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
