"""The handoff use case, without Rasa: a request in, a ticket and the words for it out."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine

from actions.services import Services
from bot.db import make_session_factory
from bot.desk.availability import QueueEstimate
from bot.escalation.signals import SignalDecision
from bot.store.retry import RetryPolicy
from bot.store.tickets import TicketStore
from bot.tickets.handoff import (
    REASON_BOT_FAILED,
    REASON_CASE_SUBMITTED,
    REASON_CUSTOMER_REQUEST,
    HandoffRequest,
    RequestHandoff,
    handoff_reason,
    queued_message,
)
from bot.tickets.states import CONVERSATION_QUEUED, TICKET_OPEN
from tests.desk_rows import add_agent
from tests.services import build_services
from tests.trackers import bot_event, user_event

UTC = dt.timezone.utc
# Monday 30 November 2026, 10:00 in London (= UTC): every team is open.
MONDAY_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
NO_SIGNAL = SignalDecision(action=None, matches=())


@pytest.fixture
def services(database_url: str) -> Services:
    return build_services(database_url, clock=lambda: MONDAY_10)


def use_case(services: Services) -> RequestHandoff:
    return RequestHandoff(
        services.accounts,
        services.tickets,
        services.policy,
        services.average_handling_minutes,
        services.sentiment,
    )


def request(sender_id: str = "conv-1", **slots) -> HandoffRequest:
    return HandoffRequest(
        sender_id=sender_id,
        events=[
            user_event("my bill is wrong", "ask_invoice", message_id=f"{sender_id}-m1"),
            bot_event("Your latest bill is £42."),
            user_event("a person please", "request_human", message_id=f"{sender_id}-m2"),
        ],
        slots={"case_category": "billing", **slots},
        latest_intent="request_human",
        channel="webchat",
        customer_id=None,
    )


def test_a_handoff_opens_one_ticket_and_says_where_the_customer_stands(services):
    result = use_case(services)(request(), MONDAY_10)

    assert result.handed_off and result.created
    assert result.reason == REASON_CUSTOMER_REQUEST
    ticket = result.ticket
    assert (ticket.status, ticket.team, ticket.category) == (TICKET_OPEN, "billing", "billing")
    assert ticket.idempotency_key == "conv-1:conv-1-m2"
    assert services.tickets.conversation_state("conv-1") == CONVERSATION_QUEUED
    (message,) = result.messages
    assert message["response"] == "utter_handoff_no_agents_online"
    assert message["handoff_reference"] == ticket.reference
    assert message["team_name"] == "Billing & Payments"
    assert result.estimate is not None and result.estimate.agents_online == 0


def test_the_same_turn_again_finds_the_ticket_it_opened(services):
    first = use_case(services)(request(), MONDAY_10)
    again = use_case(services)(request(), MONDAY_10)
    assert again.ticket.reference == first.ticket.reference
    assert (first.created, again.created) == (True, False)


def test_with_an_agent_online_the_customer_hears_place_and_wait(services):
    add_agent(services.tickets.session_factory, ["billing"])
    result = use_case(services)(request(), MONDAY_10)
    (message,) = result.messages
    assert (message["response"], message["position"], message["wait_minutes"]) == (
        "utter_handoff_agents_online",
        1,
        8,
    )


def test_a_database_that_stays_away_gives_no_ticket_and_says_so(services):
    broken = TicketStore(
        make_session_factory(
            create_engine("sqlite:////proc/baton-no-such-dir/baton.db", future=True)
        ),
        retry=RetryPolicy(attempts=2, base_delay=0.0),
    )
    result = RequestHandoff(
        services.accounts, broken, services.policy, services.average_handling_minutes
    )(request(), MONDAY_10)
    assert not result.handed_off and result.ticket is None
    assert result.messages == ({"response": "utter_handoff_failed"},)


@pytest.mark.parametrize(
    "intent, slots, reason",
    [
        ("request_human", {}, REASON_CUSTOMER_REQUEST),
        ("affirm", {"human_offered": True, "human_offer_reason": "frustration"}, "frustration"),
        ("affirm", {"human_offered": True}, REASON_BOT_FAILED),
        ("inform", {}, REASON_CASE_SUBMITTED),
    ],
)
def test_the_reason_is_who_asked_or_what_made_the_offer(intent, slots, reason):
    assert handoff_reason(intent, slots, NO_SIGNAL) == reason


def estimate(agents_online: int, within_hours: bool = True, next_opening=None) -> QueueEstimate:
    return QueueEstimate(
        team="billing",
        position=2,
        agents_online=agents_online,
        within_hours=within_hours,
        wait_minutes=8 if agents_online else None,
        next_opening=next_opening,
    )


@pytest.mark.parametrize(
    "known, email_known, response",
    [
        (None, False, "utter_handoff_queued"),
        (estimate(2), False, "utter_handoff_agents_online"),
        (estimate(0), False, "utter_handoff_no_agents_online"),
        (estimate(0), True, "utter_handoff_no_agents_online_email"),
        (estimate(0, False, MONDAY_10 + dt.timedelta(days=1)), False, "utter_handoff_after_hours"),
        (
            estimate(0, False, MONDAY_10 + dt.timedelta(days=1)),
            True,
            "utter_handoff_after_hours_email",
        ),
    ],
)
def test_the_words_follow_who_is_there(services, known, email_known, response):
    ticket = use_case(services)(request(), MONDAY_10).ticket
    team = services.policy.config.team("billing")
    message = queued_message(known, ticket, team, MONDAY_10, email_known)
    assert message["response"] == response
    assert message["handoff_reference"] == ticket.reference
    assert message["first_response_by"]
    if response == "utter_handoff_agents_online":
        assert (message["position"], message["wait_minutes"]) == (2, 8)
    if response.startswith("utter_handoff_after_hours"):
        assert message["next_opening"] == "tomorrow at 10:00"
