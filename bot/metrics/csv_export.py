"""The metrics report (docs/metrics.md) as CSV: the desk's export and `bot report --format csv`.

One row per breakdown row (its `dimension` and `key`), a `total` row first, then the root
causes (`root_cause_intent`, `faq_miss`, `fallback_utterance`, their count in `escalated`).
Every row carries the period, so files of several periods can be pasted together.

Keys come from escalation.yml (reasons, teams), from the NLU (intents) and, for the
fallback utterances, from what customers typed: a cell a spreadsheet would read as a
formula (`=`, `+`, `-`, `@`, or a tab/carriage return before one) gets a leading `'`
(OWASP's advice for CSV injection). Numbers are written as they are, never quoted.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator, List, Mapping, Sequence

# The breakdowns in the order a reader expects; any others the report has follow, sorted.
BREAKDOWN_ORDER = ("day", "channel", "type", "reason", "team", "category", "intent")
# (column prefix, report key) of the time measures; each gives count, median and p90.
TIME_MEASURES = (
    ("time_to_escalation", "time_to_escalation"),
    ("first_reply", "first_reply"),
    ("resolution", "resolution"),
)
COLUMNS: Sequence[str] = (
    "dimension",
    "key",
    "conversations",
    "escalated",
    "escalation_rate",
    "containment_rate",
    *(
        f"{prefix}_{part}"
        for prefix, _ in TIME_MEASURES
        for part in ("count", "median_seconds", "p90_seconds")
    ),
    "sla_measured",
    "sla_met",
    "sla_compliance",
    "csat_answers",
    "csat_average",
    "csat_satisfied_rate",
    "since",
    "until",
    "team_filter",
)
# Root-cause lists: (dimension, list key in report["root_causes"], key field, count field).
ROOT_CAUSES = (
    ("root_cause_intent", "intents", "intent", "escalations"),
    ("faq_miss", "faq_misses", "intent", "escalations"),
    ("fallback_utterance", "fallback_utterances", "text", "count"),
)
# What spreadsheets (Excel, LibreOffice, Google Sheets) start a formula with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_csv(report: Mapping[str, Any]) -> str:
    """The report dict (`MetricsReport.as_dict()`) as CSV text, header first, CRLF line ends.

    Args:
        report: the JSON shape of docs/metrics.md.

    Returns:
        The CSV document; missing measures and `null`s are empty cells.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in _rows(report):
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading `'` before a formula start."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _rows(report: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    period = report.get("period") or {}
    stamp = {
        "since": period.get("since"),
        "until": period.get("until"),
        "team_filter": period.get("team"),
    }
    yield {"dimension": "total", "key": "", **_measures(report.get("totals") or {}), **stamp}
    breakdowns = report.get("breakdowns") or {}
    for dimension in _ordered(breakdowns):
        for row in breakdowns.get(dimension) or []:
            yield {"dimension": dimension, "key": row.get("key"), **_measures(row), **stamp}
    causes = report.get("root_causes") or {}
    for dimension, name, key_field, count_field in ROOT_CAUSES:
        for cause in causes.get(name) or []:
            yield {
                "dimension": dimension,
                "key": cause.get(key_field),
                "escalated": cause.get(count_field),
                **stamp,
            }


def _ordered(breakdowns: Mapping[str, Any]) -> List[str]:
    known = [name for name in BREAKDOWN_ORDER if name in breakdowns]
    return known + sorted(name for name in breakdowns if name not in BREAKDOWN_ORDER)


def _measures(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """A totals or breakdown row's measures, flattened to the CSV's columns."""
    flat = {
        "conversations": row.get("conversations"),
        "escalated": row.get("escalated"),
        "escalation_rate": row.get("escalation_rate"),
        "containment_rate": row.get("containment_rate"),
    }
    for prefix, key in TIME_MEASURES:
        measure = row.get(key) or {}
        flat[f"{prefix}_count"] = measure.get("count")
        flat[f"{prefix}_median_seconds"] = measure.get("median")
        flat[f"{prefix}_p90_seconds"] = measure.get("p90")
    sla = row.get("sla") or {}
    csat = row.get("csat") or {}
    flat.update(
        sla_measured=sla.get("measured"),
        sla_met=sla.get("met"),
        sla_compliance=sla.get("compliance"),
        csat_answers=csat.get("answers"),
        csat_average=csat.get("average"),
        csat_satisfied_rate=csat.get("satisfied_rate"),
    )
    return flat


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return safe_cell(str(value))
