"""`CallStore`: the `calls` table, and the call rows of `ticket_history` through bot/tickets.

Every change is a conditional `UPDATE ... WHERE id = :id AND state = :expected`
with its history rows in the same transaction, so of two racing changes (a
hang-up crossing a timeout, two replicas sweeping) exactly one wins and writes
its rows; the loser gets None and reloads. "One live call per conversation" is
the partial unique index `uq_calls_live_conversation`, which also settles an
agent's offer crossing a customer's request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, List

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.calls import protocol as p
from bot.calls.auth import ConversationFacts
from bot.calls.errors import CallRefused
from bot.calls.machine import CALL_ENDED, CALL_OFFERED, CALL_STARTED, Step
from bot.calls.records import CallRecord
from bot.store.models import Agent, Call, Conversation, Customer, Ticket
from bot.tickets import queries
from bot.tickets import repository as lifecycle

_CALLS = Call.__table__
_CONVERSATIONS = Conversation.__table__
_TICKETS = Ticket.__table__
_AGENTS = Agent.__table__
_CUSTOMERS = Customer.__table__
# An agent's calls that count towards "one call at a time" (a customer's waiting request does not).
AGENT_BUSY_STATES = (p.STATE_INVITING, p.STATE_CONNECTING, p.STATE_ACTIVE)
# How long an ended call's row is kept. Nothing reads it after a minute or so (the desk
# shows an ended call for a minute, a customer's request cooldown looks back 30 s); its
# facts (offered, started, ended, who, duration) stay in the ticket history for reports,
# while the row also holds socket and console ids and the Jitsi room name.
ENDED_CALL_RETENTION = dt.timedelta(days=1)


def _record_select() -> Any:
    return (
        select(
            _CALLS,
            _CONVERSATIONS.c.sender_id,
            _TICKETS.c.team,
            _AGENTS.c.name.label("agent_name"),
        )
        .select_from(_CALLS)
        .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _CALLS.c.conversation_id)
        .join(_TICKETS, _TICKETS.c.id == _CALLS.c.ticket_id)
        .join(_AGENTS, _AGENTS.c.id == _CALLS.c.agent_id, isouter=True)
    )


def _record(row: Any) -> CallRecord:
    return CallRecord(
        id=row.id,
        conversation_pk=row.conversation_id,
        conversation_id=row.sender_id,
        ticket_id=row.ticket_id,
        team=row.team,
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        media=row.media,
        provider=row.provider,
        state=row.state,
        started_by=row.started_by,
        customer_sid=row.customer_sid,
        agent_connection=row.agent_connection,
        room=row.room,
        created_at=row.created_at,
        expires_at=row.expires_at,
        answered_at=row.answered_at,
        connected_at=row.connected_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        ended_by=row.ended_by,
    )


class CallStore:
    """The calls repository. Args: session_factory from `bot.db.make_session_factory`."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    # --- reads -----------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> ConversationFacts | None:
        """The handed-off conversation with its current ticket, or None."""
        with self._session_factory() as session:
            row = session.execute(
                select(
                    _CONVERSATIONS.c.id,
                    _CONVERSATIONS.c.sender_id,
                    _CONVERSATIONS.c.state,
                    _TICKETS.c.id.label("ticket_id"),
                    _TICKETS.c.team,
                    _TICKETS.c.reference,
                    _TICKETS.c.assigned_agent_id,
                    _CUSTOMERS.c.name.label("customer_name"),
                )
                .select_from(_CONVERSATIONS)
                .join(_TICKETS, queries.current_ticket())
                .join(_CUSTOMERS, _CUSTOMERS.c.id == _TICKETS.c.customer_id, isouter=True)
                .where(_CONVERSATIONS.c.sender_id == conversation_id)
            ).first()
        if row is None:
            return None
        return ConversationFacts(
            conversation_pk=row.id,
            conversation_id=row.sender_id,
            state=row.state,
            ticket_id=row.ticket_id,
            team=row.team,
            reference=row.reference,
            assigned_agent_id=row.assigned_agent_id,
            customer_name=row.customer_name,
        )

    def get(self, call_id: str) -> CallRecord | None:
        with self._session_factory() as session:
            return self._get(session, call_id)

    def live_call(self, conversation_id: str) -> CallRecord | None:
        """The conversation's call that has not ended, if any."""
        return self._first(
            _CONVERSATIONS.c.sender_id == conversation_id, _CALLS.c.state != p.STATE_ENDED
        )

    def latest_call(self, conversation_id: str) -> CallRecord | None:
        """The conversation's most recent call, live or ended."""
        with self._session_factory() as session:
            row = session.execute(
                _record_select()
                .where(_CONVERSATIONS.c.sender_id == conversation_id)
                .order_by(_CALLS.c.created_at.desc())
                .limit(1)
            ).first()
        return _record(row) if row is not None else None

    def latest_customer_request(self, conversation_id: str) -> CallRecord | None:
        with self._session_factory() as session:
            row = session.execute(
                _record_select()
                .where(
                    _CONVERSATIONS.c.sender_id == conversation_id,
                    _CALLS.c.started_by == p.ACTOR_CUSTOMER,
                )
                .order_by(_CALLS.c.created_at.desc())
                .limit(1)
            ).first()
        return _record(row) if row is not None else None

    def live_calls_bound_to(
        self, *, customer_sid: str | None = None, agent_connection: str | None = None
    ) -> List[CallRecord]:
        """Live calls bound to a socket or a console connection."""
        condition = (
            _CALLS.c.customer_sid == customer_sid
            if customer_sid is not None
            else _CALLS.c.agent_connection == agent_connection
        )
        with self._session_factory() as session:
            rows = session.execute(
                _record_select().where(condition, _CALLS.c.state != p.STATE_ENDED)
            ).all()
        return [_record(row) for row in rows]

    def expired(self, now: dt.datetime) -> List[CallRecord]:
        """Live calls whose deadline has passed (served by ix_calls_state_expires_at)."""
        with self._session_factory() as session:
            rows = session.execute(
                _record_select().where(
                    _CALLS.c.state.in_(p.LIVE_STATES), _CALLS.c.expires_at <= now
                )
            ).all()
        return [_record(row) for row in rows]

    # --- changes ---------------------------------------------------------------------

    def create(
        self,
        *,
        call_id: str,
        conversation: ConversationFacts,
        agent_id: int | None,
        media: str,
        provider: str,
        step: Step,
        started_by: str,
        now: dt.datetime,
        expires_at: dt.datetime | None,
        customer_sid: str | None = None,
        agent_connection: str | None = None,
        busy_agent_id: int | None = None,
    ) -> CallRecord:
        """A new call in `step.to` with its `call_offered` row.

        Raises:
            CallRefused("busy"): the conversation has a live call, or `busy_agent_id`
                is in another call.
        """
        try:
            with self._session_factory.begin() as session:
                if busy_agent_id is not None:
                    self._check_agent_free(session, busy_agent_id)
                session.execute(
                    insert(_CALLS),
                    {
                        "id": call_id,
                        "conversation_id": conversation.conversation_pk,
                        "ticket_id": conversation.ticket_id,
                        "agent_id": agent_id,
                        "media": media,
                        "provider": provider,
                        "state": step.to,
                        "started_by": started_by,
                        "customer_sid": customer_sid,
                        "agent_connection": agent_connection,
                        "room": None,
                        "created_at": now,
                        "expires_at": expires_at,
                    },
                )
                record = self._get(session, call_id)
                assert record is not None
                self._history(session, record, step.history, now)
        except IntegrityError:
            raise CallRefused(
                p.BUSY, "busy", "Another call is already open in this conversation; end it first."
            ) from None
        return record

    def apply(
        self,
        record: CallRecord,
        step: Step,
        now: dt.datetime,
        *,
        actor: str | None = None,
        expires_at: dt.datetime | None = None,
        busy_agent_id: int | None = None,
        **changes: Any,
    ) -> CallRecord | None:
        """Move `record` along `step` if it is still in `record.state`; None if it was not.

        Args:
            actor: who ended it (history actor), when `step` ends the call.
            expires_at: the new state's deadline.
            busy_agent_id: refuse with `busy` if this agent is in another call.
            changes: other columns to set (answered_at, customer_sid, room, ...).
        """
        values: Dict[str, Any] = {"state": step.to, "expires_at": expires_at, **changes}
        if step.to == p.STATE_ENDED:
            values.update(expires_at=None, ended_at=now, end_reason=step.end_reason, ended_by=actor)
        if step.to == p.STATE_ACTIVE and record.connected_at is None:
            values["connected_at"] = now
        with self._session_factory.begin() as session:
            if busy_agent_id is not None:
                self._check_agent_free(session, busy_agent_id, other_than=record.id)
            changed = session.execute(
                update(_CALLS)
                .where(_CALLS.c.id == record.id, _CALLS.c.state == record.state)
                .values(**values)
            ).rowcount
            if changed != 1:
                return None
            updated = self._get(session, record.id)
            assert updated is not None
            self._history(session, updated, step.history, now)
            return updated

    def prune_ended(self, now: dt.datetime, keep: dt.timedelta = ENDED_CALL_RETENTION) -> int:
        """Delete the calls that ended more than `keep` before `now`; how many.

        Live calls are never touched: their deadlines are `CallService.expire`'s, which
        ends them with their `call_ended` history row.
        """
        if keep <= dt.timedelta(0):
            raise ValueError("keep must be positive: a call that just ended is still shown")
        with self._session_factory.begin() as session:
            deleted: int = session.execute(
                delete(_CALLS).where(
                    _CALLS.c.state == p.STATE_ENDED, _CALLS.c.ended_at <= now - keep
                )
            ).rowcount
            return deleted

    # --- helpers ---------------------------------------------------------------------

    def _first(self, *conditions: Any) -> CallRecord | None:
        with self._session_factory() as session:
            row = session.execute(_record_select().where(*conditions).limit(1)).first()
        return _record(row) if row is not None else None

    @staticmethod
    def _get(session: Session, call_id: str) -> CallRecord | None:
        row = session.execute(_record_select().where(_CALLS.c.id == call_id)).first()
        return _record(row) if row is not None else None

    @staticmethod
    def _check_agent_free(session: Session, agent_id: int, other_than: str | None = None) -> None:
        statement = (
            select(func.count())
            .select_from(_CALLS)
            .where(_CALLS.c.agent_id == agent_id, _CALLS.c.state.in_(AGENT_BUSY_STATES))
        )
        if other_than is not None:
            statement = statement.where(_CALLS.c.id != other_than)
        if session.execute(statement).scalar_one():
            raise CallRefused(p.BUSY, "busy", "You are already in another call; end it first.")

    @staticmethod
    def _history(
        session: Session, record: CallRecord, kinds: Iterable[str], now: dt.datetime
    ) -> None:
        to_value: str | None
        reason: str | None
        for kind in kinds:
            if kind in (CALL_OFFERED, CALL_STARTED):
                actor, to_value, reason = record.started_by, record.media, record.provider
            else:
                assert kind == CALL_ENDED
                duration = record.duration_seconds
                actor = record.ended_by or p.ACTOR_DESK
                to_value = str(duration) if duration is not None else None
                reason = record.end_reason
            lifecycle.record(
                session, record.ticket_id, now, actor, kind, record.id, to_value, reason
            )
