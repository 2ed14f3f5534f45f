"""Handing the conversation to a person: open a ticket with its full context, tell the customer.

Once the ticket is ready the bot pauses (Rasa's `ConversationPaused`): while the
conversation is queued or with an agent, Rasa still parses customer messages and
writes them to the tracker, but predicts and runs no action
(`MessageProcessor._should_handle_message`), so the bot stays silent. The desk
resumes it when the agent resolves the conversation or hands it back to the bot.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import Services, UsesServices, latest_metadata, verified_customer
from actions.signals import signal_decision
from bot import handoff_context
from bot.accounts.interface import AccountServiceError
from bot.constants import (
    ACTION_REQUEST_HANDOFF,
    INTENT_REQUEST_HUMAN,
    SLOT_CASE_CATEGORY,
    SLOT_CASE_DESCRIPTION,
    SLOT_CASE_URGENCY,
    SLOT_CONTACT_EMAIL,
    SLOT_CSAT_COMMENT,
    SLOT_CSAT_RATING,
    SLOT_HANDOFF_REFERENCE,
    SLOT_HUMAN_OFFER_REASON,
    SLOT_HUMAN_OFFERED,
    SLOT_ORDER_NUMBER,
    UTTER_HANDOFF_AFTER_HOURS,
    UTTER_HANDOFF_AFTER_HOURS_EMAIL,
    UTTER_HANDOFF_AGENTS_ONLINE,
    UTTER_HANDOFF_FAILED,
    UTTER_HANDOFF_NO_AGENTS_ONLINE,
    UTTER_HANDOFF_NO_AGENTS_ONLINE_EMAIL,
    UTTER_HANDOFF_QUEUED,
    UTTER_HANDOFF_SIGNAL,
)
from bot.desk.availability import QueueEstimate, TicketNotFound, queue_estimate
from bot.escalation.packet import escalation_packet
from bot.escalation.policy import Team
from bot.escalation.signals import HANDOFF, SignalDecision
from bot.escalation.wording import when
from bot.store.records import CustomerInfo, TicketRecord
from bot.store.retry import StoreUnavailable

logger = logging.getLogger(__name__)

CASE_SLOTS = (
    SLOT_CASE_CATEGORY,
    SLOT_CASE_DESCRIPTION,
    SLOT_ORDER_NUMBER,
    SLOT_CONTACT_EMAIL,
    SLOT_CASE_URGENCY,
)
REASON_CUSTOMER_REQUEST = "customer_request"
REASON_BOT_FAILED = "repeated_fallback"
REASON_CASE_SUBMITTED = "case_submitted"
# Cleared with each handoff: a survey left half-answered must not answer the next one.
CSAT_SLOTS = (SLOT_CSAT_RATING, SLOT_CSAT_COMMENT)
ACTION_LISTEN = "action_listen"


def handoff_reason(tracker: Tracker, signals: SignalDecision) -> str:
    """Why the conversation goes to a person: the customer asked, accepted an offer
    (named by the signal rule that made it), a signal handed off, or the case form ended."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == INTENT_REQUEST_HUMAN:
        return REASON_CUSTOMER_REQUEST
    if tracker.get_slot(SLOT_HUMAN_OFFERED):
        return str(tracker.get_slot(SLOT_HUMAN_OFFER_REASON) or REASON_BOT_FAILED)
    if signals.action == HANDOFF:
        return signals.deciding[0].rule.name
    return REASON_CASE_SUBMITTED


def queued_message(
    estimate: QueueEstimate | None,
    ticket: TicketRecord,
    team: Team,
    now: dt.datetime,
    email_known: bool,
) -> Dict[str, Any]:
    """The response (and its variables) telling the customer what happens next.

    Someone online: their place in the queue and the expected wait. Nobody online
    within business hours: when the first response is due. Outside hours: when the
    team is back. Without an estimate (the database did not answer): the deadline.
    Every answer names the ticket reference, so nothing is a dead end.
    """
    variables: Dict[str, Any] = {
        "handoff_reference": ticket.reference,
        "team_name": team.name,
        "first_response_by": when(ticket.first_response_due, team.zone, now),
    }
    if estimate is None:
        return {"response": UTTER_HANDOFF_QUEUED, **variables}
    if estimate.agents_online > 0:
        return {
            "response": UTTER_HANDOFF_AGENTS_ONLINE,
            **variables,
            "position": estimate.position,
            "wait_minutes": estimate.wait_minutes,
        }
    if estimate.within_hours or estimate.next_opening is None:
        response = (
            UTTER_HANDOFF_NO_AGENTS_ONLINE_EMAIL if email_known else UTTER_HANDOFF_NO_AGENTS_ONLINE
        )
        return {"response": response, **variables}
    response = UTTER_HANDOFF_AFTER_HOURS_EMAIL if email_known else UTTER_HANDOFF_AFTER_HOURS
    return {
        "response": response,
        **variables,
        "next_opening": when(estimate.next_opening, team.zone, now),
    }


