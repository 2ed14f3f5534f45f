"""In-process implementations of the limits (one replica; tests).

Each keeps at most `max_keys` keys: a key whose state has gone back to the
default (a full bucket, no recent failure) is the same as no key, so those are
dropped first; only when every key is still busy is the least recently used one
forgotten, which errs towards letting a stranger through, never towards
refusing everybody.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Generic, TypeVar

from bot.limits.interface import ALLOWED, Clock, Verdict

DEFAULT_MAX_KEYS = 50_000

State = TypeVar("State")


class _BoundedStates(Generic[State]):
    """Per-key state in least-recently-used order, at most `max_keys` of them."""

    def __init__(self, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._states: OrderedDict[str, State] = OrderedDict()

    def get(self, key: str) -> State | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, key: str, state: State, idle: Callable[[State], bool]) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        if len(self._states) > self.max_keys:
            # One scan frees a tenth of the room at least, so a flood of keys costs
            # an amortised constant per key, not a scan per key.
            for stale in [other for other, kept in self._states.items() if idle(kept)]:
                del self._states[stale]
            while len(self._states) > self.max_keys * 9 // 10:
                self._states.popitem(last=False)

    def pop(self, key: str) -> None:
        self._states.pop(key, None)

    def __len__(self) -> int:
        return len(self._states)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class MemoryRateLimiter:
    """`capacity` actions per `period` seconds for each key, with bursts up to `capacity`."""

    def __init__(
        self,
        capacity: float,
        period: float,
        clock: Clock = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if capacity <= 0 or period <= 0:
            raise ValueError("a rate limit needs a positive capacity and period")
        self.capacity = float(capacity)
        self.rate = self.capacity / period
        self.clock = clock
        self._buckets: _BoundedStates[_Bucket] = _BoundedStates(max_keys)

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def _full(self, bucket: _Bucket) -> bool:
        return bucket.tokens + (self.clock() - bucket.updated) * self.rate >= self.capacity

    async def hit(self, key: str, cost: float = 1.0) -> Verdict:
        now = self.clock()
        bucket = self._refilled(key, now)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            self._buckets.put(key, bucket, self._full)
            return ALLOWED
        self._buckets.put(key, bucket, self._full)
        return Verdict(False, (cost - bucket.tokens) / self.rate)

    async def refund(self, key: str, cost: float = 1.0) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.capacity, bucket.tokens + cost)


@dataclass
class _Failures:
    count: int
    last: float


class MemoryBackOff:
    """After `free_failures` failures a key waits `base_delay`, each further one doubling it.

    A key's failures are forgotten `forget_after` seconds after the last one, or
    at a success. The wait never grows past `max_delay`: a stranger guessing at
    somebody's address slows them down, but can never lock them out for long.
    """

    def __init__(
        self,
        free_failures: int,
        base_delay: float,
        max_delay: float,
        forget_after: float,
        clock: Clock = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if free_failures < 0 or base_delay <= 0 or max_delay < base_delay or forget_after <= 0:
            raise ValueError("a back-off needs free_failures >= 0 and 0 < base_delay <= max_delay")
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.clock = clock
        self._failures: _BoundedStates[_Failures] = _BoundedStates(max_keys)

    def delay_after(self, failures: int) -> float:
        """The wait after `failures` failures in a row: none until `free_failures`, then doubled."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return 0.0
        return min(self.max_delay, self.base_delay * float(2 ** min(beyond, 32)))

    def _current(self, key: str, now: float) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and now - failures.last >= self.forget_after:
            self._failures.pop(key)
            return None
        return failures

    def _verdict(self, failures: _Failures | None, now: float) -> Verdict:
        if failures is None:
            return ALLOWED
        wait = failures.last + self.delay_after(failures.count) - now
        return ALLOWED if wait <= 0 else Verdict(False, wait)

    def _idle(self, failures: _Failures) -> bool:
        return self.clock() - failures.last >= self.forget_after

    async def check(self, key: str) -> Verdict:
        now = self.clock()
        return self._verdict(self._current(key, now), now)

    async def failed(self, key: str) -> Verdict:
        now = self.clock()
        failures = self._current(key, now) or _Failures(0, now)
        failures.count += 1
        failures.last = now
        self._failures.put(key, failures, self._idle)
        return self._verdict(failures, now)

    async def succeeded(self, key: str) -> None:
        self._failures.pop(key)


class MemoryConcurrencyLimit:
    """At most `limit` actions of one key in flight at once."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a concurrency limit must be at least 1")
        self.limit = limit
        self._in_flight: Dict[str, int] = {}

    async def enter(self, key: str) -> bool:
        taken = self._in_flight.get(key, 0)
        if taken >= self.limit:
            return False
        self._in_flight[key] = taken + 1
        return True

    async def leave(self, key: str) -> None:
        taken = self._in_flight.get(key, 0) - 1
        if taken > 0:
            self._in_flight[key] = taken
        else:
            self._in_flight.pop(key, None)

    def in_flight(self, key: str) -> int:
        """How many places the key holds now."""
        return self._in_flight.get(key, 0)
