"""The ticket store and the SLA clock under load.

- ticket creation (`open_ticket` with a 50-turn transcript in its context):
  p50/p95 over 200 creations, on SQLite (a file) and on PostgreSQL;
- one clock sweep over 10,000 open tickets whose first response is overdue,
  on PostgreSQL (seeded with bulk inserts; only the sweep is timed).

PostgreSQL comes from `BATON_BENCH_POSTGRES_URL` (else `BATON_TEST_POSTGRES_URL`,
else 127.0.0.1:5432/test as postgres); each run works in a throwaway schema.
Run: `python -m benchmarks.store`.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Generator, List, Tuple, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory
from bot.escalation.clock import DEFAULT_BATCH_SIZE, EscalationClock
from bot.escalation.notify import BreachNotice
from bot.escalation.types import (
    BreachAction,
    BreachKind,
    BreachOutcome,
    CaseSignals,
    EscalationReason,
    EscalationType,
    NextLevel,
    RoutingDecision,
)
from bot.migrate import upgrade
from bot.store import CustomerInfo, TicketStore
from tests.store.seeding import seed_breached

CREATIONS = 200
TRANSCRIPT_TURNS = 50
SWEEP_TICKETS = 10_000
# The clock's own batch size (what `bot clock` sweeps with).
SWEEP_BATCH_SIZE = DEFAULT_BATCH_SIZE
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
FIRST_RESPONSE = dt.timedelta(minutes=15)
RESOLUTION = dt.timedelta(hours=4)
TIERS = ("agent", "specialist", "supervisor")


class BenchPolicy:
    """Fixed deadlines; escalate and notify up to the top tier (times the clock, not the YAML)."""

    def route(self, signals: CaseSignals, now: dt.datetime) -> RoutingDecision:
        return decision(now)

    def deadlines(
        self, priority: str, team: str, start: dt.datetime
    ) -> Tuple[dt.datetime, dt.datetime]:
        return start + FIRST_RESPONSE, start + RESOLUTION

    def on_breach(self, kind: BreachKind, priority: str, team: str, level: int) -> BreachOutcome:
        if level + 1 < len(TIERS):
            return BreachOutcome(
                actions=(BreachAction.ESCALATE, BreachAction.NOTIFY),
                next_level=NextLevel(team, level + 1, TIERS[level + 1]),
            )
        return BreachOutcome(actions=(BreachAction.NOTIFY,))


class CountingNotifier:
    def __init__(self) -> None:
        self.count = 0

    def notify(self, notice: BreachNotice) -> None:
        self.count += 1


def decision(now: dt.datetime) -> RoutingDecision:
    return RoutingDecision(
        team="billing",
        level=0,
        tier=TIERS[0],
        priority="P3",
        priority_rules=(),
        reasons=(
            EscalationReason(
                EscalationType.CUSTOMER_INITIATED, "asked_for_human", "asked for a person"
            ),
            EscalationReason(EscalationType.FUNCTIONAL, "category_billing", "category billing"),
        ),
        first_response_due=now + FIRST_RESPONSE,
        resolution_due=now + RESOLUTION,
    )


def packet(turns: int) -> Dict[str, object]:
    """An escalation packet of realistic size: a transcript of `turns` turns and the details."""
    return {
        "version": 1,
        "transcript": [
            {
                "sender": "customer" if index % 2 == 0 else "bot",
                "text": (
                    f"turn {index}: my last bill has a charge I do not recognise, can you explain "
                    "it"
                ),
                "timestamp": 1764493200.0 + index,
                "intent": "billing_question" if index % 2 == 0 else None,
                "confidence": 0.87,
                "sentiment": -0.2,
            }
            for index in range(turns)
        ],
        "details": {"case_category": "billing", "case_description": "Charged twice in November"},
        "fallback_count": 2,
    }


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def time_creations(session_factory: sessionmaker) -> Tuple[float, float]:
    """p50 and p95 in milliseconds of `open_ticket` over `CREATIONS` new escalations."""
    store = TicketStore(session_factory)
    context = packet(TRANSCRIPT_TURNS)
    customer = CustomerInfo(
        external_id="C-1001", name="Alice", email="alice@example.com", tier="business"
    )
    samples = []
    for index in range(CREATIONS):
        now = T0 + dt.timedelta(seconds=index)
        started = time.perf_counter()
        store.open_ticket(
            idempotency_key=f"bench-{index}",
            # One conversation each: a conversation has one live ticket (migration 0007),
            # so a second escalation of a queued one would return it, not open one.
            conversation_sender_id=f"bench-conversation-{index}",
            channel="webchat",
            customer=customer,
            decision=decision(now),
            context=context,
            category="billing",
            now=now,
        )
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def time_sweep(session_factory: sessionmaker) -> Tuple[float, int]:
    """Seconds for one sweep over `SWEEP_TICKETS` breached tickets, and breaches handled."""
    seed_breached(session_factory, SWEEP_TICKETS, decision(T0), T0)
    notifier = CountingNotifier()
    clock = EscalationClock(
        session_factory, BenchPolicy(), notifier, lambda: T0 + FIRST_RESPONSE * 2
    )
    started = time.perf_counter()
    result = clock.sweep(batch_size=SWEEP_BATCH_SIZE)
    return time.perf_counter() - started, result["breaches"]


def postgres_schema(base_url: str) -> Generator[str, None, None]:
    """A URL into a fresh schema, dropped when the generator is closed."""
    schema = f"baton_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base_url)
        yield url.set(query={**url.query, "options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# What a timed piece of work returns.
Result = TypeVar("Result")


def with_database(url: str, work: Callable[[sessionmaker], Result]) -> Result:
    upgrade(url)
    engine = make_engine(url)
    try:
        return work(make_session_factory(engine))
    finally:
        engine.dispose()


def main() -> None:
    postgres_url = (
        os.environ.get("BATON_BENCH_POSTGRES_URL")
        or os.environ.get("BATON_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )
    rows: List[Tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        p50, p95 = with_database(sqlite_url, time_creations)
        rows.append(
            (
                f"open_ticket, {TRANSCRIPT_TURNS}-turn context ({CREATIONS}×)",
                "SQLite (file)",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
            )
        )

    schema = postgres_schema(postgres_url)
    url = next(schema)
    try:
        p50, p95 = with_database(url, time_creations)
        rows.append(
            (
                f"open_ticket, {TRANSCRIPT_TURNS}-turn context ({CREATIONS}×)",
                "PostgreSQL",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
            )
        )
    finally:
        schema.close()

    schema = postgres_schema(postgres_url)
    url = next(schema)
    try:
        seconds, breaches = with_database(url, time_sweep)
        rows.append(
            (
                f"clock sweep, {SWEEP_TICKETS:,} breached tickets (batches of {SWEEP_BATCH_SIZE})",
                "PostgreSQL",
                f"{seconds:.2f} s ({breaches:,} breaches, {breaches / seconds:,.0f}/s)",
            )
        )
    finally:
        schema.close()

    print("| measure | database | result |")
    print("|---|---|---|")
    for measure, database, result in rows:
        print(f"| {measure} | {database} | {result} |")


if __name__ == "__main__":
    main()
