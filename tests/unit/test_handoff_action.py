"""The handoff: one ticket per escalation, with the context a person needs, and the customer told."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, select

from actions.handoff import ActionRequestHandoff
from actions.services import Services
from bot.db import make_session_factory
from bot.identity import mint_token
from bot.store.models import Ticket
from bot.store.retry import RetryPolicy
from bot.store.tickets import TicketStore
from tests.services import TEST_JWT_SECRET, build_services
from tests.trackers import bot_event, metadata_for, tracker, user_event


@pytest.fixture
def services(database_url: str) -> Services:
    return build_services(database_url)


def count_tickets(services: Services) -> int:
    with services.tickets._session_factory() as session:
        return session.execute(select(func.count(Ticket.id))).scalar_one()


def conversation(token=None, last="can I talk to a real person", intent="request_human"):
    meta = metadata_for(token, "C-1001")
    return [
        user_event("hi", "greet", metadata=meta),
        bot_event("Hi! I'm Baton."),
        user_event("blorp zzz", "nlu_fallback", confidence=0.2, metadata=meta),
        bot_event("Sorry, I didn't quite get that."),
        user_event(last, intent, metadata=meta),
    ]


async def run(services, events, **slots):
    dispatcher = CollectingDispatcher()
    result = await ActionRequestHandoff(services).run(dispatcher, tracker(events, slots=slots), {})
    return dispatcher.messages, result


async def test_a_ticket_holds_the_context_a_person_needs(services):
    messages, events = await run(
        services, conversation(), case_category="billing", case_description="Charged twice"
    )
    reference = events[0]["value"]
    assert events[0] == SlotSet("handoff_reference", reference)
    assert messages[0]["response"] == "utter_handoff_queued"
    assert messages[0]["handoff_reference"] == reference
    assert messages[0]["team_name"] == "Billing & Payments"
    assert messages[0]["first_response_by"]

    ticket = services.tickets.ticket_by_reference(reference)
    assert (ticket.team, ticket.category, ticket.status) == ("billing", "billing", "open")
    packet = ticket.context
    assert packet["version"] == 1
    assert packet["customer"] == {"verified": False, "customer_id": None, "name": None, "tier": None}
    assert packet["details"] == {"case_category": "billing", "case_description": "Charged twice"}
    assert packet["fallback_count"] == 1
    assert [turn["sender"] for turn in packet["transcript"]] == ["customer", "bot", "customer", "bot", "customer"]
    assert packet["transcript"][2]["intent"] == "nlu_fallback"
    assert all("sentiment" in turn for turn in packet["transcript"] if turn["sender"] == "customer")
    assert packet["reason"] == "customer_request"
    assert {reason["type"] for reason in packet["escalation_reasons"]} >= {"functional", "customer_initiated"}
    assert packet["priority"]["value"] == ticket.priority
    assert packet["suggested_team"] == {"key": "billing", "name": "Billing & Payments"}
    assert packet["sla"]["first_response_due"] == ticket.first_response_due.isoformat()


async def test_a_verified_business_customer_is_named_and_bumped(services):
    token = mint_token("C-1002", TEST_JWT_SECRET)
    meta = metadata_for(token, "C-1002")
    _, events = await run(services, [user_event("get me a person", "request_human", metadata=meta)])
    ticket = services.tickets.ticket_by_reference(events[0]["value"])
    assert ticket.customer_external_id == "C-1002"
    assert ticket.context["customer"]["tier"] == "business"
    assert any("business" in rule or "tier" in rule for rule in ticket.context["priority"]["rules"])


async def test_an_outage_is_priority_one(services):
    _, events = await run(
        services,
        conversation(last="the internet is down in my whole street, total outage", intent="report_problem"),
        case_category="technical",
    )
    ticket = services.tickets.ticket_by_reference(events[0]["value"])
    assert ticket.priority == "P1"
    assert ticket.team == "technical"


async def test_a_replayed_action_opens_no_second_ticket(services):
    events = conversation()
    _, first = await run(services, events)
    _, second = await run(services, events)
    assert first[0]["value"] == second[0]["value"]
    assert count_tickets(services) == 1


async def test_the_case_details_are_cleared_for_the_next_case(services):
    _, events = await run(services, conversation(), case_category="billing")
    cleared = {event["name"] for event in events if event["value"] is None}
    assert cleared == {"case_category", "case_description", "order_number", "contact_email", "case_urgency"}


async def test_a_database_outage_gets_an_honest_message(services):
    # A database file inside a folder that cannot exist: every attempt fails for real.
    broken_url = "sqlite:////proc/baton-no-such-dir/baton.db"
    broken = Services(
        settings=services.settings,
        accounts=services.accounts,
        tickets=TicketStore(
            make_session_factory(create_engine(broken_url, future=True)),
            retry=RetryPolicy(attempts=2, base_delay=0.0),
        ),
        policy=services.policy,
    )
    messages, events = await run(broken, conversation())
    assert events == []
    assert [message["response"] for message in messages] == ["utter_handoff_failed"]
