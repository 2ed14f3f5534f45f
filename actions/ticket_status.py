""" "What's happening with my ticket?": the status, told only to the ticket's owner."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import UsesServices, verified_customer
from bot.constants import ACTION_TICKET_STATUS, ENTITY_TICKET_REFERENCE
from bot.escalation.wording import when
from bot.store.records import TicketRecord
from bot.store.retry import StoreUnavailable
from bot.tickets.states import TICKET_ASSIGNED, TICKET_CLOSED, TICKET_OPEN, TICKET_RESOLVED

STATUS_WORDS = {
    TICKET_OPEN: "waiting for the next free agent",
    TICKET_ASSIGNED: "with one of our agents now",
    TICKET_RESOLVED: "resolved",
    TICKET_CLOSED: "closed",
}


class ActionTicketStatus(UsesServices, Action):
    """Looks up the customer's ticket: by reference, else the latest of this conversation or
    customer."""

    def name(self) -> str:
        return ACTION_TICKET_STATUS

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        tickets = self.services.tickets
        customer = verified_customer(tracker, self.services.settings)
        customer_id = customer.customer_id if customer else None
        reference = next(tracker.get_latest_entity_values(ENTITY_TICKET_REFERENCE), None)
        try:
            if reference:
                # Only the owner learns anything, even that the reference exists.
                ticket = tickets.status_for(
                    reference, sender_id=tracker.sender_id, customer_id=customer_id
                )
            else:
                ticket = self._latest(tracker.sender_id, customer_id)
        except (StoreUnavailable, SQLAlchemyError):
            dispatcher.utter_message(
                text="Sorry, I can't look up tickets right now. Please try again in a few minutes."
            )
            return []
        if ticket is None:
            dispatcher.utter_message(text=self._not_found(reference, customer_id is not None))
            return []
        dispatcher.utter_message(text=self._describe(ticket))
        return []

    def _latest(self, sender_id: str, customer_id: str | None) -> TicketRecord | None:
        tickets = self.services.tickets
        candidates = tickets.tickets_for_conversation(sender_id)
        if customer_id:
            latest = tickets.latest_ticket_for_customer(customer_id)
            if latest is not None:
                candidates.append(latest)
        return max(candidates, key=lambda ticket: ticket.created_at, default=None)

    def _describe(self, ticket: TicketRecord) -> str:
        team = self.services.policy.config.team(ticket.team)
        now = dt.datetime.now(dt.timezone.utc)
        text = (
            f"Your ticket {ticket.reference} ({team.name}, priority {ticket.priority}) is "
            f"{STATUS_WORDS.get(ticket.status, ticket.status)}."
        )
        if ticket.status == TICKET_OPEN and ticket.first_response_at is None:
            text += f" We aim to reply by {when(ticket.first_response_due, team.zone, now)}."
        elif ticket.status == TICKET_ASSIGNED:
            text += f" We aim to resolve it by {when(ticket.resolution_due, team.zone, now)}."
        return text

    @staticmethod
    def _not_found(reference: str | None, verified: bool) -> str:
        if reference:
            return (
                f"I can't find ticket {reference} for you. Tickets are shown only in the "
                "conversation that opened them or to the logged-in customer they belong to."
            )
        if verified:
            return (
                "I can't see any tickets on your account. "
                "If something needs fixing, tell me and I'll open one."
            )
        return (
            "I can't see a ticket from this conversation. If you opened one earlier, log in "
            "or tell me its reference (it starts with CS-)."
        )
