"""Prometheus metrics for operators (`GET /metrics`, docs/metrics.md): one registry per process.

Two kinds of numbers, kept apart on purpose:

- **Counts that live in the database** (conversations, escalations by type, the
  queue, agents by status) are read by `DatabaseCollector` when Prometheus
  scrapes, with a few aggregate queries cached for a few seconds. They are right
  on every replica and after every restart, and they include what other
  processes wrote (the action server creates the tickets). Every replica reports
  the same values: aggregate them with `max`, not `sum`.
- **Latencies observed in this process** (`baton_queue_wait_seconds`,
  `baton_relay_latency_seconds`) are histograms fed by one-line hooks in the desk
  and the webchat channel (`observe_queue_wait`, `observe_relay`). Each replica
  counts what it relayed: aggregate them with `sum`.

`BatonMetrics` owns a dedicated `CollectorRegistry` (never the global default), is
created when the server starts, and is `install`ed for the hooks to find; with
none installed (no metrics channel, most tests) the hooks do nothing. Nothing
happens at import time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, Tuple, TypeVar

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.escalation.types import PRIORITIES, EscalationType
from bot.store.models import Agent, Conversation, Team, Ticket
from bot.tickets.states import AGENT_STATUSES, CONVERSATION_STATES, TICKET_OPEN

logger = logging.getLogger(__name__)

# `baton_relay_latency_seconds{direction=...}`
CUSTOMER_TO_AGENT = "customer_to_agent"
AGENT_TO_CUSTOMER = "agent_to_customer"
RELAY_DIRECTIONS = (CUSTOMER_TO_AGENT, AGENT_TO_CUSTOMER)
# A relay is a database read or write and a socket send: milliseconds, seconds when
# the server is struggling (docs/benchmarks.md measures p50 in the tens of ms).
RELAY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Waiting for an agent: seconds when someone is online, hours overnight.
QUEUE_WAIT_BUCKETS = tuple(
    float(seconds)
    for seconds in (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
)
# Long enough that a burst of scrapes (several Prometheus servers, a person with
# curl) costs one read; short against any scrape interval.
DEFAULT_CACHE_SECONDS = 5.0
# The label value of a NULL column (a conversation without a channel, a ticket
# from before its escalation type was recorded).
UNKNOWN = "unknown"
# A ticket waiting in the queue: open (not yet taken) and not assigned to anyone.
QUEUED_TICKET_STATUS = TICKET_OPEN

K = TypeVar("K")

_CONVERSATIONS = Conversation.__table__
_TICKETS = Ticket.__table__
_TEAMS = Team.__table__
_AGENTS = Agent.__table__


@dataclass(frozen=True)
class DatabaseCounts:
    """One read of the counts the database holds; keys are label values."""

    conversations: Dict[Tuple[str, str], int] = field(default_factory=dict)  # (channel, state)
    escalations: Dict[str, int] = field(default_factory=dict)  # escalation type
    queue: Dict[Tuple[str, str], int] = field(default_factory=dict)  # (team, priority)
    agents: Dict[str, int] = field(default_factory=dict)  # status
    teams: Tuple[str, ...] = ()


def read_counts(engine: Engine) -> DatabaseCounts:
    """The database's counts, in a few aggregate queries (no row is loaded)."""
    with engine.connect() as connection:
        conversations = connection.execute(
            select(_CONVERSATIONS.c.channel, _CONVERSATIONS.c.state, func.count()).group_by(
                _CONVERSATIONS.c.channel, _CONVERSATIONS.c.state
            )
        ).all()
        escalations = connection.execute(
            select(_TICKETS.c.escalation_type, func.count()).group_by(_TICKETS.c.escalation_type)
        ).all()
        queue = connection.execute(
            select(_TICKETS.c.team, _TICKETS.c.priority, func.count())
            .where(
                and_(
                    _TICKETS.c.status == QUEUED_TICKET_STATUS,
                    _TICKETS.c.assigned_agent_id.is_(None),
                )
            )
            .group_by(_TICKETS.c.team, _TICKETS.c.priority)
        ).all()
        agents = connection.execute(
            select(_AGENTS.c.status, func.count()).group_by(_AGENTS.c.status)
        ).all()
        teams = connection.execute(select(_TEAMS.c.key)).scalars().all()
    return DatabaseCounts(
        conversations=_summed(
            ((channel or UNKNOWN, state), n) for channel, state, n in conversations
        ),
        escalations=_summed((kind or UNKNOWN, n) for kind, n in escalations),
        queue=_summed(((team, priority), n) for team, priority, n in queue),
        agents=_summed((status, n) for status, n in agents),
        teams=tuple(sorted(teams)),
    )


def _summed(pairs: Iterable[Tuple[K, int]]) -> Dict[K, int]:
    # NULL and a stored "unknown" land on one label: add, never overwrite.
    totals: Dict[K, int] = {}
    for key, count in pairs:
        totals[key] = totals.get(key, 0) + int(count)
    return totals


