"""The case form: collects what an agent needs, telling the customer what doesn't fit and why."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.handoff import CASE_SLOTS
from actions.services import UsesServices, verified_customer
from bot import case_details
from bot.constants import (
    ACTION_CANCEL_CASE,
    ACTION_VALIDATE_CASE_FORM,
    CATEGORIES_NEEDING_ORDER_NUMBER,
    SLOT_CASE_CATEGORY,
    SLOT_CONTACT_EMAIL,
    SLOT_ORDER_NUMBER,
    UTTER_CASE_CANCELLED,
)


def _validated(
    slot: str, parse: Callable[[str], str], value: Any, dispatcher: CollectingDispatcher
) -> Dict[str, Any]:
    try:
        return {slot: parse(str(value))}
    except case_details.InvalidDetail as problem:
        dispatcher.utter_message(text=str(problem))
        return {slot: None}


class ValidateCaseForm(UsesServices, FormValidationAction):
    """Decides which details to ask for, and checks each answer."""

    def name(self) -> str:
        return ACTION_VALIDATE_CASE_FORM

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        required = list(domain_slots)
        if tracker.get_slot(SLOT_CASE_CATEGORY) not in CATEGORIES_NEEDING_ORDER_NUMBER:
            required.remove(SLOT_ORDER_NUMBER)
        if verified_customer(tracker, self.services.settings) is not None:
            # We already know how to reach a logged-in customer.
            required.remove(SLOT_CONTACT_EMAIL)
        return required

    def validate_case_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return _validated("case_category", case_details.parse_category, value, dispatcher)

    def validate_case_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return _validated("case_description", case_details.parse_description, value, dispatcher)

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return _validated("order_number", case_details.parse_order_number, value, dispatcher)

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return _validated("contact_email", case_details.parse_email, value, dispatcher)

    def validate_case_urgency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return _validated("case_urgency", case_details.parse_urgency, value, dispatcher)


class ActionCancelCase(Action):
    """ "Never mind" inside the case form: forget what was collected, nothing is sent."""

    def name(self) -> str:
        return ACTION_CANCEL_CASE

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response=UTTER_CASE_CANCELLED)
        return [SlotSet(name, None) for name in CASE_SLOTS]