def _customer_info(services: Services, customer_id: str | None) -> CustomerInfo | None:
    if customer_id is None:
        return None
    try:
        account = services.accounts.customer(customer_id)
    except AccountServiceError:
        # The ticket matters more than the account details: open it without them.
        logger.warning("handoff.customer.lookup_failed")
        account = None
    if account is None:
        return CustomerInfo(external_id=customer_id)
    return CustomerInfo(
        external_id=customer_id, name=account.name, email=account.email, tier=account.tier
    )


class ActionRequestHandoff(UsesServices, Action):
    """Opens one ticket per escalation with everything collected, and says what happens next."""

    def name(self) -> str:
        return ACTION_REQUEST_HANDOFF

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        services = self.services
        now = services.clock()
        events = tracker.events
        verified = verified_customer(tracker, services.settings)
        customer = _customer_info(services, verified.customer_id if verified else None)
        signals = signal_decision(services, tracker)
        reason = handoff_reason(tracker, signals)
        decision = services.policy.route(
            handoff_context.case_signals(
                events,
                tracker.slots,
                customer_tier=customer.tier if customer else None,
                customer_requested=reason == REASON_CUSTOMER_REQUEST,
                analyze=services.sentiment,
            ),
            now,
        )
        team = services.policy.config.team(decision.team)
        channel = latest_metadata(tracker).get("channel") or tracker.get_latest_input_channel()
        packet = escalation_packet(
            conversation_id=tracker.sender_id,
            channel=channel,
            events=events,
            slots=tracker.slots,
            detail_slots=CASE_SLOTS,
            customer={
                "verified": verified is not None,
                "customer_id": customer.external_id if customer else None,
                "name": customer.name if customer else None,
                "tier": customer.tier if customer else None,
            },
            reason=reason,
            decision=decision,
            team_name=team.name,
        )
        # One ticket per customer turn that escalated: a retried or replayed
        # action finds the ticket it already opened.
        turn_key = handoff_context.latest_user_turn_key(events) or "start"
        try:
            ticket, created = services.tickets.open_ticket(
                idempotency_key=f"{tracker.sender_id}:{turn_key}",
                conversation_sender_id=tracker.sender_id,
                channel=channel,
                customer=customer,
                decision=decision,
                context=packet,
                category=tracker.get_slot(SLOT_CASE_CATEGORY),
                now=now,
            )
        except (StoreUnavailable, SQLAlchemyError):
            logger.exception("handoff.ticket.failed")
            dispatcher.utter_message(response=UTTER_HANDOFF_FAILED)
            return []
        logger.info(
            "handoff.ticket.ready reference=%s reason=%s priority=%s created=%s",
            ticket.reference,
            reason,
            ticket.priority,
            created,
        )
        try:
            estimate: QueueEstimate | None = queue_estimate(
                services.tickets.session_factory,
                ticket.reference,
                now,
                services.policy,
                services.average_handling_minutes,
            )
        except (SQLAlchemyError, TicketNotFound):
            # The ticket is safe: say what we know (its deadline) rather than nothing.
            logger.exception("handoff.estimate.failed reference=%s", ticket.reference)
            estimate = None
        email_known = bool((customer and customer.email) or tracker.get_slot(SLOT_CONTACT_EMAIL))
        if signals.action == HANDOFF and reason == signals.deciding[0].rule.name:
            dispatcher.utter_message(response=UTTER_HANDOFF_SIGNAL)
        dispatcher.utter_message(**queued_message(estimate, ticket, team, now, email_known))
        return [
            SlotSet(SLOT_HANDOFF_REFERENCE, ticket.reference),
            SlotSet(SLOT_HUMAN_OFFERED, False),
            SlotSet(SLOT_HUMAN_OFFER_REASON, None),
            *[SlotSet(name, None) for name in (*CASE_SLOTS, *CSAT_SLOTS)],
            # The bot now listens, as after any turn: Rasa predicts nothing once the
            # conversation is paused, so without this the intent the desk triggers on
            # resuming (handoff_resolved, handoff_returned) would follow this action
            # instead of a listen, and match none of the rules written for it.
            ActionExecuted(ACTION_LISTEN),
            ConversationPaused(),
        ]
