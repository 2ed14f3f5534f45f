"""Each KPI on constructed data with a known answer, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.metrics.kpis import MetricsQuery, compute_metrics
from tests.metrics.seeding import add_conversation, add_ticket, seed_history

UTC = dt.timezone.utc
MONDAY = dt.datetime(2026, 11, 2, tzinfo=UTC)
WEEK = MetricsQuery(since=MONDAY, until=MONDAY + dt.timedelta(days=7))
LATER = MONDAY + dt.timedelta(days=30)


def report(session_factory, query=WEEK, now=LATER):
    return compute_metrics(session_factory, query, now).as_dict()


def test_150_escalated_of_1000_conversations_is_a_15_percent_escalation_rate(session_factory):
    seeded = seed_history(session_factory, start=MONDAY, days=7, conversations=1000, escalated=150)

    totals = report(session_factory)["totals"]

    assert totals["conversations"] == 1000
    assert totals["escalated"] == 150
    assert totals["escalation_rate"] == 15.0
    assert totals["contained"] == 850
    assert totals["containment_rate"] == 85.0
    # Every seeded escalation came 2 minutes after its conversation started.
    assert totals["time_to_escalation"] == {"count": 150, "median": 120.0, "p90": 120.0}
    assert totals["first_reply"]["count"] == seeded.answered == 135
    assert totals["first_reply"]["median"] == 60.0
    assert totals["resolution"] == {"count": seeded.resolved, "median": 1800.0, "p90": 1800.0}
    assert totals["csat"]["answers"] == seeded.rated
    assert totals["csat"]["satisfied_rate"] == round(100 * seeded.satisfied / seeded.rated, 1)


def test_sla_compliance_counts_decided_tickets_only(session_factory):
    start = MONDAY + dt.timedelta(hours=9)
    with session_factory.begin() as session:
        on_time = add_conversation(session, "on-time", start)
        add_ticket(
            session,
            on_time,
            start + dt.timedelta(minutes=5),
            reference="A1",
            first_reply_after=dt.timedelta(minutes=10),
            resolved_after=dt.timedelta(hours=1),
        )
        late_reply = add_conversation(session, "late-reply", start)
        add_ticket(
            session,
            late_reply,
            start + dt.timedelta(minutes=5),
            reference="A2",
            first_reply_after=dt.timedelta(minutes=20),
            resolved_after=dt.timedelta(hours=1),
        )
        never_answered = add_conversation(session, "never-answered", start)
        add_ticket(session, never_answered, start + dt.timedelta(minutes=5), reference="A3")
        still_open = add_conversation(session, "still-open", start)
        add_ticket(
            session,
            still_open,
            start + dt.timedelta(minutes=5),
            reference="A4",
            first_reply_after=dt.timedelta(minutes=1),
        )
    # Half an hour in: A3 is past its first-response deadline, A4 is answered but its
    # resolution deadline (4 h) is still ahead.
    now = start + dt.timedelta(minutes=30)

    sla = report(session_factory, now=now)["totals"]["sla"]

    assert sla == {"measured": 3, "met": 1, "compliance": 33.3}


def test_a_conversation_recorded_at_its_escalation_has_no_time_to_escalation(session_factory):
    # Rows from before migration 0006 were created when they escalated.
    at = MONDAY + dt.timedelta(hours=1)
    with session_factory.begin() as session:
        legacy = add_conversation(session, "legacy", at)
        add_ticket(session, legacy, at, reference="L1")
        recent = add_conversation(session, "recent", at)
        add_ticket(session, recent, at + dt.timedelta(seconds=90), reference="L2")

    assert report(session_factory)["totals"]["time_to_escalation"] == {
        "count": 1,
        "median": 90.0,
        "p90": 90.0,
    }


def test_a_second_escalation_of_a_conversation_counts_the_conversation_once(session_factory):
    at = MONDAY + dt.timedelta(hours=1)
    with session_factory.begin() as session:
        twice = add_conversation(session, "twice", at)
        # Resolved before the second: a conversation has one live ticket at a time (migration 0007).
        add_ticket(
            session,
            twice,
            at + dt.timedelta(minutes=1),
            reference="B1",
            resolved_after=dt.timedelta(minutes=30),
        )
        add_ticket(session, twice, at + dt.timedelta(minutes=40), reference="B2")
        add_conversation(session, "contained", at)

    result = report(session_factory)

    assert result["totals"]["escalated"] == 1
    assert result["totals"]["escalation_rate"] == 50.0
    # The second ticket is not a second "time to escalation".
    assert result["totals"]["time_to_escalation"]["count"] == 1
    team_row = result["breakdowns"]["team"][0]
    assert (team_row["key"], team_row["escalated"]) == ("billing", 1)


def test_breakdowns_by_day_and_channel_divide_by_their_own_conversations(session_factory):
    with session_factory.begin() as session:
        for n in range(4):
            add_conversation(session, f"mon-web-{n}", MONDAY + dt.timedelta(hours=n), "webchat")
        for n in range(2):
            add_conversation(
                session, f"tue-rest-{n}", MONDAY + dt.timedelta(days=1, hours=n), "rest"
            )
        escalated = add_conversation(
            session, "tue-web", MONDAY + dt.timedelta(days=1, hours=5), "webchat"
        )
        add_ticket(session, escalated, MONDAY + dt.timedelta(days=1, hours=6), reference="C1")

    breakdowns = report(session_factory)["breakdowns"]

    days = {row["key"]: row for row in breakdowns["day"]}
    assert list(days) == [(MONDAY.date() + dt.timedelta(days=n)).isoformat() for n in range(7)]
    assert (days["2026-11-02"]["conversations"], days["2026-11-02"]["escalation_rate"]) == (4, 0.0)
    assert (days["2026-11-03"]["conversations"], days["2026-11-03"]["escalated"]) == (3, 1)
    assert days["2026-11-03"]["escalation_rate"] == 33.3
    assert days["2026-11-05"]["escalation_rate"] is None  # no conversations that day
    channels = {row["key"]: row for row in breakdowns["channel"]}
    assert channels["webchat"]["escalation_rate"] == 20.0
    assert channels["rest"]["escalation_rate"] == 0.0


def test_escalation_only_breakdowns_are_shares_of_the_total_rate(session_factory):
    seed_history(session_factory, start=MONDAY, days=7, conversations=600, escalated=60)

    result = report(session_factory)

    reasons = {row["key"]: row for row in result["breakdowns"]["reason"]}
    # CAUSES cycles through six causes, two of them "repeated_fallback": 60 → 10 each.
    assert reasons["repeated_fallback"]["escalated"] == 20
    assert reasons["repeated_fallback"]["escalation_rate"] == round(20 * 100 / 600, 1)
    assert sum(row["escalated"] for row in result["breakdowns"]["reason"]) == 60
    assert {row["key"]: row["escalated"] for row in result["breakdowns"]["team"]} == {
        "billing": 30,
        "technical": 30,
    }
    intents = {row["key"] for row in result["breakdowns"]["intent"]}
    assert {"nlu_fallback", "faq/returns", "request_human"} <= intents


def test_a_ticket_counts_under_every_escalation_type_it_had(session_factory):
    at = MONDAY + dt.timedelta(hours=2)
    with session_factory.begin() as session:
        conversation = add_conversation(session, "climbed", at)
        add_ticket(
            session,
            conversation,
            at + dt.timedelta(minutes=1),
            reference="D1",
            escalation_type="customer_initiated",
            types=["functional", "customer_initiated", "hierarchical"],
        )

    types = {row["key"]: row["escalated"] for row in report(session_factory)["breakdowns"]["type"]}

    assert types == {"functional": 1, "customer_initiated": 1, "hierarchical": 1}


def test_a_team_filter_keeps_that_teams_escalations_and_every_conversation(session_factory):
    seed_history(session_factory, start=MONDAY, days=7, conversations=200, escalated=40)

    totals = report(session_factory, MetricsQuery(WEEK.since, WEEK.until, team="technical"))[
        "totals"
    ]

    assert totals["conversations"] == 200
    assert totals["escalated"] == 20
    assert totals["escalation_rate"] == 10.0


def test_the_period_is_half_open(session_factory):
    with session_factory.begin() as session:
        add_conversation(session, "at-since", WEEK.since)
        add_conversation(session, "at-until", WEEK.until)
        add_conversation(session, "just-before-until", WEEK.until - dt.timedelta(microseconds=1))

    assert report(session_factory)["totals"]["conversations"] == 2


def test_an_empty_period_has_no_rates_rather_than_zero(session_factory):
    result = report(session_factory)

    assert result["totals"]["conversations"] == 0
    assert result["totals"]["escalation_rate"] is None
    assert result["totals"]["time_to_escalation"] == {"count": 0, "median": None, "p90": None}
    assert result["root_causes"] == {"intents": [], "faq_misses": [], "fallback_utterances": []}


def test_root_causes_group_similar_misunderstood_messages(session_factory):
    seed_history(session_factory, start=MONDAY, days=7, conversations=120, escalated=60)

    causes = report(session_factory)["root_causes"]

    assert causes["intents"][0]["intent"] == "nlu_fallback"
    assert causes["intents"][0]["escalations"] == 20
    assert [row["intent"] for row in causes["faq_misses"]] == ["faq/returns"]
    (router,) = causes["fallback_utterances"]
    assert router["count"] == 20
    assert {router["text"], *router["similar"]} == {
        "my router keeps blinking red",
        "router blinking red again!!",
    }
    assert len(router["examples"]) == 3
    assert all(
        example["ticket"] and example["conversation"].startswith("seed-")
        for example in router["examples"]
    )


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (MONDAY, MONDAY, "the period is empty"),
        (MONDAY, MONDAY - dt.timedelta(days=1), "the period is empty"),
        (MONDAY, MONDAY + dt.timedelta(days=5000), "longer than"),
        (MONDAY.replace(tzinfo=None), MONDAY + dt.timedelta(days=1), "timezone-aware"),
    ],
)
def test_a_period_that_makes_no_sense_is_refused(since, until, message):
    with pytest.raises(ValueError, match=message):
        MetricsQuery(since=since, until=until)
