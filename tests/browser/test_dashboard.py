"""The console's Dashboard in a real Chromium, against a real desk server on a seeded database.

The server and its data are tests/desk/test_metrics_api.py's `seeded_desk`: the desk
channel of connectors/desk.py with tests/metrics/seeding.py's history, 1,000
conversations over the two days that start three days ago (UTC), 150 of them escalated
(75 a day, billing and technical alternately). Nothing here is a fake: the numbers on
the page come from bot/metrics through GET /desk/api/metrics, the charts from Chart.js.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any, Iterator, List

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import DeskConsole
from tests.desk.test_metrics_api import SeededDesk, seeded_desk_server
from tests.e2e.desk_client import TEST_PASSWORD

pytestmark = pytest.mark.browser

# What a Chart.js chart of the page holds: its datasets' labels and values, and the
# elements it drew for the first dataset (points or bars with a place on the canvas).
CHART_DATA = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  const drawn = chart.getDatasetMeta(0).data.filter(
    (e) => Number.isFinite(e.x) && Number.isFinite(e.y));
  return {
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
    drawn: drawn.length,
    width: chart.width,
    height: chart.height,
  };
}"""


@pytest.fixture(scope="module")
def seeded_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDesk]:
    with seeded_desk_server(tmp_path_factory.mktemp("dashboard-desk")) as desk:
        yield desk


def utc_days(desk: SeededDesk) -> List[str]:
    """The seeded days, as the API names them."""
    return [(desk.since + dt.timedelta(days=n)).date().isoformat() for n in range(2)]


def last_days(count: int) -> List[str]:
    today = dt.datetime.now(dt.timezone.utc).date()
    return [(today - dt.timedelta(days=n)).isoformat() for n in reversed(range(count))]


def open_dashboard(page: Page, desk: SeededDesk, email: str) -> None:
    page.goto(f"{desk.url}/desk/")
    DeskConsole(page).sign_in(email, TEST_PASSWORD)
    page.get_by_role("button", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def tile(page: Page, name: str) -> Any:
    return page.get_by_test_id(f"dash-kpi-{name}")


def chart(page: Page, canvas_id: str) -> Any:
    """A chart's data once it is drawn (Chart.js is loaded on demand)."""
    page.wait_for_function(
        f"() => window.Chart && Chart.getChart(document.getElementById('{canvas_id}'))"
    )
    return page.evaluate(CHART_DATA, canvas_id)


def test_a_supervisor_sees_the_figures_and_charts_of_the_last_week(
    page: Page, seeded_desk: SeededDesk
) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)

    expect(page.get_by_label("Period", exact=True)).to_have_value("7")
    expect(tile(page, "conversations")).to_have_text("1,000")
    expect(tile(page, "escalation-rate")).to_have_text("15.0 %")
    expect(page.get_by_test_id("dash-kpi-escalation-rate-sub")).to_have_text(
        "150 of 1,000 conversations"
    )
    expect(tile(page, "containment")).to_have_text("85.0 %")
    # Seeded: escalated 2 minutes in, answered after 1 minute, resolved after 30.
    expect(tile(page, "time-to-escalation")).to_have_text("2 min")
    expect(tile(page, "first-reply")).to_have_text("1 min")
    expect(tile(page, "resolution")).to_have_text("30 min")
    expect(tile(page, "sla")).to_have_text(re.compile(r"^\d+\.\d %$"))
    expect(tile(page, "csat")).to_have_text(re.compile(r"^[1-5]\.\d / 5$"))

    # The escalation rate per day: 7 days, the two seeded ones at 15 %, the others empty;
    # the telecom band (the demo business's industry) as two lines at 10 and 20 %.
    days = last_days(7)
    rate = chart(page, "dash-rate-chart")
    values = dict(zip(days, rate["datasets"][0]["data"], strict=True))
    assert {day: value for day, value in values.items() if value is not None} == {
        day: 15.0 for day in utc_days(seeded_desk)
    }
    assert [d["data"] for d in rate["datasets"][1:]] == [[10.0] * 7, [20.0] * 7]
    assert rate["datasets"][1]["label"].startswith("Telecommunications")
    assert rate["drawn"] == 7 and rate["width"] > 300 and rate["height"] > 200
    expect(page.get_by_test_id("dash-rate-chart")).to_have_attribute(
        "aria-label",
        re.compile(r"15\.0 % over the period\. Telecommunications reference: 10 to 20 %"),
    )
    rate_rows = page.get_by_test_id("dash-rate-table").locator("tbody tr")
    expect(rate_rows).to_have_count(7)
    expect(rate_rows.filter(has_text=utc_days(seeded_desk)[0])).to_contain_text("500")

    volume = chart(page, "dash-volume-chart")
    assert [d["label"] for d in volume["datasets"]] == ["Conversations", "Escalated"]
    assert sum(volume["datasets"][0]["data"]) == 1000 and sum(volume["datasets"][1]["data"]) == 150
    assert volume["drawn"] == 7

    # Breakdowns and root causes, named as people read them.
    teams = page.get_by_test_id("dash-breakdown-team").locator("tbody tr")
    expect(teams).to_have_count(2)
    expect(teams.first).to_contain_text(re.compile(r"Billing & Payments|Technical Support"))
    expect(teams.filter(has_text="Billing & Payments")).to_contain_text("7.5 %")
    expect(page.get_by_test_id("dash-breakdown-channel").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("dash-causes-intents")).to_contain_text("request_human")
    expect(page.get_by_test_id("dash-causes-faq")).to_contain_text("faq/returns")
    fallback = page.get_by_test_id("dash-causes-fallback")
    expect(fallback.locator("tbody tr")).to_have_count(1)
    wordings = {"my router keeps blinking red", "router blinking red again!!"}
    expect(fallback.locator("q")).to_have_text(re.compile("|".join(map(re.escape, wordings))))
    expect(fallback.get_by_test_id("dash-similar")).to_have_count(1)
    shown = {
        fallback.locator("q").inner_text(),
        fallback.get_by_test_id("dash-similar").inner_text(),
    }
    assert shown == wordings


