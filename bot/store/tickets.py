"""The ticket store: one ticket per escalation, its customer and conversation, its history.

The narrow interface the handoff action, the desk and the clock go through.
Every method opens its own short transaction and returns frozen records.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any, Dict, List, Tuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.escalation.types import RoutingDecision, primary_reason
from bot.handoff_context import MAX_TRIGGER_TEXT
from bot.store.models import Conversation, CsatAnswer, Customer, Ticket, TicketHistory
from bot.store.records import CustomerInfo, HistoryEntry, TicketRecord
from bot.store.retry import RetryPolicy, with_retries
from bot.tickets import repository as lifecycle
from bot.tickets.states import (
    ACTION_CREATED,
    ACTION_CSAT,
    LIVE_TICKET_STATUSES,
    TICKET_OPEN,
    TICKET_RESOLVED,
)

logger = logging.getLogger(__name__)

# Unambiguous characters (no 0/O, 1/I): a customer reads the reference out on the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
REFERENCE_PREFIX = "CS-"
CONTEXT_VERSION = 1
ACTOR_BOT = "bot"
ACTOR_CUSTOMER = "customer"
CSAT_MIN_RATING = 1
CSAT_MAX_RATING = 5
# A conflict that is not our own idempotency key (a reference collision, a
# conversation or customer created by a concurrent call) is worth a few fresh tries.
MAX_CONFLICT_RETRIES = 3


def new_reference() -> str:
    """A random, readable ticket reference such as `CS-7K3M9Q` (32^6 ≈ 10^9 values)."""
    suffix = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX}{suffix}"


def normalize_reference(reference: str) -> str:
    """A reference as typed by a person (`cs-7k3m9q `, `7K3M9Q`) in its stored form."""
    cleaned = reference.strip().upper()
    if not cleaned.startswith(REFERENCE_PREFIX):
        cleaned = REFERENCE_PREFIX + cleaned
    return cleaned


class TicketStore:
    """Tickets, with the customer and conversation they belong to.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        retry: attempts and backoff for transient database failures.
    """

    def __init__(self, session_factory: sessionmaker, retry: RetryPolicy | None = None) -> None:
        self._session_factory = session_factory
        self._retry = retry or RetryPolicy()

    @property
    def session_factory(self) -> sessionmaker:
        """The sessions this store uses, for read-only questions beside it (the queue estimate)."""
        return self._session_factory

    def open_ticket(
        self,
        idempotency_key: str,
        conversation_sender_id: str,
        channel: str | None,
        customer: CustomerInfo | None,
        decision: RoutingDecision,
        context: Dict[str, Any],
        category: str | None,
        now: dt.datetime,
    ) -> Tuple[TicketRecord, bool]:
        """Open the ticket of one escalation, exactly once per `idempotency_key`.

        In one transaction: upsert the customer and the conversation (now
        `queued`), insert the ticket with the versioned context, and write one
        `created` history row per escalation reason. A call with a key already
        used returns the existing ticket, also when the two calls race (the
        unique key decides) and when a retry follows a commit whose
        acknowledgement was lost (the retry finds the committed row).

        A conversation has at most one live ticket (queued or with an agent): while
        it has one, a call with another key opens nothing and returns that ticket.
        The database's partial unique index decides (migration 0007), so two racing
        escalations of one conversation, or a replayed action call, cannot put the
        customer in the queue twice.

        Returns:
            The ticket, and whether this call created it (False when it existed, or
            when the conversation already had a live ticket; after a lost
            acknowledgement the creating call itself sees False).

        Raises:
            StoreUnavailable: the database stayed unreachable through every retry.
        """
        packet = {**context}
        packet.setdefault("version", CONTEXT_VERSION)

        def attempt() -> Tuple[TicketRecord, bool]:
            # Insert first, look up on conflict: the unique key decides, and a new
            # ticket (the common case) costs no read of a key that is not there.
            # A conflict rolls the whole transaction back, customer and
            # conversation updates included, before the existing ticket is read.
            for _ in range(MAX_CONFLICT_RETRIES):
                try:
                    return (
                        self._insert(
                            idempotency_key,
                            conversation_sender_id,
                            channel,
                            customer,
                            decision,
                            packet,
                            category,
                            now,
                        ),
                        True,
                    )
                except IntegrityError:
                    # Someone else committed first (the same key, or the same new
                    # conversation/customer), or this key's ticket exists already
                    # (a repeated call, a retry after a lost acknowledgement), or the
                    # conversation has a live ticket already (one live per conversation).
                    logger.info("ticket.open.conflict key_length=%d", len(idempotency_key))
                existing = self._by_key(idempotency_key) or self._live_ticket(
                    conversation_sender_id
                )
                if existing is not None:
                    return existing, False
            raise RuntimeError(
                f"ticket for conversation {conversation_sender_id!r} still conflicts "
                f"after {MAX_CONFLICT_RETRIES} tries"
            )

        ticket, created = with_retries(attempt, self._retry, what="open_ticket")
        if created:
            logger.info(
                "ticket.opened reference=%s priority=%s team=%s level=%d",
                ticket.reference,
                ticket.priority,
                ticket.team,
                ticket.level,
            )
        return ticket, created

    def ticket_by_reference(self, reference: str) -> TicketRecord | None:
        """The ticket with this reference (as a person typed it), or None."""
        return self._read_one(
            select(Ticket).where(Ticket.reference == normalize_reference(reference))
        )

    def tickets_for_conversation(self, sender_id: str) -> List[TicketRecord]:
        """Every ticket of a conversation, oldest first."""
        statement = (
            select(Ticket)
            .join(Conversation, Ticket.conversation_id == Conversation.id)
            .where(Conversation.sender_id == sender_id)
            .order_by(Ticket.id)
        )
        return self._read_many(statement)

    def latest_ticket_for_customer(self, customer_id: str) -> TicketRecord | None:
        """The newest ticket of the customer with this external id, or None."""
        statement = (
            select(Ticket)
            .join(Customer, Ticket.customer_id == Customer.id)
            .where(Customer.external_id == customer_id)
            # id breaks ties between tickets opened in the same instant.
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        )
        return self._read_one(statement)

    def status_for(
        self,
        reference: str,
        *,
        sender_id: str | None = None,
        customer_id: str | None = None,
    ) -> TicketRecord | None:
        """The ticket, only for its owner: the same conversation or the verified customer.

        A reference is short and guessable, so knowing it proves nothing: a
        stranger asking about someone else's ticket gets the same None as a
        reference that does not exist (no hint that it does).
        """
        ticket = self.ticket_by_reference(reference)
        if ticket is None:
            return None
        if sender_id is not None and ticket.conversation_sender_id == sender_id:
            return ticket
        if customer_id is not None and ticket.customer_external_id == customer_id:
            return ticket
        return None

    def record_conversation_start(
        self, sender_id: str, channel: str | None, now: dt.datetime
    ) -> str:
        """Note that a conversation session started, and return the conversation's state.

        The first session inserts the conversation (state `bot`, started `now`): the
        metrics count every conversation, not only the escalated ones. Later sessions
        change nothing but an unknown channel. Two racing first sessions both succeed
        (the unique sender id decides, the loser reads the winner's row).

        Raises:
            StoreUnavailable: the database stayed unreachable through every retry.
        """

        def attempt() -> str:
            for _ in range(MAX_CONFLICT_RETRIES):
                with self._session_factory.begin() as session:
                    row = session.execute(
                        select(
                            _CONVERSATIONS.c.id, _CONVERSATIONS.c.state, _CONVERSATIONS.c.channel
                        ).where(_CONVERSATIONS.c.sender_id == sender_id)
                    ).first()
                    if row is not None:
                        if channel and not row.channel:
                            lifecycle.note_channel(session, row.id, channel)
                        return str(row.state)
                try:
                    with self._session_factory.begin() as session:
                        return lifecycle.start_conversation(session, sender_id, channel, now)
                except IntegrityError:
                    logger.info("conversation.start.conflict")
            raise RuntimeError(
                f"conversation {sender_id!r} still conflicts after {MAX_CONFLICT_RETRIES} tries"
            )

        return with_retries(attempt, self._retry, what="record_conversation_start")

    def conversation_state(self, sender_id: str) -> str | None:
        """The desk's state of a conversation (`bot`, `queued`, `with_agent`, `resolved`), or None.

        None for a conversation that never reached the desk (no ticket was ever opened).
        """
        with self._session_factory() as session:
            state: str | None = session.execute(
                select(_CONVERSATIONS.c.state).where(_CONVERSATIONS.c.sender_id == sender_id)
            ).scalar()
            return state

    def history(self, ticket_id: int) -> List[HistoryEntry]:
        """The audit trail of a ticket, in the order it was written.

        Ordered by id, not by `at`: rows written in one transaction share a
        timestamp (the injected `now`), and clocks on different replicas may
        disagree slightly; the id is the order of insertion.
        """
        with self._session_factory() as session:
            rows = session.execute(
                select(TicketHistory)
                .where(TicketHistory.ticket_id == ticket_id)
                .order_by(TicketHistory.id)
            ).scalars()
            return [history_entry(row) for row in rows]

    def record_csat(
        self,
        conversation_sender_id: str,
        rating: int,
        comment: str | None,
        now: dt.datetime,
    ) -> bool:
        """Keep the customer's satisfaction answer for the conversation's latest resolved ticket.

        In one transaction: the `csat_answers` row and a `csat` history row (actor
        `customer`, the rating as its new value). A ticket is rated once: the unique
        ticket id decides, also between two racing calls, and a second answer
        changes nothing.

        Returns:
            True when this call recorded the answer; False when the conversation has
            no resolved ticket, or its latest resolved ticket was already rated
            (after a retry whose first commit lost its acknowledgement, also False).

        Raises:
            ValueError: a rating outside 1 to 5.
            StoreUnavailable: the database stayed unreachable through every retry.
        """
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not CSAT_MIN_RATING <= rating <= CSAT_MAX_RATING
        ):
            raise ValueError(
                f"rating {rating!r}: expected a whole number "
                f"from {CSAT_MIN_RATING} to {CSAT_MAX_RATING}"
            )

        def attempt() -> bool:
            try:
                with self._session_factory.begin() as session:
                    ticket_id = session.execute(
                        select(_TICKETS.c.id)
                        .join(_CONVERSATIONS, _TICKETS.c.conversation_id == _CONVERSATIONS.c.id)
                        .where(
                            _CONVERSATIONS.c.sender_id == conversation_sender_id,
                            _TICKETS.c.status == TICKET_RESOLVED,
                        )
                        # id breaks ties between tickets resolved in the same instant.
                        .order_by(_TICKETS.c.resolved_at.desc(), _TICKETS.c.id.desc())
                        .limit(1)
                    ).scalar()
                    if ticket_id is None:
                        return False
                    # Insert first: the unique ticket id, not a prior read, decides.
                    session.execute(
                        insert(_CSAT),
                        {"ticket_id": ticket_id, "rating": rating, "comment": comment, "at": now},
                    )
                    lifecycle.record(
                        session, ticket_id, now, ACTOR_CUSTOMER, ACTION_CSAT, to_value=str(rating)
                    )
                    return True
            except IntegrityError:
                # Already rated: the whole transaction, history row included, is undone.
                logger.info("ticket.csat.duplicate")
                return False

        recorded = with_retries(attempt, self._retry, what="record_csat")
        if recorded:
            logger.info("ticket.csat.recorded rating=%d commented=%s", rating, comment is not None)
        return recorded

    # -- internals -------------------------------------------------------------

    def _by_key(self, idempotency_key: str) -> TicketRecord | None:
        return self._read_one(select(Ticket).where(Ticket.idempotency_key == idempotency_key))

    def _live_ticket(self, sender_id: str) -> TicketRecord | None:
        """The conversation's ticket that is queued or with an agent (at most one, by
        migration 0007)."""
        return self._read_one(
            select(Ticket)
            .join(Conversation, Ticket.conversation_id == Conversation.id)
            .where(Conversation.sender_id == sender_id, Ticket.status.in_(LIVE_TICKET_STATUSES))
        )

    def _read_one(self, statement: Any) -> TicketRecord | None:
        with self._session_factory() as session:
            row = session.execute(statement).scalars().first()
            return ticket_record(row) if row is not None else None

    def _read_many(self, statement: Any) -> List[TicketRecord]:
        with self._session_factory() as session:
            return [ticket_record(row) for row in session.execute(statement).scalars()]

    def _insert(
        self,
        idempotency_key: str,
        sender_id: str,
        channel: str | None,
        customer: CustomerInfo | None,
        decision: RoutingDecision,
        context: Dict[str, Any],
        category: str | None,
        now: dt.datetime,
    ) -> TicketRecord:
        # Core statements, not ORM objects: the same rows and the same
        # "update only what changed" as the unit of work did, without its
        # bookkeeping (most of a creation's CPU time). The datetime columns still
        # go through `UTCDateTime`, so naive values are still refused.
        with self._session_factory.begin() as session:
            customer_id = _upsert_customer(session, customer, now) if customer else None
            conversation_id = lifecycle.queue_conversation(
                session, sender_id, channel, customer_id, now
            )
            cause = primary_reason(decision.reasons)
            trigger = context.get("trigger") or {}
            values: Dict[str, Any] = {
                "reference": new_reference(),
                "conversation_id": conversation_id,
                "customer_id": customer_id,
                "idempotency_key": idempotency_key,
                "priority": decision.priority,
                "category": category,
                "team": decision.team,
                "level": decision.level,
                "tier": decision.tier,
                "context": context,
                "escalation_type": cause.type.value if cause else None,
                "escalation_reason": cause.rule[:64] if cause else None,
                "trigger_intent": _text_or_none(trigger.get("intent"), 128),
                "trigger_text": _text_or_none(trigger.get("text"), MAX_TRIGGER_TEXT),
                "first_response_due": decision.first_response_due,
                "resolution_due": decision.resolution_due,
            }
            ticket_id = lifecycle.insert_open_ticket(session, values, now)
            lifecycle.record_rows(session, _created_rows(ticket_id, decision, now))
            return TicketRecord(
                id=ticket_id,
                reference=values["reference"],
                conversation_sender_id=sender_id,
                customer_external_id=customer.external_id if customer else None,
                idempotency_key=idempotency_key,
                status=TICKET_OPEN,
                priority=decision.priority,
                category=category,
                team=decision.team,
                level=decision.level,
                tier=decision.tier,
                assigned_agent_id=None,
                context=dict(context),
                first_response_due=decision.first_response_due,
                resolution_due=decision.resolution_due,
                first_response_at=None,
                resolved_at=None,
                created_at=now,
                updated_at=now,
            )


_CUSTOMERS = Customer.__table__
_CONVERSATIONS = Conversation.__table__
_TICKETS = Ticket.__table__
_CSAT = CsatAnswer.__table__


def _upsert_customer(session: Session, info: CustomerInfo, now: dt.datetime) -> int:
    row = session.execute(
        select(
            _CUSTOMERS.c.id,
            _CUSTOMERS.c.name,
            _CUSTOMERS.c.email,
            _CUSTOMERS.c.tier,
            _CUSTOMERS.c.updated_at,
        ).where(_CUSTOMERS.c.external_id == info.external_id)
    ).first()
    if row is None:
        inserted = session.execute(
            insert(_CUSTOMERS),
            {
                "external_id": info.external_id,
                "name": info.name,
                "email": info.email,
                "tier": info.tier,
                "created_at": now,
                "updated_at": now,
            },
        )
        return int(inserted.inserted_primary_key[0])
    # The account system is the truth: keep what it told us most recently,
    # but never erase a known value with an unknown one.
    wanted = {
        "name": info.name if info.name is not None else row.name,
        "email": info.email if info.email is not None else row.email,
        "tier": info.tier if info.tier is not None else row.tier,
        "updated_at": now,
    }
    _update_changed(session, _CUSTOMERS, row, wanted)
    return int(row.id)


def _text_or_none(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value else None


def _update_changed(session: Session, table: Any, row: Any, wanted: Dict[str, Any]) -> None:
    """UPDATE only the columns whose value changes, and nothing when none does.

    As the ORM did: an upsert that changes nothing takes no row lock, so two
    escalations of one conversation meet at the ticket's unique key, not here.
    """
    changed = {column: value for column, value in wanted.items() if getattr(row, column) != value}
    if changed:
        session.execute(update(table).where(table.c.id == row.id).values(**changed))


def _created_rows(
    ticket_id: int, decision: RoutingDecision, now: dt.datetime
) -> List[Dict[str, Any]]:
    placed = f"{decision.team}:L{decision.level}:{decision.priority}"
    base = lifecycle.history_row(ticket_id, now, ACTOR_BOT, ACTION_CREATED, to_value=placed)
    reasons = decision.reasons or ()
    if not reasons:
        return [base]
    return [
        {**base, "reason": f"{reason.rule}: {reason.detail}", "escalation_type": reason.type.value}
        for reason in reasons
    ]


def ticket_record(row: Ticket) -> TicketRecord:
    """A frozen snapshot of a loaded ticket (its conversation and customer are joined)."""
    return TicketRecord(
        id=row.id,
        reference=row.reference,
        conversation_sender_id=row.conversation.sender_id,
        customer_external_id=row.customer.external_id if row.customer is not None else None,
        idempotency_key=row.idempotency_key,
        status=row.status,
        priority=row.priority,
        category=row.category,
        team=row.team,
        level=row.level,
        tier=row.tier,
        assigned_agent_id=row.assigned_agent_id,
        context=dict(row.context),
        first_response_due=row.first_response_due,
        resolution_due=row.resolution_due,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def history_entry(row: TicketHistory) -> HistoryEntry:
    """A frozen snapshot of one history row."""
    return HistoryEntry(
        id=row.id,
        ticket_id=row.ticket_id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        from_value=row.from_value,
        to_value=row.to_value,
        reason=row.reason,
        escalation_type=row.escalation_type,
        breach_key=row.breach_key,
    )
