"""`--since 7d` or `--since 2026-11-01`: the start of the period a command looks at."""

from __future__ import annotations

import datetime as dt

from bot.metrics.period import parse_moment


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """The start of the period, as an aware UTC datetime (`bot.metrics.period.parse_moment`),
    which must lie before `now`.

    Raises:
        ValueError: with a message saying what is accepted.
    """
    try:
        start = parse_moment(text, now)
    except ValueError as problem:
        raise ValueError(f"--since: {problem}") from None
    if start >= now:
        raise ValueError(f"--since {text!r} is not in the past")
    return start
