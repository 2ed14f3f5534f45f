"""A monotonic clock the test advances: what every limiter and back-off takes instead of time."""

from __future__ import annotations


class ManualClock:
    """Seconds on a monotonic scale that move only when the test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
