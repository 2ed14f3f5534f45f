"""The interfaces every limiter, back-off and concurrency budget implements.

They are asynchronous so that an implementation shared between replicas
(Redis) can do its I/O without blocking the event loop; the in-memory ones
never wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

# Seconds on a monotonic scale; `time.monotonic` in production, a test's own counter in tests.
Clock = Callable[[], float]


@dataclass(frozen=True)
class Verdict:
    """Whether an action may go ahead now, and if not, how long until it may."""

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """`retry_after` in whole seconds, rounded up (HTTP's Retry-After); 1 or more if refused."""
        seconds = math.ceil(self.retry_after)
        return seconds if self.allowed else max(seconds, 1)


ALLOWED = Verdict(True)


class RateLimiter(Protocol):
    """A budget of actions per key that refills over time (a token bucket)."""

    async def hit(self, key: str, cost: float = 1.0) -> Verdict:
        """Take `cost` from the key's budget if there is that much left."""

    async def refund(self, key: str, cost: float = 1.0) -> None:
        """Give back what a `hit` took (an action that turned out legitimate)."""


class BackOff(Protocol):
    """A growing wait after repeated failures of one key, forgotten after a success."""

    async def check(self, key: str) -> Verdict:
        """Whether the key may try now."""

    async def failed(self, key: str) -> Verdict:
        """Count a failure; the verdict says how long the key must now wait."""

    async def succeeded(self, key: str) -> None:
        """Forget the key's failures."""


class ConcurrencyLimit(Protocol):
    """At most N actions of one key in flight at once."""

    async def enter(self, key: str) -> bool:
        """Take a place for the key; False when all of its places are taken."""

    async def leave(self, key: str) -> None:
        """Give back a place taken by `enter`."""
