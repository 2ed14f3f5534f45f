"""A new session keeps a handed-off conversation paused, and is Rasa's usual session start
otherwise."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

from actions.services import Services
from actions.session import ActionSessionStart
from bot.db import make_session_factory
from bot.store import CustomerInfo, RetryPolicy, TicketStore
from tests.desk_rows import resolve, set_state
from tests.services import build_services
from tests.store.conftest import T0, decision
from tests.trackers import tracker, user_event

SENDER = "c0ffee"
STARTED = [SessionStarted(), ActionExecuted("action_listen")]
DOMAIN = {
    "session_config": {"session_expiration_time": 120, "carry_over_slots_to_new_session": False}
}


@pytest.fixture
def services(migrated_url: str) -> Services:
    return build_services(migrated_url)


def handed_off(services: Services) -> str:
    ticket, _ = services.tickets.open_ticket(
        idempotency_key=f"{SENDER}:turn",
        conversation_sender_id=SENDER,
        channel="webchat",
        customer=CustomerInfo(external_id="C-1001"),
        decision=decision(T0),
        context={"transcript": []},
        category="billing",
        now=T0,
    )
    return ticket.reference


async def start(services: Services, domain=DOMAIN, **slots):
    dispatcher = CollectingDispatcher()
    current = tracker([user_event("hello again", "greet")], slots=slots, sender_id=SENDER)
    events = await ActionSessionStart(services).run(dispatcher, current, domain)
    assert dispatcher.messages == []
    return events


async def test_a_conversation_the_desk_never_saw_starts_as_usual(services):
    assert await start(services) == STARTED


@pytest.mark.parametrize("state", ["queued", "with_agent"])
async def test_a_conversation_with_a_person_starts_paused(services, state):
    handed_off(services)
    set_state(services.tickets.session_factory, SENDER, state)
    assert await start(services) == [*STARTED, ConversationPaused()]


async def test_a_resolved_conversation_starts_as_usual(services):
    resolve(services.tickets.session_factory, handed_off(services), T0)
    assert await start(services) == STARTED


async def test_slots_are_carried_over_when_the_domain_says_so(services):
    handed_off(services)  # queued
    domain = {"session_config": {"carry_over_slots_to_new_session": True}}
    events = await start(services, domain, handoff_reference="CS-ABCDEF", case_category=None)
    assert events == [
        SessionStarted(),
        SlotSet("handoff_reference", "CS-ABCDEF"),
        ActionExecuted("action_listen"),
        ConversationPaused(),
    ]


async def test_without_the_database_the_session_starts_unpaused(services):
    unreachable = create_engine("sqlite:////proc/baton-no-such-dir/baton.db", future=True)
    broken = dataclasses.replace(
        services,
        tickets=TicketStore(
            make_session_factory(unreachable), retry=RetryPolicy(attempts=2, base_delay=0.0)
        ),
    )
    assert await start(broken) == STARTED


def conversation_rows(services: Services):
    from sqlalchemy import select

    from bot.store.models import Conversation

    with services.tickets.session_factory() as session:
        return session.execute(
            select(
                Conversation.sender_id,
                Conversation.channel,
                Conversation.state,
                Conversation.created_at,
            )
        ).all()


async def test_the_first_session_records_the_conversation_with_its_channel(services):
    at_t0 = dataclasses.replace(services, clock=lambda: T0)
    await start(at_t0, session_started_metadata={"channel": "webchat"})

    ((sender, channel, state, started),) = conversation_rows(services)
    assert (sender, channel, state) == (SENDER, "webchat", "bot")
    assert started == T0


async def test_later_sessions_keep_the_first_start_and_fill_an_unknown_channel(services):
    await start(dataclasses.replace(services, clock=lambda: T0))
    later = dataclasses.replace(services, clock=lambda: T0 + dt.timedelta(days=2))
    await start(later, session_started_metadata={"channel": "webchat"})

    ((_, channel, state, started),) = conversation_rows(services)
    assert (channel, state) == ("webchat", "bot")
    assert started == T0


async def test_an_escalation_keeps_the_start_of_the_conversation(services):
    await start(dataclasses.replace(services, clock=lambda: T0 - dt.timedelta(minutes=3)))
    handed_off(services)

    ((_, _, state, started),) = conversation_rows(services)
    assert (state, started) == ("queued", T0 - dt.timedelta(minutes=3))