def test_the_team_filter_changes_the_numbers(page: Page, seeded_desk: SeededDesk) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.admin)
    expect(tile(page, "escalation-rate")).to_have_text("15.0 %")
    page.get_by_label("Team filter", exact=True).select_option(label="Billing & Payments")
    # The seeding gives billing every other escalation: 75 of the 1,000 conversations.
    expect(tile(page, "escalation-rate")).to_have_text("7.5 %")
    expect(page.get_by_test_id("dash-kpi-escalation-rate-sub")).to_have_text(
        "75 of 1,000 conversations"
    )
    expect(page.get_by_test_id("dash-breakdown-team").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("dash-status")).to_contain_text("Billing & Payments's escalations")
    assert sum(chart(page, "dash-volume-chart")["datasets"][1]["data"]) == 75
    page.get_by_label("Team filter", exact=True).select_option(label="All teams")
    expect(tile(page, "escalation-rate")).to_have_text("15.0 %")


def test_chosen_dates_narrow_the_period_and_wrong_ones_are_explained(
    page: Page, seeded_desk: SeededDesk
) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)
    expect(tile(page, "conversations")).to_have_text("1,000")
    first, second = utc_days(seeded_desk)
    page.get_by_label("From", exact=True).fill(second)
    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    expect(tile(page, "conversations")).to_have_text("500")
    expect(page.get_by_test_id("dash-rate-table").locator("tbody tr")).to_have_count(
        len(last_days(3))
    )
    page.get_by_label("To (included)", exact=True).fill(first)
    expect(page.get_by_test_id("dash-status")).to_have_text(
        "The first day must not be after the last day."
    )
    page.get_by_label("From", exact=True).fill("2024-01-01")
    # The server's own refusal is shown as it words it.
    expect(page.get_by_test_id("dash-status")).to_contain_text("ask for at most 366 days")
    page.get_by_label("Period", exact=True).select_option("30")
    expect(tile(page, "conversations")).to_have_text("1,001")  # and the formula customer's
    expect(page.get_by_test_id("dash-rate-table").locator("tbody tr")).to_have_count(30)


