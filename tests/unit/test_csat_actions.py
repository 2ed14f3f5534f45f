"""The satisfaction survey: what counts as a rating or a comment, and how the answer is kept."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, select

from actions.csat import ActionRecordCsat, ValidateCsatForm
from actions.services import Services
from bot.db import make_session_factory
from bot.store import CustomerInfo, RetryPolicy, TicketStore
from bot.store.models import CsatAnswer
from tests.desk_rows import resolve
from tests.services import build_services
from tests.store.conftest import decision
from tests.trackers import tracker, user_event

UTC = dt.timezone.utc
MONDAY_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ANSWERED_AT = MONDAY_10 + dt.timedelta(hours=2)
CLEARED = [SlotSet("csat_rating", None), SlotSet("csat_comment", None)]


def validate(method: str, value, intent: str = "rate_support"):
    dispatcher = CollectingDispatcher()
    current = tracker([user_event(str(value), intent)], active_loop="csat_form")
    result = getattr(ValidateCsatForm(), method)(value, dispatcher, current, {})
    return result, [message["text"] for message in dispatcher.messages]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("4", "4"),  # a button's entity value
        ("5", "5"),
        ("1", "1"),
        (" 3 ", "3"),
        ("I'd give it a 4.", "4"),
        ("4 stars", "4"),
        ("4/5", "4"),
        ("5 out of 5", "5"),
        ("five", "5"),
    ],
)
def test_a_rating_from_a_button_or_typed(value, expected):
    assert validate("validate_csat_rating", value) == ({"csat_rating": expected}, [])


@pytest.mark.parametrize(
    "value, says",
    [
        ("7", "7 isn't on our scale, which goes from 1 to 5"),
        ("10/10", "10 isn't on our scale"),
        ("0", "0 isn't on our scale"),
        ("3 or 4", "just one rating"),
        ("it was fine I suppose", "didn't catch a rating"),
        ("4.5", "didn't catch a rating"),
    ],
)
def test_a_bad_rating_is_asked_again_saying_what_fits(value, says):
    result, messages = validate("validate_csat_rating", value, intent="inform")
    assert result == {"csat_rating": None}
    assert len(messages) == 1
    assert says in messages[0]
    # Every refusal says how to answer, and how not to.
    assert "1 (poor) to 5 (excellent)" in messages[0]
    assert '"no thanks"' in messages[0]


@pytest.mark.parametrize(
    "value, intent, expected",
    [
        (
            "The agent sorted it out in five minutes",
            "request_human",
            "The agent sorted it out in five minutes",
        ),
        ("my refund came through quickly", "faq", "my refund came through quickly"),
        ("  too   slow\n to answer ", "nlu_fallback", "too slow to answer"),
        ("/deny", "deny", "-"),  # the No comment button
        ("no thanks", "deny", "-"),
        ("never mind", "stop", "-"),
        # A comment is kept whatever the intent the model guessed for it.
        ("Robin sorted it out quickly", "stop", "Robin sorted it out quickly"),
        ("no complaints, great service", "deny", "no complaints, great service"),
        ("skip", "inform", "-"),
        ("No comment.", "inform", "-"),
        ("x" * 1500, "inform", "x" * 1000),
    ],
)
def test_a_comment_or_none(value, intent, expected):
    assert validate("validate_csat_comment", value, intent=intent) == (
        {"csat_comment": expected},
        [],
    )


def extract(text: str, intent: str, requested_slot: str | None = "csat_rating", entities=None):
    current = tracker(
        [user_event(text, intent, entities=entities)],
        slots={"requested_slot": requested_slot},
        active_loop="csat_form",
    )
    return asyncio.run(ValidateCsatForm().extract_csat_rating(CollectingDispatcher(), current, {}))


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("4", "rate_support", {"csat_rating": "4"}),
        ("5", "nlu_fallback", {"csat_rating": "5"}),
        # A rating wins over whatever the NLU model made of the words around it.
        ("the agent was great, 5 stars", "request_human", {"csat_rating": "5"}),
        ("thanks, 4/5", "thank", {"csat_rating": "4"}),
        # No rating and an intent that means something else: the rules take it.
        ("no thanks", "deny", {}),
        ("never mind", "stop", {}),
        ("cheers, bye", "goodbye", {}),
        ("it's still broken, get me an agent", "request_human", {}),
        ("my internet is down again", "report_problem", {}),
        ("what are your opening hours?", "faq", {}),
        ("how are you?", "chitchat", {}),
        # Anything else is an answer that does not fit: validation says what would.
        ("10/10", "rate_support", {"csat_rating": "10/10"}),
        ("pretty good", "affirm", {"csat_rating": "pretty good"}),
    ],
)
def test_a_typed_answer_to_the_rating_question(text, intent, expected):
    assert extract(text, intent) == expected


def test_a_button_fills_the_rating_from_its_entity_not_its_text():
    button = [{"entity": "csat_rating", "value": "3"}]
    assert extract('/rate_support{"csat_rating": "3"}', "rate_support", entities=button) == {}


def test_the_rating_is_not_taken_from_the_answer_to_another_question():
    assert extract("5 minutes, great", "inform", requested_slot="csat_comment") == {}


def test_a_rating_button_at_the_comment_question_changes_the_rating_and_asks_again():
    dispatcher = CollectingDispatcher()
    current = tracker(
        [
            user_event(
                '/rate_support{"csat_rating": "5"}',
                "rate_support",
                entities=[{"entity": "csat_rating", "value": "5"}],
            )
        ],
        active_loop="csat_form",
    )
    result = ValidateCsatForm().validate_csat_comment(
        '/rate_support{"csat_rating": "5"}', dispatcher, current, {}
    )
    assert (result, dispatcher.messages) == ({"csat_comment": None}, [])


@pytest.fixture
def services(migrated_url: str) -> Services:
    return build_services(migrated_url, clock=lambda: ANSWERED_AT)


def resolved_ticket(services: Services, sender: str = "c0ffee"):
    ticket, _ = services.tickets.open_ticket(
        idempotency_key=f"{sender}:turn",
        conversation_sender_id=sender,
        channel="webchat",
        customer=CustomerInfo(external_id="C-1001"),
        decision=decision(MONDAY_10),
        context={"transcript": []},
        category="billing",
        now=MONDAY_10,
    )
    resolve(services.tickets.session_factory, ticket.reference, MONDAY_10 + dt.timedelta(hours=1))
    return ticket


def stored(services: Services):
    with services.tickets.session_factory() as session:
        rows = session.execute(select(CsatAnswer)).scalars()
        return [(row.ticket_id, row.rating, row.comment, row.at) for row in rows]


async def record(services: Services, **slots):
    dispatcher = CollectingDispatcher()
    events = await ActionRecordCsat(services).run(dispatcher, tracker([], slots=slots), {})
    return [message["response"] for message in dispatcher.messages], events


async def test_the_answer_is_kept_and_the_customer_thanked(services):
    ticket = resolved_ticket(services)
    responses, events = await record(services, csat_rating="4", csat_comment="Quick and friendly")
    assert responses == ["utter_csat_thanks"]
    assert events == CLEARED
    assert stored(services) == [(ticket.id, 4, "Quick and friendly", ANSWERED_AT)]


async def test_no_comment_is_kept_as_none(services):
    ticket = resolved_ticket(services)
    responses, events = await record(services, csat_rating="2", csat_comment="-")
    assert (responses, events) == (["utter_csat_thanks"], CLEARED)
    assert stored(services) == [(ticket.id, 2, None, ANSWERED_AT)]


async def test_a_second_answer_is_thanked_but_not_kept(services):
    ticket = resolved_ticket(services)
    await record(services, csat_rating="5", csat_comment="-")
    responses, events = await record(services, csat_rating="1", csat_comment="Actually, no")
    assert (responses, events) == (["utter_csat_thanks"], CLEARED)
    assert stored(services) == [(ticket.id, 5, None, ANSWERED_AT)]


async def test_without_a_resolved_ticket_the_customer_is_still_thanked(services):
    responses, events = await record(services, csat_rating="3", csat_comment="-")
    assert (responses, events) == (["utter_csat_thanks"], CLEARED)
    assert stored(services) == []


async def test_a_database_outage_does_not_trouble_the_customer(services):
    # A database file inside a folder that cannot exist: every attempt fails for real.
    unreachable = create_engine("sqlite:////proc/baton-no-such-dir/baton.db", future=True)
    broken = Services(
        settings=services.settings,
        accounts=services.accounts,
        tickets=TicketStore(
            make_session_factory(unreachable), retry=RetryPolicy(attempts=2, base_delay=0.0)
        ),
        policy=services.policy,
        clock=services.clock,
    )
    responses, events = await record(broken, csat_rating="4", csat_comment="-")
    assert (responses, events) == (["utter_csat_thanks"], CLEARED)
