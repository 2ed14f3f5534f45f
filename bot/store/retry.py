"""Bounded retries for database calls that may meet a broken connection.

Only transient failures are retried: a dropped or refused connection, a lock
timeout, a serialization failure (all `OperationalError`), or any DBAPI error
after which SQLAlchemy invalidated the connection. A retry is safe only for
idempotent work: the ticket store's writes carry an idempotency key, so a retry
after a commit whose acknowledgement was lost finds the row it already wrote.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database did not answer after every retry; nothing more can be promised."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try, and how long to wait between tries (exponential, jittered)."""

    attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 2.0
    # Injected so tests retry without waiting; production sleeps for real.
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts is {self.attempts}; it must be at least 1")

    def delay(self, attempt: int) -> float:
        """The wait after failed try number `attempt` (1-based), with up to 50% jitter."""
        ceiling = min(self.max_delay, self.base_delay * float(2 ** (attempt - 1)))
        # Jitter keeps replicas that failed together from retrying in lockstep.
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 — retry jitter, nothing secret or guessable is at stake


def is_transient(error: BaseException) -> bool:
    """Whether trying the same work again may succeed."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    what: str = "database call",
) -> T:
    """Run `operation`, retrying transient database failures with backoff.

    Args:
        operation: idempotent work; it opens its own session each time.
        policy: attempts and delays (the defaults when None).
        what: names the work in logs and in the final error.

    Returns:
        What `operation` returned.

    Raises:
        StoreUnavailable: every attempt failed with a transient error.
        Exception: a non-transient error, at once and unchanged.
    """
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except DBAPIError as error:
            if not is_transient(error):
                raise
            if attempt == policy.attempts:
                logger.error(
                    "store.unavailable what=%s attempts=%d error=%s",
                    what,
                    attempt,
                    type(error.orig).__name__ if error.orig is not None else type(error).__name__,
                )
                raise StoreUnavailable(
                    f"{what} failed {attempt} times: the database is unavailable"
                ) from error
            delay = policy.delay(attempt)
            logger.warning(
                "store.retry what=%s attempt=%d delay=%.3f invalidated=%s",
                what,
                attempt,
                delay,
                error.connection_invalidated,
            )
            policy.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover
