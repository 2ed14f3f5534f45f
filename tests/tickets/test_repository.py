"""The ticket repository: each lifecycle move changes the ticket and its conversation together."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.store.models import Conversation
from bot.store.records import TicketRecord
from bot.store.tickets import TicketStore
from bot.tickets import repository as lifecycle
from bot.tickets.repository import Expected, InvalidTransition
from bot.tickets.states import (
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_RESOLVED,
    CONVERSATION_WITH_AGENT,
    TICKET_ASSIGNED,
    TICKET_CLOSED,
    TICKET_OPEN,
    TICKET_RESOLVED,
)
from tests.desk_rows import add_agent
from tests.store.conftest import NO_WAIT, T0, decision

LATER = T0 + dt.timedelta(minutes=5)


@pytest.fixture
def store(session_factory: sessionmaker) -> TicketStore:
    return TicketStore(session_factory, retry=NO_WAIT)


def open_one(store: TicketStore, sender_id: str = "conv-1") -> TicketRecord:
    ticket, created = store.open_ticket(
        f"{sender_id}:m1", sender_id, "webchat", None, decision(), {}, "billing", T0
    )
    assert created
    return ticket


def state_of(session_factory: sessionmaker, sender_id: str) -> str:
    with session_factory() as session:
        return session.execute(
            select(Conversation.state).where(Conversation.sender_id == sender_id)
        ).scalar_one()


def test_a_new_ticket_is_open_with_nobody_and_its_conversation_queued(store, session_factory):
    ticket = open_one(store)
    assert (ticket.status, ticket.assigned_agent_id) == (TICKET_OPEN, None)
    assert store.ticket_by_reference(ticket.reference).status == TICKET_OPEN
    assert state_of(session_factory, "conv-1") == CONVERSATION_QUEUED


def test_assigned_means_an_agent_and_a_conversation_with_agent(store, session_factory):
    ticket = open_one(store)
    agent_id = add_agent(session_factory, ["billing"])
    with session_factory.begin() as session:
        moved = lifecycle.assign(
            session, ticket.id, "conv-1", Expected(TICKET_OPEN, None), agent_id, LATER, LATER
        )
    assert moved
    after = store.ticket_by_reference(ticket.reference)
    assert (after.status, after.assigned_agent_id, after.first_response_at) == (
        TICKET_ASSIGNED,
        agent_id,
        LATER,
    )
    assert state_of(session_factory, "conv-1") == CONVERSATION_WITH_AGENT


def test_a_move_on_a_ticket_that_changed_meanwhile_changes_nothing(store, session_factory):
    ticket = open_one(store)
    agent_id = add_agent(session_factory, ["billing"])
    with session_factory.begin() as session:
        # Expected assigned to someone: it is open with nobody.
        assert not lifecycle.assign(
            session,
            ticket.id,
            "conv-1",
            Expected(TICKET_ASSIGNED, agent_id),
            agent_id,
            LATER,
            LATER,
        )
        assert not lifecycle.close(
            session,
            ticket.id,
            "conv-1",
            Expected(TICKET_ASSIGNED, agent_id),
            TICKET_RESOLVED,
            CONVERSATION_RESOLVED,
            LATER,
        )
        assert not lifecycle.requeue(session, ticket.id, "conv-1", agent_id, LATER)
    assert store.ticket_by_reference(ticket.reference).status == TICKET_OPEN
    assert state_of(session_factory, "conv-1") == CONVERSATION_QUEUED


def test_requeue_and_move_put_the_ticket_back_in_the_queue(store, session_factory):
    ticket = open_one(store)
    agent_id = add_agent(session_factory, ["billing"])
    with session_factory.begin() as session:
        lifecycle.assign(
            session, ticket.id, "conv-1", Expected(TICKET_OPEN, None), agent_id, LATER, LATER
        )
        assert lifecycle.requeue(session, ticket.id, "conv-1", agent_id, LATER)
    requeued = store.ticket_by_reference(ticket.reference)
    assert (requeued.status, requeued.assigned_agent_id) == (TICKET_OPEN, None)
    assert state_of(session_factory, "conv-1") == CONVERSATION_QUEUED

    due = LATER + dt.timedelta(minutes=15)
    with session_factory.begin() as session:
        assert lifecycle.move(
            session,
            ticket.id,
            "conv-1",
            Expected(TICKET_OPEN, None),
            team="technical",
            level=1,
            tier="specialist",
            first_response_due=due,
            now=LATER,
        )
    moved = store.ticket_by_reference(ticket.reference)
    assert (moved.status, moved.team, moved.level, moved.first_response_due) == (
        TICKET_OPEN,
        "technical",
        1,
        due,
    )


@pytest.mark.parametrize(
    "status, state",
    [(TICKET_RESOLVED, CONVERSATION_RESOLVED), (TICKET_CLOSED, CONVERSATION_BOT)],
)
def test_a_closed_ticket_leaves_its_conversation_with_the_bot_or_over(
    store, session_factory, status, state
):
    ticket = open_one(store)
    with session_factory.begin() as session:
        assert lifecycle.close(
            session, ticket.id, "conv-1", Expected(TICKET_OPEN, None), status, state, LATER
        )
    closed = store.ticket_by_reference(ticket.reference)
    assert (closed.status, closed.resolved_at) == (status, LATER)
    assert state_of(session_factory, "conv-1") == state


@pytest.mark.parametrize(
    "status, state",
    [
        (TICKET_ASSIGNED, CONVERSATION_BOT),  # not a closing status
        (TICKET_RESOLVED, CONVERSATION_QUEUED),  # a closed ticket cannot leave it waiting
        (TICKET_CLOSED, CONVERSATION_WITH_AGENT),
    ],
)
def test_a_close_the_lifecycle_does_not_have_is_refused_before_any_write(
    store, session_factory, status, state
):
    ticket = open_one(store)
    with session_factory.begin() as session:
        with pytest.raises(InvalidTransition) as refused:
            lifecycle.close(
                session, ticket.id, "conv-1", Expected(TICKET_OPEN, None), status, state, LATER
            )
    assert (refused.value.ticket_status, refused.value.conversation_state) == (status, state)
    assert status in str(refused.value) and state in str(refused.value)
    assert store.ticket_by_reference(ticket.reference).status == TICKET_OPEN


def test_every_history_row_is_kept_in_the_order_written(store, session_factory):
    ticket = open_one(store)
    with session_factory.begin() as session:
        lifecycle.record(session, ticket.id, LATER, "agent:1", "note", reason="first")
        lifecycle.record_rows(
            session,
            [
                lifecycle.history_row(ticket.id, LATER, "agent:1", "note", reason="second"),
                lifecycle.history_row(ticket.id, LATER, "agent:1", "note", reason="third"),
            ],
        )
    notes = [entry.reason for entry in store.history(ticket.id) if entry.action == "note"]
    assert notes == ["first", "second", "third"]


def test_aware_utc_refuses_a_naive_time():
    with pytest.raises(ValueError, match="naive datetime"):
        lifecycle.aware_utc(dt.datetime(2026, 11, 30, 9, 0))
    assert lifecycle.aware_utc(T0) == T0
