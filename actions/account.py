"""Answers to account questions, for verified customers only."""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import UsesServices, verified_customer
from bot import account_answers
from bot.accounts.interface import AccountService, AccountServiceError
from bot.constants import (
    ACTION_ACCOUNT_ANSWER,
    ENTITY_ORDER_NUMBER,
    INTENT_CURRENT_PLAN,
    INTENT_DATA_USAGE,
    INTENT_INVOICE,
    INTENT_ORDER_STATUS,
    INTENT_PASSWORD_RESET,
    INTENT_UPDATE_CONTACT,
    UTTER_ACCOUNT_UNAVAILABLE,
    UTTER_LOGIN_REQUIRED,
)

logger = logging.getLogger(__name__)

Answer = Callable[[AccountService, str, Tracker], str]


def _order_number(tracker: Tracker) -> str | None:
    return next(tracker.get_latest_entity_values(ENTITY_ORDER_NUMBER), None)


ANSWERS: Dict[str, Answer] = {
    INTENT_ORDER_STATUS: lambda accounts, customer_id, tracker: account_answers.order_status(
        accounts.orders(customer_id), _order_number(tracker)
    ),
    INTENT_INVOICE: lambda accounts, customer_id, _: account_answers.invoice_summary(
        accounts.invoices(customer_id)
    ),
    INTENT_CURRENT_PLAN: lambda accounts, customer_id, _: account_answers.plan_summary(
        accounts.plan(customer_id)
    ),
    INTENT_DATA_USAGE: lambda accounts, customer_id, _: account_answers.data_usage_summary(
        accounts.data_usage(customer_id)
    ),
    INTENT_PASSWORD_RESET: lambda accounts, customer_id, _: account_answers.password_reset_sent(
        accounts.send_password_reset(customer_id)
    ),
    INTENT_UPDATE_CONTACT: lambda accounts, customer_id, _: (
        account_answers.contact_change_link_sent(accounts.send_contact_change_link(customer_id))
    ),
}


class ActionAccountAnswer(UsesServices, Action):
    """Answers the latest account question, or explains how to log in first."""

    def name(self) -> str:
        return ACTION_ACCOUNT_ANSWER

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        settings = self.services.settings
        customer = verified_customer(tracker, settings)
        if customer is None:
            dispatcher.utter_message(response=UTTER_LOGIN_REQUIRED, login_url=settings.login_url)
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = ANSWERS.get(intent) if intent is not None else None
        if answer is None:
            # Reached through a story the content team wrote for another intent.
            logger.warning("account.answer.unknown_intent intent=%s", intent)
            dispatcher.utter_message(response="utter_default")
            return []
        try:
            if self.services.accounts.customer(customer.customer_id) is None:
                dispatcher.utter_message(
                    response=UTTER_LOGIN_REQUIRED, login_url=settings.login_url
                )
                return []
            text = answer(self.services.accounts, customer.customer_id, tracker)
        except AccountServiceError:
            logger.warning("account.answer.service_unavailable intent=%s", intent)
            dispatcher.utter_message(response=UTTER_ACCOUNT_UNAVAILABLE)
            return []
        dispatcher.utter_message(text=text)
        return []
