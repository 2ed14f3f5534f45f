"""The handoff request: recorded once with its context, and the customer told what happens next."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, select

from actions.handoff import ActionRequestHandoff
from actions.services import Services
from bot.db import make_session_factory
from bot.handoff import HandoffRequest, HandoffRequests
from bot.identity import mint_token
from tests.services import TEST_JWT_SECRET, build_services
from tests.trackers import bot_event, metadata_for, tracker, user_event


@pytest.fixture
def services(database_url: str) -> Services:
    return build_services(database_url)


def count_requests(services: Services) -> int:
    factory = services.handoffs._session_factory
    with factory() as session:
        return session.execute(select(func.count(HandoffRequest.id))).scalar_one()


def conversation(token=None):
    return [
        user_event("hi", "greet", metadata=metadata_for(token, "C-1001")),
        bot_event("Hi! I'm Baton."),
        user_event("blorp zzz", "nlu_fallback", confidence=0.2, metadata=metadata_for(token, "C-1001")),
        bot_event("Sorry, I didn't quite get that."),
        user_event("can I talk to a real person", "request_human", metadata=metadata_for(token, "C-1001")),
    ]


async def test_a_request_is_recorded_with_its_context(services):
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHandoff(services).run(
        dispatcher,
        tracker(conversation(), slots={"case_category": "billing", "case_description": "Charged twice"}),
        {},
    )
    reference = events[0]["value"]
    assert events[0] == SlotSet("handoff_reference", reference)
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert dispatcher.messages[0]["handoff_reference"] == reference

    stored = services.handoffs.get(reference)
    assert stored.reason == "customer_request"
    assert stored.customer_id is None
    context = stored.context
    assert context["version"] == 1
    assert context["customer"] == {"verified": False, "customer_id": None}
    assert context["details"] == {"case_category": "billing", "case_description": "Charged twice"}
    assert context["fallback_count"] == 1
    assert [turn["sender"] for turn in context["transcript"]] == [
        "customer", "bot", "customer", "bot", "customer",
    ]
    assert context["transcript"][2]["intent"] == "nlu_fallback"
    assert context["transcript"][0]["timestamp"] is not None
    assert "sentiment" in context["transcript"][0]


async def test_a_verified_customer_is_named_on_the_request(services):
    token = mint_token("C-1001", TEST_JWT_SECRET)
    events = await ActionRequestHandoff(services).run(
        CollectingDispatcher(), tracker(conversation(token)), {}
    )
    stored = services.handoffs.get(events[0]["value"])
    assert stored.customer_id == "C-1001"
    assert stored.context["customer"] == {"verified": True, "customer_id": "C-1001"}


async def test_a_replayed_action_does_not_duplicate_the_request(services):
    events = conversation()
    first = await ActionRequestHandoff(services).run(CollectingDispatcher(), tracker(events), {})
    second = await ActionRequestHandoff(services).run(CollectingDispatcher(), tracker(events), {})
    assert first[0]["value"] == second[0]["value"]
    assert count_requests(services) == 1


async def test_the_case_details_are_cleared_for_the_next_case(services):
    events = await ActionRequestHandoff(services).run(
        CollectingDispatcher(), tracker(conversation(), slots={"case_category": "billing"}), {}
    )
    cleared = {event["name"] for event in events if event["value"] is None}
    assert cleared == {"case_category", "case_description", "order_number", "contact_email", "case_urgency"}


async def test_a_database_outage_gets_an_honest_message(services):
    # A database file inside a missing, uncreatable folder: every write fails for real.
    broken_url = "sqlite:////proc/baton-no-such-dir/baton.db"
    broken = Services(
        settings=services.settings,
        accounts=services.accounts,
        handoffs=HandoffRequests(make_session_factory(create_engine(broken_url, future=True))),
    )
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHandoff(broken).run(dispatcher, tracker(conversation()), {})
    assert events == []
    assert [message["response"] for message in dispatcher.messages] == ["utter_handoff_failed"]
