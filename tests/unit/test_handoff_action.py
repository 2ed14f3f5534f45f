"""The handoff: one ticket per escalation, with the context a person needs, and the customer
told."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, select, text

from actions.handoff import ActionRequestHandoff
from actions.services import Services
from bot.db import make_session_factory
from bot.escalation.wording import when
from bot.identity import mint_token
from bot.store.models import Ticket
from bot.store.retry import RetryPolicy
from bot.store.tickets import TicketStore
from tests.desk_rows import add_agent
from tests.services import TEST_JWT_SECRET, build_services
from tests.trackers import bot_event, metadata_for, tracker, user_event

UTC = dt.timezone.utc
LONDON = ZoneInfo("Europe/London")
# Monday 30 November 2026, 10:00 in London (= UTC): every team is open.
MONDAY_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
# Sunday 29 November 2026, 12:00: Billing and Customer Care are closed until Monday 08:00.
SUNDAY_NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CASE_SLOTS = ["case_category", "case_description", "order_number", "contact_email", "case_urgency"]


def handed_off(reference: str):
    """The events of a ticket that is ready: slots cleared, the bot listening, then paused."""
    return [
        SlotSet("handoff_reference", reference),
        SlotSet("human_offered", False),
        SlotSet("human_offer_reason", None),
        *[SlotSet(name, None) for name in CASE_SLOTS],
        SlotSet("csat_rating", None),
        SlotSet("csat_comment", None),
        ActionExecuted("action_listen"),
        ConversationPaused(),
    ]


def said(message, **expected):
    """The response and the variables it was filled with (None: the variable was not sent)."""
    return {key: message.get(key) for key in ("response", *expected)}


@pytest.fixture
def services(migrated_url: str) -> Services:
    return build_services(migrated_url, clock=lambda: MONDAY_10)


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
    assert events == handed_off(reference)
    assert messages[0]["response"] == "utter_handoff_no_agents_online"
    assert messages[0]["handoff_reference"] == reference
    assert messages[0]["team_name"] == "Billing & Payments"
    assert messages[0]["first_response_by"]

    ticket = services.tickets.ticket_by_reference(reference)
    assert (ticket.team, ticket.category, ticket.status) == ("billing", "billing", "open")
    packet = ticket.context
    assert packet["version"] == 3
    assert packet["customer"] == {
        "verified": False,
        "customer_id": None,
        "name": None,
        "tier": None,
    }
    assert packet["details"] == {"case_category": "billing", "case_description": "Charged twice"}
    assert packet["fallback_count"] == 1
    assert [turn["sender"] for turn in packet["transcript"]] == [
        "customer",
        "bot",
        "customer",
        "bot",
        "customer",
    ]
    assert packet["transcript"][2]["intent"] == "nlu_fallback"
    assert all("sentiment" in turn for turn in packet["transcript"] if turn["sender"] == "customer")
    assert packet["reason"] == "customer_request"
    assert {reason["type"] for reason in packet["escalation_reasons"]} >= {
        "functional",
        "customer_initiated",
    }
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
        conversation(
            last="the internet is down in my whole street, total outage", intent="report_problem"
        ),
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
    cleared = {
        event["name"] for event in events if event["event"] == "slot" and event["value"] is None
    }
    assert cleared == {*CASE_SLOTS, "csat_rating", "csat_comment", "human_offer_reason"}


async def test_with_agents_online_the_customer_hears_their_place_and_wait(services):
    factory = services.tickets.session_factory
    add_agent(factory, ["billing"])
    add_agent(factory, ["billing"])
    add_agent(factory, ["billing"], status="away")
    # Someone else is already waiting for Billing, at the same priority.
    earlier = [user_event("I need a person about my bill", "request_human")]
    await ActionRequestHandoff(services).run(
        CollectingDispatcher(),
        tracker(earlier, slots={"case_category": "billing"}, sender_id="someone"),
        {},
    )

    messages, events = await run(services, conversation(), case_category="billing")

    reference = events[0]["value"]
    assert events == handed_off(reference)
    assert [
        said(m, handoff_reference=1, team_name=1, position=1, wait_minutes=1) for m in messages
    ] == [
        {
            "response": "utter_handoff_agents_online",
            "handoff_reference": reference,
            "team_name": "Billing & Payments",
            "position": 2,
            "wait_minutes": 8,  # 2 places x 8 minutes / 2 agents online
        }
    ]


async def test_a_second_customer_waits_behind_the_first(services):
    add_agent(services.tickets.session_factory, ["customer_care"])
    first = [user_event("I need a person", "request_human")]
    await ActionRequestHandoff(services).run(
        CollectingDispatcher(), tracker(first, sender_id="first"), {}
    )

    messages, events = await run(services, conversation())

    assert events == handed_off(events[0]["value"])
    assert said(messages[0], position=1, wait_minutes=1, team_name=1) == {
        "response": "utter_handoff_agents_online",
        "position": 2,
        "wait_minutes": 16,
        "team_name": "Customer Care",
    }


@pytest.mark.parametrize(
    "slots, response",
    [
        ({}, "utter_handoff_no_agents_online"),
        ({"contact_email": "sam@example.com"}, "utter_handoff_no_agents_online_email"),
    ],
)
async def test_within_hours_with_nobody_online_the_first_response_is_promised(
    services, slots, response
):
    messages, events = await run(services, conversation(), case_category="billing", **slots)

    reference = events[0]["value"]
    assert events == handed_off(reference)
    ticket = services.tickets.ticket_by_reference(reference)
    assert said(messages[0], handoff_reference=1, first_response_by=1, next_opening=1) == {
        "response": response,
        "handoff_reference": reference,
        "first_response_by": when(ticket.first_response_due, LONDON, MONDAY_10),
        "next_opening": None,
    }


async def test_a_verified_customer_with_an_email_is_told_we_will_email(services):
    token = mint_token("C-1001", TEST_JWT_SECRET)
    meta = metadata_for(token, "C-1001")
    messages, events = await run(
        services, [user_event("a person please", "request_human", metadata=meta)]
    )
    assert events == handed_off(events[0]["value"])
    assert messages[0]["response"] == "utter_handoff_no_agents_online_email"


@pytest.mark.parametrize(
    "slots, response",
    [
        ({}, "utter_handoff_after_hours"),
        ({"contact_email": "sam@example.com"}, "utter_handoff_after_hours_email"),
    ],
)
async def test_outside_hours_the_customer_hears_when_the_team_is_back(
    migrated_url, slots, response
):
    services = build_services(migrated_url, clock=lambda: SUNDAY_NOON)
    messages, events = await run(services, conversation(), case_category="billing", **slots)

    reference = events[0]["value"]
    assert events == handed_off(reference)
    assert said(messages[0], handoff_reference=1, team_name=1, next_opening=1) == {
        "response": response,
        "handoff_reference": reference,
        "team_name": "Billing & Payments",
        "next_opening": "tomorrow at 08:00",
    }


async def test_agents_online_outside_hours_still_take_the_queue(migrated_url):
    services = build_services(migrated_url, clock=lambda: SUNDAY_NOON)
    add_agent(services.tickets.session_factory, ["billing"])
    messages, _ = await run(services, conversation(), case_category="billing")
    assert said(messages[0], position=1, wait_minutes=1) == {
        "response": "utter_handoff_agents_online",
        "position": 1,
        "wait_minutes": 8,
    }


async def test_without_an_estimate_the_ticket_and_its_deadline_are_still_told(services):
    # The desk's agent tables are gone: the estimate fails, the ticket does not.
    with services.tickets.session_factory.begin() as session:
        session.execute(text("DROP TABLE agent_teams"))
    messages, events = await run(services, conversation(), case_category="billing")

    reference = events[0]["value"]
    assert events == handed_off(reference)
    assert said(messages[0], handoff_reference=1, team_name=1) == {
        "response": "utter_handoff_queued",
        "handoff_reference": reference,
        "team_name": "Billing & Payments",
    }
    assert messages[0]["first_response_by"]


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
    # No ticket, so no pause: the bot stays with the customer.
    assert events == []
    assert [message["response"] for message in messages] == ["utter_handoff_failed"]


# --- signals: mood and repeated failure (escalation.yml `signals:`) -------------------


def frustrated(text: str, cues=("negative_tone",), compound: float = -0.7):
    event = user_event(text, "ask_invoice")
    event["parse_data"]["sentiment"] = {
        "compound": compound,
        "label": "negative",
        "frustrated": True,
        "cues": list(cues),
    }
    return event


async def test_an_abusive_customer_is_handed_over_with_the_reason(services):
    events = [
        user_event("how much is my bill", "ask_invoice"),
        bot_event("Your latest bill is £42."),
        frustrated("you useless idiots, that is wrong", cues=("abusive",), compound=-0.9),
    ]
    messages, result = await run(services, events)
    assert [m["response"] for m in messages][:1] == ["utter_handoff_signal"]
    ticket = services.tickets.ticket_by_reference(result[0]["value"])
    assert ticket.context["reason"] == "abusive"
    sentiment = [r for r in ticket.context["escalation_reasons"] if r["type"] == "sentiment"]
    assert [r["rule"] for r in sentiment] == ["abusive"]
    assert ticket.priority == "P2"  # P3 raised one step by the abusive rule


async def test_an_accepted_offer_names_the_signal_and_raises_priority(services):
    events = [
        frustrated("this is ridiculous, still no refund"),
        bot_event("Refunds take 5 working days."),
        frustrated("five days?? it has been three weeks, honestly"),
        bot_event("I'm sorry this has been frustrating. Would you like me to connect you?"),
        user_event("yes please", "affirm"),
    ]
    messages, result = await run(
        services, events, human_offered=True, human_offer_reason="frustration"
    )
    assert "utter_handoff_signal" not in [m["response"] for m in messages]
    ticket = services.tickets.ticket_by_reference(result[0]["value"])
    assert ticket.context["reason"] == "frustration"
    (reason,) = [r for r in ticket.context["escalation_reasons"] if r["type"] == "sentiment"]
    assert "2 of the last 2 messages frustrated" in reason["detail"]
    assert ticket.priority == "P2"
    # The agent sees the trend the component recorded on each message.
    trend = [t["sentiment"] for t in ticket.context["transcript"] if t["sender"] == "customer"]
    assert [s and s["compound"] for s in trend] == [-0.7, -0.7, None]
    assert ticket.context["sentiment"] == {
        "trajectory": [-0.7, -0.7, None],
        "frustrated_messages": 2,
        "latest": "negative",
    }


async def test_a_calm_request_for_a_person_keeps_its_priority(services):
    messages, result = await run(services, conversation())
    ticket = services.tickets.ticket_by_reference(result[0]["value"])
    assert not [r for r in ticket.context["escalation_reasons"] if r["type"] == "sentiment"]
    assert ticket.priority == "P3"
