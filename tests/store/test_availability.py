"""Who is there for a handed-off customer: queue position, agents online, business hours."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.desk.availability import (
    DEFAULT_AVERAGE_HANDLING_MINUTES,
    QueueEstimate,
    TicketNotFound,
    average_handling_minutes_from_env,
    estimate_wait_minutes,
    queue_estimate,
)
from bot.escalation.engine import load_default_policy
from bot.store import CustomerInfo
from tests.desk_rows import add_agent, set_state
from tests.store.conftest import T0, decision

UTC = dt.timezone.utc
# T0 is Monday 30 November 2026, 09:00 UTC (= London): billing is open 08:00-20:00.
SUNDAY_NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MONDAY_8_LONDON = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SATURDAY_LATE = dt.datetime(2026, 11, 28, 21, 30, tzinfo=UTC)
# Summer time: London is UTC+1, so 08:00 in London is 07:00 UTC.
SUMMER_SUNDAY = dt.datetime(2026, 7, 5, 12, 0, tzinfo=UTC)
SUMMER_MONDAY_8_LONDON = dt.datetime(2026, 7, 6, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy():
    return load_default_policy({})


def open_for(store, sender, *, team="billing", priority="P3", minutes=15, at=T0):
    ticket, _ = store.open_ticket(
        idempotency_key=f"{sender}:{at.isoformat()}",
        conversation_sender_id=sender,
        channel="webchat",
        customer=CustomerInfo(external_id=f"C-{sender}"),
        decision=decision(
            at, team=team, priority=priority, first_response=dt.timedelta(minutes=minutes)
        ),
        context={"transcript": []},
        category=None,
        now=at,
    )
    return ticket


def estimate(session_factory, ticket, policy, now=T0, **options) -> QueueEstimate:
    return queue_estimate(session_factory, ticket.reference, now, policy, **options)


def test_the_queue_is_ordered_by_priority_then_deadline_then_age(store, session_factory, policy):
    later = T0 + dt.timedelta(minutes=1)
    tickets = {
        "p3-early": open_for(store, "p3-early", minutes=30),
        "p3-late-due": open_for(store, "p3-late-due", minutes=60),
        "p1": open_for(store, "p1", priority="P1", minutes=60, at=later),
        "p3-tie-older": open_for(store, "p3-tie-older", minutes=40),
        # Due at the same moment as the one above, opened a minute later.
        "p3-tie-newer": open_for(store, "p3-tie-newer", minutes=39, at=later),
        "p2": open_for(store, "p2", priority="P2", minutes=90),
    }
    positions = {name: estimate(session_factory, t, policy).position for name, t in tickets.items()}
    assert positions == {
        "p1": 1,
        "p2": 2,
        "p3-early": 3,
        "p3-tie-older": 4,
        "p3-tie-newer": 5,
        "p3-late-due": 6,
    }


def test_only_queued_open_conversations_of_the_team_are_ahead(store, session_factory, policy):
    open_for(store, "ahead", priority="P1")
    open_for(store, "other-team", priority="P1", team="technical")
    open_for(store, "with-agent", priority="P1")
    set_state(session_factory, "with-agent", "with_agent")
    open_for(store, "back-with-bot", priority="P1")
    set_state(session_factory, "back-with-bot", "bot")
    # Two escalations of one conversation are one place in the queue.
    open_for(store, "twice", priority="P2")
    open_for(store, "twice", priority="P2", at=T0 + dt.timedelta(seconds=5))
    mine = open_for(store, "mine", priority="P3")

    result = estimate(session_factory, mine, policy)
    assert result.position == 3  # "ahead" and "twice"
    assert result.team == "billing"


def test_a_customer_is_never_behind_their_own_earlier_ticket(store, session_factory, policy):
    open_for(store, "same", priority="P1")
    again = open_for(store, "same", priority="P3", at=T0 + dt.timedelta(minutes=2))
    assert estimate(session_factory, again, policy).position == 1


def test_agents_online_are_those_of_the_team_with_status_online(store, session_factory, policy):
    mine = open_for(store, "mine")
    add_agent(session_factory, ["billing"])
    add_agent(session_factory, ["billing", "technical"])
    add_agent(session_factory, ["billing"], status="away")
    add_agent(session_factory, ["billing"], status="offline")
    add_agent(session_factory, ["technical"])

    result = estimate(session_factory, mine, policy)
    assert result.agents_online == 2
    assert result.wait_minutes == estimate_wait_minutes(1, 2, DEFAULT_AVERAGE_HANDLING_MINUTES)


def test_the_wait_shares_the_queue_between_the_agents_online(store, session_factory, policy):
    for name in ("a", "b", "c"):
        open_for(store, name, priority="P2")
    mine = open_for(store, "mine")
    add_agent(session_factory, ["billing"])
    add_agent(session_factory, ["billing"])

    result = estimate(session_factory, mine, policy, average_handling_minutes=10)
    assert (result.position, result.agents_online, result.wait_minutes) == (4, 2, 20)
    assert (result.within_hours, result.next_opening) == (True, None)


def test_nobody_online_means_no_wait_estimate(store, session_factory, policy):
    mine = open_for(store, "mine")
    add_agent(session_factory, ["billing"], status="away")
    result = estimate(session_factory, mine, policy)
    assert result == QueueEstimate(
        team="billing",
        position=1,
        agents_online=0,
        within_hours=True,
        wait_minutes=None,
        next_opening=None,
    )


@pytest.mark.parametrize(
    "team, now, within_hours, next_opening",
    [
        ("billing", T0, True, None),
        ("billing", SUNDAY_NOON, False, MONDAY_8_LONDON),
        ("billing", SATURDAY_LATE, False, MONDAY_8_LONDON),
        ("billing", SUMMER_SUNDAY, False, SUMMER_MONDAY_8_LONDON),
        # Closing time itself is closed: 20:00 is the first minute after the hours.
        (
            "billing",
            dt.datetime(2026, 11, 30, 20, 0, tzinfo=UTC),
            False,
            dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        ),
        ("technical", SUNDAY_NOON, True, None),
        (
            "technical",
            dt.datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
            False,
            dt.datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
        ),
    ],
)
def test_business_hours_of_the_team(
    store, session_factory, policy, team, now, within_hours, next_opening
):
    mine = open_for(store, "mine", team=team, at=now)
    result = estimate(session_factory, mine, policy, now=now)
    assert (result.within_hours, result.next_opening) == (within_hours, next_opening)


def test_the_reference_may_be_typed_by_a_person(store, session_factory, policy):
    mine = open_for(store, "mine")
    typed = " " + mine.reference.lower().removeprefix("cs-") + " "
    assert queue_estimate(session_factory, typed, T0, policy).position == 1


def test_an_unknown_reference_is_refused(store, session_factory, policy):
    with pytest.raises(TicketNotFound, match="CS-NOPE22"):
        queue_estimate(session_factory, "CS-NOPE22", T0, policy)


def test_a_naive_moment_is_refused(store, session_factory, policy):
    mine = open_for(store, "mine")
    with pytest.raises(ValueError, match="timezone-aware"):
        queue_estimate(session_factory, mine.reference, dt.datetime(2026, 11, 30, 9, 0), policy)


@pytest.mark.parametrize(
    "position, agents, minutes, expected",
    [(1, 0, 8, None), (1, 1, 8, 8), (3, 2, 8, 12), (1, 4, 8, 2), (1, 50, 8, 1), (5, 3, 7.5, 13)],
)
def test_estimate_wait_minutes(position, agents, minutes, expected):
    assert estimate_wait_minutes(position, agents, minutes) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, DEFAULT_AVERAGE_HANDLING_MINUTES),
        ("", DEFAULT_AVERAGE_HANDLING_MINUTES),
        ("12", 12.0),
        (" 4.5 ", 4.5),
    ],
)
def test_average_handling_minutes_from_env(value, expected):
    env = {} if value is None else {"BATON_AVERAGE_HANDLING_MINUTES": value}
    assert average_handling_minutes_from_env(env) == expected


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "inf", "100000"])
def test_a_bad_average_handling_time_says_what_is_allowed(value):
    with pytest.raises(ValueError, match="BATON_AVERAGE_HANDLING_MINUTES is .*above 0"):
        average_handling_minutes_from_env({"BATON_AVERAGE_HANDLING_MINUTES": value})
