"""The case form: which details it asks for, and what it tells the customer about a bad answer."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form import ActionCancelCase, ValidateCaseForm
from actions.services import Services
from bot import case_details
from bot.identity import mint_token
from bot.settings import Settings
from tests.services import TEST_JWT_SECRET
from tests.trackers import metadata_for, tracker, user_event

DOMAIN_SLOTS = [
    "case_category",
    "case_description",
    "order_number",
    "contact_email",
    "case_urgency",
]


@pytest.fixture
def form() -> ValidateCaseForm:
    # Only settings are used here: no database needed to decide the questions.
    settings = Settings(jwt_secret=TEST_JWT_SECRET)
    return ValidateCaseForm(Services(settings=settings, accounts=None, tickets=None, policy=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "category, verified, expected",
    [
        ("billing", False, ["case_category", "case_description", "contact_email", "case_urgency"]),
        ("orders", False, DOMAIN_SLOTS),
        ("orders", True, ["case_category", "case_description", "order_number", "case_urgency"]),
        ("technical", True, ["case_category", "case_description", "case_urgency"]),
        (None, False, ["case_category", "case_description", "contact_email", "case_urgency"]),
    ],
)
async def test_required_slots(form, category, verified, expected):
    token = mint_token("C-1001", TEST_JWT_SECRET) if verified else None
    current = tracker(
        [user_event("it's broken", "inform", metadata=metadata_for(token, "C-1001"))],
        slots={"case_category": category},
    )
    assert await form.required_slots(DOMAIN_SLOTS, CollectingDispatcher(), current, {}) == expected


@pytest.mark.parametrize(
    "method, typed, expected",
    [
        ("validate_case_category", "billing", "billing"),
        ("validate_case_category", "It's about my internet connection", "technical"),
        ("validate_case_category", "a parcel that never came", "orders"),
        ("validate_case_urgency", "not urgent at all", "low"),
        ("validate_case_urgency", "URGENT", "high"),
        ("validate_case_urgency", "critical", "critical"),
        ("validate_order_number", "it's bw-100234 I think", "BW-100234"),
        ("validate_contact_email", " Sam.Lee@Example.com. ", "sam.lee@example.com"),
        (
            "validate_case_description",
            "  my   router keeps rebooting  ",
            "my router keeps rebooting",
        ),
    ],
)
def test_valid_answers_are_normalised(form, method, typed, expected):
    dispatcher = CollectingDispatcher()
    result = getattr(form, method)(typed, dispatcher, tracker([]), {})
    assert list(result.values()) == [expected]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "method, typed, says",
    [
        ("validate_case_category", "bananas", "pick one: billing, technical"),
        ("validate_case_urgency", "dunno", "low, normal, high or critical"),
        ("validate_order_number", "12345", "starts with BW-"),
        ("validate_contact_email", "sam at example", "name@example.com"),
        ("validate_case_description", "help", "a little more"),
        (
            "validate_case_description",
            "x" * (case_details.MAX_DESCRIPTION_LENGTH + 1),
            "shorten it",
        ),
    ],
)
def test_invalid_answers_tell_the_customer_what_would_fit(form, method, typed, says):
    dispatcher = CollectingDispatcher()
    result = getattr(form, method)(typed, dispatcher, tracker([]), {})
    assert list(result.values()) == [None]
    assert says in dispatcher.messages[0]["text"]


async def test_cancel_forgets_the_collected_details():
    dispatcher = CollectingDispatcher()
    events = await ActionCancelCase().run(
        dispatcher, tracker([], slots={"case_category": "billing"}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_case_cancelled"]
    assert events == [SlotSet(name, None) for name in DOMAIN_SLOTS]