class DatabaseCollector:
    """A custom collector: the database's counts, read when scraped, cached a few seconds.

    A failed read is logged and shown as `baton_metrics_database_up 0` (and no
    database family) instead of failing the scrape; it is cached like a success,
    so a burst of scrapes does not hammer a database that is down.
    """

    def __init__(
        self,
        read: Callable[[], DatabaseCounts],
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._cache_seconds = cache_seconds
        self._clock = clock
        # Scrapes are served from worker threads: one reads, the others wait and share.
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._counts: DatabaseCounts | None = None

    def counts(self) -> DatabaseCounts | None:
        """The cached read, refreshed when older than the cache; None when the read failed."""
        with self._lock:
            if self._read_at is not None and self._clock() - self._read_at < self._cache_seconds:
                return self._counts
            try:
                self._counts = self._read()
            except SQLAlchemyError as error:
                first_line = str(getattr(error, "orig", None) or error).strip().splitlines()
                logger.warning(
                    "metrics.database.unavailable error=%s detail=%s",
                    type(error).__name__,
                    first_line[0] if first_line else "",
                )
                self._counts = None
            self._read_at = self._clock()
            return self._counts

    def describe(self) -> Iterable[Metric]:
        # Registering must not query the database (the registry would collect() to learn the names).
        return []

    def collect(self) -> Iterator[Metric]:
        counts = self.counts()
        yield GaugeMetricFamily(
            "baton_metrics_database_up",
            "1 when the last read of the database's counts succeeded, 0 when it failed (see the "
            "log).",
            value=1 if counts is not None else 0,
        )
        if counts is None:
            return
        yield from _database_families(counts)


def _database_families(counts: DatabaseCounts) -> Iterator[Metric]:
    started = CounterMetricFamily(
        "baton_conversations",
        "Conversations started, by channel (rows of the conversations table, which are never "
        "deleted).",
        labels=["channel"],
    )
    by_channel: Dict[str, int] = {}
    for (channel, _state), count in counts.conversations.items():
        by_channel[channel] = by_channel.get(channel, 0) + count
    for channel, count in sorted(by_channel.items()):
        started.add_metric([channel], count)
    yield started

    current = GaugeMetricFamily(
        "baton_conversations_by_state",
        "Conversations by channel and current state (bot, queued, with_agent, resolved).",
        labels=["channel", "state"],
    )
    for channel in sorted(by_channel):
        states = sorted(
            {*CONVERSATION_STATES, *(s for c, s in counts.conversations if c == channel)}
        )
        for state in states:
            current.add_metric([channel, state], counts.conversations.get((channel, state), 0))
    yield current

    escalations = CounterMetricFamily(
        "baton_escalations",
        "Escalations (one ticket each) by the type of their first reason.",
        labels=["type"],
    )
    kinds = {*(kind.value for kind in EscalationType), *counts.escalations}
    for kind in sorted(kinds):
        escalations.add_metric([kind], counts.escalations.get(kind, 0))
    yield escalations

    queue = GaugeMetricFamily(
        "baton_queue_length",
        "Tickets waiting for an agent (open and not assigned), by team and priority.",
        labels=["team", "priority"],
    )
    teams = {*counts.teams, *(team for team, _ in counts.queue)}
    for team in sorted(teams):
        for priority in sorted({*PRIORITIES, *(p for t, p in counts.queue if t == team)}):
            queue.add_metric([team, priority], counts.queue.get((team, priority), 0))
    yield queue

    agents = GaugeMetricFamily(
        "baton_agents", "Desk agents by status (online, away, offline).", labels=["status"]
    )
    for status in sorted({*AGENT_STATUSES, *counts.agents}):
        agents.add_metric([status], counts.agents.get(status, 0))
    yield agents


class BatonMetrics:
    """The process's metrics: a dedicated registry, the two histograms, the database collector."""

    def __init__(
        self,
        read_database: Callable[[], DatabaseCounts] | None = None,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.queue_wait = Histogram(
            "baton_queue_wait_seconds",
            "From a ticket's creation to the first agent accepting it, observed on the replica "
            "that accepted.",
            buckets=QUEUE_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.relay_latency = Histogram(
            "baton_relay_latency_seconds",
            "From receiving a chat message to handing it to the other side's sockets, by "
            "direction.",
            labelnames=["direction"],
            buckets=RELAY_BUCKETS,
            registry=self.registry,
        )
        for direction in RELAY_DIRECTIONS:  # both series exist (at 0) from the start
            self.relay_latency.labels(direction=direction)
        self.database: DatabaseCollector | None = None
        if read_database is not None:
            self.database = DatabaseCollector(read_database, cache_seconds, clock)
            self.registry.register(self.database)

    @classmethod
    def for_engine(
        cls, engine: Engine, cache_seconds: float = DEFAULT_CACHE_SECONDS
    ) -> BatonMetrics:
        return cls(lambda: read_counts(engine), cache_seconds)

    def exposition(self, accept: str | None = None) -> Tuple[bytes, str]:
        """The registry in the format the `Accept` header asks for (Prometheus text by default).

        Blocking (the database read): call it from a worker thread.
        """
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


_installed: BatonMetrics | None = None


def install(metrics: BatonMetrics | None) -> None:
    """Make `metrics` the one the hooks feed (None: the hooks do nothing)."""
    global _installed
    _installed = metrics


def installed() -> BatonMetrics | None:
    return _installed


def observe_queue_wait(waited: dt.timedelta) -> None:
    """Hook: an agent accepted a ticket for the first time, `waited` after its creation."""
    if _installed is not None:
        # Clocks of two hosts (the ticket's creator, this one) may disagree a little.
        _installed.queue_wait.observe(max(0.0, waited.total_seconds()))


def observe_relay(direction: str, seconds: float) -> None:
    """Hook: a message crossed from one side to the other in `seconds`."""
    if _installed is not None:
        _installed.relay_latency.labels(direction=direction).observe(max(0.0, seconds))
