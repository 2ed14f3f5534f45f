"""The metrics report over a large history (issue 7's target: ≤ 2 s on PostgreSQL).

Seeds 100,000 conversations over 90 days with 15,000 escalations (tickets, history
rows, CSAT answers; bulk inserts, not timed), then times `compute_metrics` over the
whole period — every breakdown and the root causes, what `bot report` and the
dashboard ask for — and over the last 7 days, on PostgreSQL and on SQLite (a file).
The report's ANALYZE-fresh statistics matter on PostgreSQL: the seed runs ANALYZE, as
autovacuum would on a live database.

Run: `python -m benchmarks.report` (PostgreSQL as in benchmarks.store).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from benchmarks.store import DEFAULT_POSTGRES_URL, postgres_schema, with_database
from bot.metrics.kpis import MetricsQuery, compute_metrics
from tests.metrics.seeding import seed_history

CONVERSATIONS = 100_000
ESCALATED = 15_000
DAYS = 90
RUNS = 5
START = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(days=DAYS)
TARGET_SECONDS = 2.0


def time_reports(session_factory: sessionmaker) -> List[Tuple[str, float, float]]:
    seed_history(
        session_factory, start=START, days=DAYS, conversations=CONVERSATIONS, escalated=ESCALATED
    )
    with session_factory.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
    results = []
    for label, query in (
        (f"all {DAYS} days", MetricsQuery(START, END)),
        ("last 7 days", MetricsQuery(END - dt.timedelta(days=7), END)),
    ):
        report = compute_metrics(session_factory, query, END)  # warm-up: connections, imports
        assert report.totals["conversations"] > 0
        seconds = []
        for _ in range(RUNS):
            began = time.perf_counter()
            compute_metrics(session_factory, query, END)
            seconds.append(time.perf_counter() - began)
        results.append((label, statistics.median(seconds), max(seconds)))
    return results


def main() -> None:
    postgres_url = (
        os.environ.get("BATON_BENCH_POSTGRES_URL")
        or os.environ.get("BATON_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )
    print(
        f"compute_metrics: {CONVERSATIONS:,} conversations, {ESCALATED:,} tickets over {DAYS} "
        "days; "
        f"median and max of {RUNS} runs (target ≤ {TARGET_SECONDS:g} s on PostgreSQL)"
    )
    schema = postgres_schema(postgres_url)
    try:
        for label, median, worst in with_database(next(schema), time_reports):
            verdict = "PASS" if worst <= TARGET_SECONDS else "FAIL"
            print(
                f"  PostgreSQL     {label:<12} median {median:.2f} s, max {worst:.2f} s  {verdict}"
            )
    finally:
        schema.close()
    with tempfile.TemporaryDirectory() as folder:
        for label, median, worst in with_database(
            f"sqlite:///{Path(folder) / 'bench.db'}", time_reports
        ):
            print(f"  SQLite (file)  {label:<12} median {median:.2f} s, max {worst:.2f} s")


if __name__ == "__main__":
    main()
