"""`bot report`: the escalation KPIs of a period and their top root causes, in the terminal.

A readable table by default (rich), `--format json` (the shape of docs/metrics.md) or
`--format csv` for scripts and spreadsheets. A progress bar appears when reading the
store takes more than a moment, and only on a terminal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.metrics.kpis import MetricsQuery, compute_metrics
from bot.metrics.period import parse_moment

# The steps compute_metrics announces, for the bar's total.
STEPS = 5
# Below this a bar would only flicker.
PROGRESS_AFTER_SECONDS = 0.3
TOP_ROWS = 5
BREAKDOWNS_SHOWN = (
    ("type", "By escalation type"),
    ("reason", "By reason"),
    ("team", "By team"),
    ("channel", "By channel"),
)


class ReportRefused(Exception):
    """The report can't be made; the message says why, for the person who typed the command."""


def run_report(args: argparse.Namespace) -> int:
    from bot.settings import Settings

    now = dt.datetime.now(dt.timezone.utc)
    try:
        query = report_query(args.since, args.until, args.team, now)
        report = _compute(
            Settings.from_env().database_url, query, now, show_progress=args.format == "table"
        )
    except ReportRefused as refused:
        print(f"bot report: {refused}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report, indent=2))
    elif args.format == "csv":
        from bot.metrics.csv_export import report_csv

        sys.stdout.write(report_csv(report))
    else:
        print_report(report, Console())
    return 0


def report_query(since: str, until: str | None, team: str | None, now: dt.datetime) -> MetricsQuery:
    """The period and team a person asked for, checked against escalation.yml's teams."""
    try:
        query = MetricsQuery(
            since=parse_moment(since, now),
            until=parse_moment(until, now) if until else now,
            team=team or None,
        )
    except ValueError as problem:
        raise ReportRefused(str(problem)) from None
    if query.team:
        known = _team_keys()
        if query.team not in known:
            raise ReportRefused(
                f"no team {query.team!r} in escalation.yml; its teams: {', '.join(known)}"
            )
    return query


def _team_keys() -> List[str]:
    from bot.escalation.engine import load_default_policy
    from bot.escalation.policy import EscalationConfigError

    try:
        return [team.key for team in load_default_policy().config.teams]
    except EscalationConfigError as problems:
        raise ReportRefused(
            f"escalation.yml has mistakes (bot check-escalation lists them):\n{problems}"
        ) from None


def _compute(
    database_url: str, query: MetricsQuery, now: dt.datetime, show_progress: bool
) -> Dict[str, Any]:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import make_engine, make_session_factory
    from bot.migrate import upgrade

    engine = None
    try:
        upgrade(database_url)
        engine = make_engine(database_url)
        with _StepProgress(enabled=show_progress) as progress:
            return compute_metrics(
                make_session_factory(engine), query, now, progress=progress.step
            ).as_dict()
    except SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise ReportRefused(
            f"can't read the database: {detail[0] if detail else type(error).__name__}"
        ) from None
    finally:
        if engine is not None:
            engine.dispose()


class _StepProgress:
    """A bar over compute_metrics' steps, shown from the first step that starts late."""

    def __init__(
        self,
        enabled: bool,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console or Console(file=sys.stderr)
        self._enabled = enabled and self._console.is_terminal
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> _StepProgress:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def step(self, name: str) -> None:
        if (
            self._bar is None
            and self._enabled
            and self._clock() - self._started > PROGRESS_AFTER_SECONDS
        ):
            self._bar = Progress(
                TextColumn("[bold]Reading[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(name, total=STEPS, completed=self._done)
        if self._bar is not None:
            self._bar.update(self._task, description=name, completed=self._done)
        self._done += 1


def print_report(report: Mapping[str, Any], console: Console) -> None:
    """The KPIs, the main breakdowns and the top root causes as tables."""
    period = report["period"]
    title = f"Escalations {_date(period['since'])} → {_date(period['until'])}"
    if period.get("team"):
        title += f" (team {period['team']})"
    console.print(kpi_table(report, title))
    console.print(reference_table(report))
    for dimension, caption in BREAKDOWNS_SHOWN:
        rows = report["breakdowns"][dimension][:TOP_ROWS]
        if rows:
            console.print(_breakdown_table(caption, rows))
    for table in root_cause_tables(report["root_causes"]):
        console.print(table)


def kpi_table(report: Mapping[str, Any], title: str) -> Table:
    totals = report["totals"]
    table = Table(title=title, title_justify="left")
    table.add_column("Measure")
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Note")
    table.add_row("Conversations", f"{totals['conversations']:,}", "")
    table.add_row("Escalated", f"{totals['escalated']:,}", "")
    table.add_row("Escalation rate", _rate(totals["escalation_rate"]), "industry ranges below")
    table.add_row("Containment (bot alone)", _rate(totals["containment_rate"]), "")
    table.add_row("Time to escalation", _times(totals["time_to_escalation"]), "median / p90")
    table.add_row("Time to first agent reply", _times(totals["first_reply"]), "median / p90")
    table.add_row("Resolution time", _times(totals["resolution"]), "median / p90")
    sla = totals["sla"]
    table.add_row(
        "SLA compliance",
        _rate(sla["compliance"]),
        f"{sla['met']} of {sla['measured']} decided tickets",
    )
    csat = totals["csat"]
    average = f"{csat['average']:.2f} / 5" if csat["average"] is not None else "–"
    table.add_row(
        "CSAT (escalated)",
        average,
        f"{_rate(csat['satisfied_rate'])} rated 4–5, {csat['answers']} answers",
    )
    return table


def reference_table(report: Mapping[str, Any]) -> Table:
    """The article's industry ranges of the escalation rate, and where this period falls."""
    rate = report["totals"]["escalation_rate"]
    table = Table(title="Escalation rate by industry (the article)", title_justify="left")
    table.add_column("Industry")
    table.add_column("Usual rate", justify="right")
    table.add_column(f"Yours ({_rate(rate)})")
    for reference in report["references"]["escalation_rate"]:
        low, high = reference["low"], reference["high"]
        where = (
            "–" if rate is None else "below" if rate < low else "above" if rate > high else "within"
        )
        table.add_row(reference["industry"], f"{low:g}–{high:g} %", where)
    return table


def _breakdown_table(caption: str, rows: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=caption, title_justify="left")
    table.add_column("", overflow="fold")
    for name in ("Escalated", "Rate", "To escalation", "Resolution", "SLA", "CSAT"):
        table.add_column(name, justify="right")
    for row in rows:
        csat = row["csat"]["average"]
        table.add_row(
            str(row["key"]),
            f"{row['escalated']:,}",
            _rate(row["escalation_rate"]),
            _duration(row["time_to_escalation"]["median"]),
            _duration(row["resolution"]["median"]),
            _rate(row["sla"]["compliance"]),
            f"{csat:.2f}" if csat is not None else "–",
        )
    return table


def root_cause_tables(causes: Mapping[str, Any]) -> List[Table]:
    tables = []
    for key, caption in (
        ("intents", "Top intents before an escalation"),
        ("faq_misses", "FAQ answers that did not help"),
    ):
        if causes[key]:
            table = Table(title=caption, title_justify="left")
            table.add_column("Intent")
            table.add_column("Escalations", justify="right")
            table.add_column("Example tickets")
            for row in causes[key][:TOP_ROWS]:
                table.add_row(
                    row["intent"],
                    f"{row['escalations']:,}",
                    ", ".join(e["ticket"] for e in row["examples"]),
                )
            tables.append(table)
    if causes["fallback_utterances"]:
        table = Table(title="Messages the bot did not understand", title_justify="left")
        table.add_column("Message (and similar ones)")
        table.add_column("Count", justify="right")
        table.add_column("Example tickets")
        for group in causes["fallback_utterances"][:TOP_ROWS]:
            similar = "".join(f"\n  ~ {text}" for text in group["similar"][:2])
            table.add_row(
                f"{group['text']}{similar}",
                f"{group['count']:,}",
                ", ".join(e["ticket"] for e in group["examples"]),
            )
        tables.append(table)
    return tables


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _times(spread: Mapping[str, Any]) -> str:
    if not spread["count"]:
        return "–"
    return f"{_duration(spread['median'])} / {_duration(spread['p90'])}"


def _duration(seconds: float | None) -> str:
    """2 h 05 m, 4 m 30 s, 45 s."""
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    if whole >= 86400:
        return f"{whole // 86400} d {whole % 86400 // 3600:02d} h"
    if whole >= 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} m"
    if whole >= 60:
        return f"{whole // 60} m {whole % 60:02d} s"
    return f"{whole} s"


def _date(iso: str) -> str:
    return iso[:16].replace("T", " ")