def test_another_industry_moves_the_reference_band(page: Page, seeded_desk: SeededDesk) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)
    chart(page, "dash-rate-chart")
    page.get_by_label("Industry reference", exact=True).select_option("E-commerce")
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('dash-rate-chart'))"
        ".data.datasets[1].data[0] === 3"
    )
    assert [d["data"] for d in chart(page, "dash-rate-chart")["datasets"][1:]] == [
        [3.0] * 7,
        [7.0] * 7,
    ]
    page.get_by_label("Industry reference", exact=True).select_option("")
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('dash-rate-chart'))"
        ".data.datasets.length === 1"
    )


def test_the_csv_export_downloads_the_filtered_report(page: Page, seeded_desk: SeededDesk) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)
    page.get_by_label("Team filter", exact=True).select_option("technical")
    expect(tile(page, "escalation-rate")).to_have_text("7.5 %")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    days = last_days(7)
    until = (dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1)).isoformat()
    assert download.suggested_filename == f"baton-metrics-{days[0]}-{until}.csv"
    with open(download.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    total = rows[0]
    assert (
        total["dimension"],
        total["conversations"],
        total["escalated"],
        total["escalation_rate"],
    ) == ("total", "1000", "75", "7.5")
    assert total["team_filter"] == "technical"
    assert [row["key"] for row in rows if row["dimension"] == "day"] == days
    assert [row["key"] for row in rows if row["dimension"] == "team"] == ["technical"]


def test_an_example_opens_its_conversation(page: Page, seeded_desk: SeededDesk) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)
    example = page.get_by_test_id("dash-causes-intents").get_by_test_id("dash-example").first
    expect(example).to_be_visible()
    reference = example.inner_text()
    conversation_id = example.get_attribute("data-conversation-id")
    example.click()
    expect(page.get_by_test_id("dash")).to_be_hidden()
    console = DeskConsole(page)
    expect(console.chat_title).to_have_text(f"Guest · {reference}")
    expect(page.get_by_test_id("desk-ctx-reference")).to_have_text(reference)
    expect(page.get_by_role("button", name="Conversations")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The same example in a new tab: /desk/#conversation=<id>.
    other = page.context.new_page()
    other.goto(f"{seeded_desk.url}/desk/#conversation={conversation_id}")
    expect(DeskConsole(other).chat_title).to_have_text(f"Guest · {reference}")
    other.close()


def test_an_agent_has_no_dashboard(page: Page, seeded_desk: SeededDesk) -> None:
    page.goto(f"{seeded_desk.url}/desk/")
    console = DeskConsole(page)
    console.sign_in(seeded_desk.agent, TEST_PASSWORD)
    expect(console.role).to_have_text("agent")
    expect(page.get_by_test_id("desk-views")).to_be_hidden()
    expect(page.get_by_role("button", name="Dashboard")).to_have_count(0)
    expect(page.get_by_test_id("dash")).to_be_hidden()
    assert page.evaluate("() => typeof window.Chart") == "undefined"  # never downloaded


def test_signing_out_forgets_the_figures(page: Page, seeded_desk: SeededDesk) -> None:
    open_dashboard(page, seeded_desk, seeded_desk.supervisor)
    expect(tile(page, "conversations")).to_have_text("1,000")
    page.get_by_role("button", name="Sign out").click()
    console = DeskConsole(page)
    console.sign_in(seeded_desk.agent, TEST_PASSWORD)
    expect(console.role).to_have_text("agent")
    expect(page.get_by_test_id("dash")).to_be_hidden()
    expect(tile(page, "conversations")).to_have_text("–")
    expect(page.get_by_test_id("dash-causes").locator("*")).to_have_count(0)
