""" "What's happening with my ticket?" is answered for the ticket's owner only."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff
from actions.services import Services
from actions.ticket_status import ActionTicketStatus
from bot.identity import mint_token
from tests.services import TEST_JWT_SECRET, build_services
from tests.trackers import metadata_for, tracker, user_event


@pytest.fixture
def services(migrated_url: str) -> Services:
    return build_services(migrated_url)


async def open_ticket(services, sender_id, token=None, customer_id=None) -> str:
    events = [
        user_event("I want a human", "request_human", metadata=metadata_for(token, customer_id))
    ]
    result = await ActionRequestHandoff(services).run(
        CollectingDispatcher(), tracker(events, sender_id=sender_id), {}
    )
    return result[0]["value"]


async def ask(services, sender_id, reference=None, token=None, customer_id=None) -> str:
    entities = [{"entity": "ticket_reference", "value": reference}] if reference else []
    event = user_event(
        "what's happening with my ticket",
        "ask_ticket_status",
        entities=entities,
        metadata=metadata_for(token, customer_id),
    )
    dispatcher = CollectingDispatcher()
    assert (
        await ActionTicketStatus(services).run(
            dispatcher, tracker([event], sender_id=sender_id), {}
        )
        == []
    )
    return dispatcher.messages[0]["text"]


async def test_the_same_conversation_gets_its_ticket_status(services):
    reference = await open_ticket(services, "conversation-a")
    answer = await ask(services, "conversation-a")
    assert f"Your ticket {reference}" in answer
    assert "waiting for the next free agent" in answer
    assert reference in await ask(services, "conversation-a", reference=reference)


async def test_a_verified_customer_gets_their_ticket_from_another_conversation(services):
    token = mint_token("C-1001", TEST_JWT_SECRET)
    reference = await open_ticket(services, "on-the-laptop", token, "C-1001")
    answer = await ask(services, "on-the-phone", token=token, customer_id="C-1001")
    assert f"Your ticket {reference}" in answer


async def test_a_stranger_learns_nothing_about_someone_elses_ticket(services):
    reference = await open_ticket(services, "conversation-a")
    answer = await ask(services, "conversation-b", reference=reference)
    assert f"can't find ticket {reference}" in answer
    assert "waiting" not in answer
    other = mint_token("C-1002", TEST_JWT_SECRET)
    assert "can't find" in await ask(
        services, "conversation-c", reference=reference, token=other, customer_id="C-1002"
    )


async def test_no_ticket_yet(services):
    assert "can't see a ticket from this conversation" in await ask(services, "new-conversation")
