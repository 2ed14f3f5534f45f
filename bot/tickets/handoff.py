"""The handoff use case: open one ticket with everything a person needs, and say what happens next.

Given what the conversation holds (its events, slots, latest intent, channel and
verified customer), `RequestHandoff` looks up the customer, reads the signals,
decides why and where the conversation goes (the policy's routing), builds the
escalation packet, opens the ticket exactly once per customer turn, estimates the
wait, and words the answer. It returns a `HandoffResult`; the Rasa action
(actions/handoff.py) turns it into messages and events. Nothing here knows Rasa.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from sqlalchemy.exc import SQLAlchemyError

from bot import handoff_context
from bot.accounts.interface import AccountService, AccountServiceError
from bot.constants import (
    INTENT_REQUEST_HUMAN,
    SLOT_CASE_CATEGORY,
    SLOT_CASE_DESCRIPTION,
    SLOT_CASE_URGENCY,
    SLOT_CONTACT_EMAIL,
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
from bot.escalation.engine import YamlEscalationPolicy
from bot.escalation.packet import escalation_packet
from bot.escalation.policy import Team
from bot.escalation.signals import HANDOFF, SentimentReader, SignalDecision, conversation_turns
from bot.escalation.wording import when
from bot.store.records import CustomerInfo, TicketRecord
from bot.store.retry import StoreUnavailable
from bot.store.tickets import TicketStore

logger = logging.getLogger(__name__)

# The case form's slots: the packet's details, cleared once the ticket holds them.
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
# The idempotency key's turn when the conversation has no customer turn yet.
NO_TURN_KEY = "start"


@dataclass(frozen=True)
class HandoffRequest:
    """What the conversation holds when the customer is handed to a person.

    Attributes:
        sender_id: the conversation (Rasa's sender id).
        events: its events as dicts, oldest first.
        slots: its slots.
        latest_intent: the intent of the customer's latest message, if any.
        channel: where the customer writes from, if known.
        customer_id: the verified customer (a signed token), or None for a guest.
    """

    sender_id: str
    events: Sequence[Mapping[str, Any]]
    slots: Mapping[str, Any]
    latest_intent: str | None
    channel: str | None
    customer_id: str | None


@dataclass(frozen=True)
class HandoffResult:
    """What the handoff did, and what the customer is to be told, in order.

    Attributes:
        messages: the responses to send (`{"response": name, **variables}`).
        ticket: the ticket, or None when it could not be opened (the database
            stayed away): the customer is told so and the bot stays with them.
        created: whether this call opened the ticket (False: it existed already).
        reason: why the conversation went to a person (`customer_request`, a
            signal rule's name, `case_submitted`, ...).
        estimate: the queue's estimate, or None when it could not be made.
    """

    messages: Tuple[Dict[str, Any], ...]
    ticket: TicketRecord | None
    created: bool = False
    reason: str | None = None
    estimate: QueueEstimate | None = None

    @property
    def handed_off(self) -> bool:
        """Whether a person now has the conversation (the bot pauses)."""
        return self.ticket is not None


def handoff_reason(
    latest_intent: str | None, slots: Mapping[str, Any], signals: SignalDecision
) -> str:
    """Why the conversation goes to a person: the customer asked, accepted an offer
    (named by the signal rule that made it), a signal handed off, or the case form ended."""
    if latest_intent == INTENT_REQUEST_HUMAN:
        return REASON_CUSTOMER_REQUEST
    if slots.get(SLOT_HUMAN_OFFERED):
        return str(slots.get(SLOT_HUMAN_OFFER_REASON) or REASON_BOT_FAILED)
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


class RequestHandoff:
    """Hands a conversation to a person: one ticket per escalation, and the words for it.

    Args:
        accounts: the company's account system (the customer's name, e-mail, tier).
        tickets: the ticket store.
        policy: escalation.yml (signals, routing, teams and their hours).
        average_handling_minutes: for the queue's wait estimate.
        sentiment: scores a message whose parse data has no sentiment.
    """

    def __init__(
        self,
        accounts: AccountService,
        tickets: TicketStore,
        policy: YamlEscalationPolicy,
        average_handling_minutes: float,
        sentiment: SentimentReader | None = None,
    ) -> None:
        self._accounts = accounts
        self._tickets = tickets
        self._policy = policy
        self._average_handling_minutes = average_handling_minutes
        self._sentiment = sentiment

    def __call__(self, request: HandoffRequest, now: dt.datetime) -> HandoffResult:
        """Open (or find) the ticket of this escalation and word what happens next."""
        customer = self._customer(request.customer_id)
        signals = self._policy.signal_evaluator.decide(
            conversation_turns(request.events, self._sentiment)
        )
        reason = handoff_reason(request.latest_intent, request.slots, signals)
        decision = self._policy.route(
            handoff_context.case_signals(
                request.events,
                request.slots,
                customer_tier=customer.tier if customer else None,
                customer_requested=reason == REASON_CUSTOMER_REQUEST,
                analyze=self._sentiment,
            ),
            now,
        )
        team = self._policy.config.team(decision.team)
        packet = escalation_packet(
            conversation_id=request.sender_id,
            channel=request.channel,
            events=request.events,
            slots=request.slots,
            detail_slots=CASE_SLOTS,
            customer={
                "verified": request.customer_id is not None,
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
        turn_key = handoff_context.latest_user_turn_key(request.events) or NO_TURN_KEY
        try:
            ticket, created = self._tickets.open_ticket(
                idempotency_key=f"{request.sender_id}:{turn_key}",
                conversation_sender_id=request.sender_id,
                channel=request.channel,
                customer=customer,
                decision=decision,
                context=packet,
                category=request.slots.get(SLOT_CASE_CATEGORY),
                now=now,
            )
        except (StoreUnavailable, SQLAlchemyError):
            logger.exception("handoff.ticket.failed")
            return HandoffResult(messages=({"response": UTTER_HANDOFF_FAILED},), ticket=None)
        logger.info(
            "handoff.ticket.ready reference=%s reason=%s priority=%s created=%s",
            ticket.reference,
            reason,
            ticket.priority,
            created,
        )
        estimate = self._estimate(ticket, now)
        email_known = bool((customer and customer.email) or request.slots.get(SLOT_CONTACT_EMAIL))
        messages: List[Dict[str, Any]] = []
        if signals.action == HANDOFF and reason == signals.deciding[0].rule.name:
            messages.append({"response": UTTER_HANDOFF_SIGNAL})
        messages.append(queued_message(estimate, ticket, team, now, email_known))
        return HandoffResult(
            messages=tuple(messages),
            ticket=ticket,
            created=created,
            reason=reason,
            estimate=estimate,
        )

    def _customer(self, customer_id: str | None) -> CustomerInfo | None:
        if customer_id is None:
            return None
        try:
            account = self._accounts.customer(customer_id)
        except AccountServiceError:
            # The ticket matters more than the account details: open it without them.
            logger.warning("handoff.customer.lookup_failed")
            account = None
        if account is None:
            return CustomerInfo(external_id=customer_id)
        return CustomerInfo(
            external_id=customer_id, name=account.name, email=account.email, tier=account.tier
        )

    def _estimate(self, ticket: TicketRecord, now: dt.datetime) -> QueueEstimate | None:
        try:
            return queue_estimate(
                self._tickets.session_factory,
                ticket.reference,
                now,
                self._policy,
                self._average_handling_minutes,
            )
        except (SQLAlchemyError, TicketNotFound):
            # The ticket is safe: say what we know (its deadline) rather than nothing.
            logger.exception("handoff.estimate.failed reference=%s", ticket.reference)
            return None
