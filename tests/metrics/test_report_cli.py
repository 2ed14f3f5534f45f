"""`bot report`: the KPI table, JSON and CSV, and clear refusals."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console

from bot.cli import main
from bot.metrics.report_cli import _StepProgress
from tests.metrics.seeding import seed_history

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def seeded_url(monkeypatch, session_factory, migrated_url):
    seed_history(
        session_factory, start=NOW - dt.timedelta(days=3), days=2, conversations=1000, escalated=150
    )
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    return migrated_url


@pytest.fixture
def empty_url(monkeypatch, migrated_url):
    """A migrated database with nothing in it, for reports refused before any reading."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    return migrated_url


def test_the_table_shows_the_kpis_reference_lines_and_root_causes(seeded_url, capsys):
    assert main(["report", "--since", "7d"]) == 0

    out = capsys.readouterr().out
    assert "Conversations" in out and "1,000" in out
    assert "Escalation rate" in out and "15.0 %" in out
    assert "Telecommunications" in out and "10–20 %" in out and "within" in out
    assert "Containment (bot alone)" in out and "85.0 %" in out
    assert "2 m 00 s" in out  # time to escalation
    assert "Messages the bot did not understand" in out
    assert "my router keeps blinking red" in out


def test_json_has_the_documented_shape(seeded_url, capsys):
    assert main(["report", "--since", "7d", "--format", "json", "--team", "technical"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"period", "totals", "breakdowns", "references", "root_causes"}
    assert report["period"]["team"] == "technical"
    assert report["totals"]["escalated"] == 75
    assert len(report["breakdowns"]["day"]) == 8  # 7 days back from now touch 8 dates


def test_csv_has_a_total_row(seeded_url, capsys):
    assert main(["report", "--since", "7d", "--format", "csv"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dimension,key,conversations")
    assert any(line.startswith("total,") and ",1000,150," in line for line in lines)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "last tuesday"], "is not a moment"),
        (["--since", "1d", "--until", "7d"], "the period is empty"),
        (["--team", "nope"], "no team 'nope' in escalation.yml; its teams: "),
    ],
)
def test_a_report_that_makes_no_sense_is_refused_clearly(empty_url, capsys, arguments, message):
    assert main(["report", *arguments]) == 2

    assert message in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")

    assert main(["report"]) == 2

    assert "bot report: can't read the database:" in capsys.readouterr().err


def test_the_progress_bar_appears_only_when_reading_takes_a_moment():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    moments = iter([0.0, 0.1, 0.2, 1.0, 1.1, 1.2, 1.3])
    with _StepProgress(enabled=True, console=console, clock=lambda: next(moments)) as progress:
        progress.step("conversations")  # 0.1 s in: no bar yet
        assert "Reading" not in screen.getvalue()
        progress.step("escalations")
        progress.step("escalation types")  # 1.0 s in: the bar starts
        progress.step("root causes")
    assert "Reading" in screen.getvalue()


def test_the_installed_command_prints_the_report(seeded_url):
    bot = os.path.join(os.path.dirname(sys.executable), "bot")
    result = subprocess.run(
        [bot, "report", "--since", "7d", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["escalation_rate"] == 15.0


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("7d", NOW - dt.timedelta(days=7)),
        ("12h", NOW - dt.timedelta(hours=12)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)),
        ("2026-11-01T09:30+01:00", dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.timezone.utc)),
    ],
)
def test_moments_are_durations_back_from_now_or_dates(text, moment):
    from bot.metrics.period import parse_moment

    assert parse_moment(text, NOW) == moment


@pytest.mark.parametrize("text", ["yesterday", "0d", "99999d", "2026-13-01", ""])
def test_a_moment_that_cannot_be_read_says_what_would_be(text):
    from bot.metrics.period import parse_moment

    with pytest.raises(ValueError, match=repr(text)):
        parse_moment(text, NOW)
