"""Clock arithmetic inside a team's opening hours, in the team's own time zone.

All functions take and return timezone-aware datetimes. Opening hours are local wall-clock
times; each range is turned into an aware interval and compared in UTC, so a range on a
daylight-saving day is as long as it really is (07:00-09:00 over a spring-forward is 1 hour).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Iterator, Tuple

from bot.escalation.policy import BusinessHours, TimeRange

UTC = dt.timezone.utc
# A week always contains an open day (the loader refuses teams that never open), so the
# searches below end within 8 days; the cap only guards against a hand-built BusinessHours.
_SEARCH_DAYS = 370


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


def _local(day: dt.date, minutes: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The aware UTC moment of `minutes` after local midnight of `day` (1440 = next midnight)."""
    day_offset, minutes = divmod(minutes, 24 * 60)
    wall = dt.datetime.combine(day + dt.timedelta(days=day_offset), dt.time(), tzinfo=zone)
    return (wall + dt.timedelta(minutes=minutes)).astimezone(UTC)


def open_intervals(
    hours: BusinessHours, zone: zoneinfo.ZoneInfo, since: dt.datetime
) -> Iterator[Tuple[dt.datetime, dt.datetime]]:
    """The team's open intervals (UTC start, UTC end) that end after `since`, in order."""
    _require_aware(since)
    # Start a day early: `since` may fall on the previous local day after a UTC conversion.
    day = since.astimezone(zone).date() - dt.timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        for time_range in hours.days[day.weekday()]:
            start, end = _local(day, time_range.start, zone), _local(day, time_range.end, zone)
            if end > since:
                yield max(start, since), end
        day += dt.timedelta(days=1)


def add_open_time(
    start: dt.datetime, amount: dt.timedelta, hours: BusinessHours, zone: zoneinfo.ZoneInfo
) -> dt.datetime:
    """The moment when `amount` of open time has passed since `start`.

    With a zero `amount` this is the next moment the team is open (or `start` itself).
    """
    remaining = amount
    for open_from, open_until in open_intervals(hours, zone, start):
        available = open_until - open_from
        if remaining <= available:
            return open_from + remaining
        remaining -= available
    raise ValueError("the team's business hours are never open")


def add_working_days(
    start: dt.datetime, days: int, hours: BusinessHours, zone: zoneinfo.ZoneInfo
) -> dt.datetime:
    """The same local time of day `days` open days after `start`, kept inside opening hours.

    `start` should be an open moment (see `add_open_time(start, 0, …)`). When that time of
    day is not open on the target day, the deadline is the last closing time before it
    that day ("by the end of that day's hours"), or else that day's opening time.
    """
    moment = start
    for _ in range(days):
        local = moment.astimezone(zone)
        minutes = local.hour * 60 + local.minute
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            ranges = hours.days[day.weekday()]
            if ranges:
                break
        else:
            raise ValueError("the team's business hours are never open")
        fitted = _fit(minutes, ranges)
        moment = _local(day, fitted, zone)
        if fitted == minutes:
            # Keep the seconds as well, so "2d" is never a few seconds short.
            moment += dt.timedelta(seconds=local.second, microseconds=local.microsecond)
    return moment


def _inside(minutes: int, ranges: Tuple[TimeRange, ...]) -> bool:
    return any(r.start <= minutes < r.end for r in ranges)


def _fit(minutes: int, ranges: Tuple[TimeRange, ...]) -> int:
    """`minutes` if open in `ranges`, else the last closing before it, else the first opening."""
    if _inside(minutes, ranges):
        return minutes
    closed_before = [r.end for r in ranges if r.end <= minutes]
    return max(closed_before) if closed_before else ranges[0].start
