"""One live ticket per conversation: a second handoff while one is queued or with an agent
opens nothing.

On SQLite and PostgreSQL (the `database_url` fixture), through the store and
straight at the database: the partial unique index of migration 0007 is what
decides, so a replayed or forged action call, or two racing escalations with
different idempotency keys, cannot put one customer in the queue twice.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from bot.store import TicketStore
from bot.store.models import Conversation, Ticket, TicketHistory
from bot.store.records import TicketRecord
from tests.store.conftest import NO_WAIT, T0, decision, transcript


def open_for(store: TicketStore, key: str, sender: str = "conv-1") -> tuple[TicketRecord, bool]:
    """One escalation of `sender`, as the handoff action opens it."""
    return store.open_ticket(
        idempotency_key=key,
        conversation_sender_id=sender,
        channel="webchat",
        customer=None,
        decision=decision(),
        context={"transcript": transcript(2)},
        category="billing",
        now=T0,
    )


def set_status(session_factory: sessionmaker, ticket_id: int, status: str) -> None:
    with session_factory.begin() as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status=status))


def live_tickets(session_factory: sessionmaker, sender: str = "conv-1") -> int:
    with session_factory() as session:
        return session.execute(
            select(func.count())
            .select_from(Ticket)
            .join(Conversation, Ticket.conversation_id == Conversation.id)
            .where(Conversation.sender_id == sender, Ticket.status.in_(("open", "assigned")))
        ).scalar_one()


def test_a_second_handoff_while_the_first_is_queued_returns_the_queued_ticket(
    store, session_factory
):
    first, created_first = open_for(store, "conv-1:turn-1")
    second, created_second = open_for(store, "conv-1:turn-7")

    assert (created_first, created_second) == (True, False)
    assert second == first
    assert live_tickets(session_factory) == 1
    # Nothing of the refused ticket is left behind: no second history.
    assert len(store.history(first.id)) == len(decision().reasons)


def test_a_handoff_while_an_agent_holds_the_ticket_returns_that_ticket(store, session_factory):
    held, _ = open_for(store, "conv-1:turn-1")
    set_status(session_factory, held.id, "assigned")
    with session_factory.begin() as session:  # as the desk's accept leaves it
        session.execute(
            update(Conversation)
            .where(Conversation.sender_id == "conv-1")
            .values(state="with_agent")
        )

    again, created = open_for(store, "conv-1:turn-3")

    assert created is False
    assert (again.id, again.status) == (held.id, "assigned")
    assert live_tickets(session_factory) == 1
    # The conversation stays with its agent: the refused handoff did not queue it again.
    assert store.conversation_state("conv-1") == "with_agent"


@pytest.mark.parametrize("finished", ["resolved", "closed"])
def test_after_the_ticket_is_finished_a_new_handoff_opens_a_new_ticket(
    store, session_factory, finished
):
    first, _ = open_for(store, "conv-1:turn-1")
    set_status(session_factory, first.id, finished)

    second, created = open_for(store, "conv-1:turn-5")

    assert created is True
    assert second.id != first.id
    assert live_tickets(session_factory) == 1


def test_other_conversations_are_not_affected(store, session_factory):
    open_for(store, "conv-1:turn-1", sender="conv-1")
    other, created = open_for(store, "conv-2:turn-1", sender="conv-2")

    assert created is True
    assert other.conversation_sender_id == "conv-2"


def test_the_database_itself_refuses_a_second_live_ticket(store, session_factory):
    # Code that bypasses the store (a future feature, a hand-written fix) meets the same rule.
    first, _ = open_for(store, "conv-1:turn-1")
    with session_factory() as session:
        row = (
            session.execute(select(Ticket.__table__).where(Ticket.id == first.id)).mappings().one()
        )
    duplicate = {**row, "reference": "CS-DUPL22", "idempotency_key": "conv-1:forged"}
    del duplicate["id"]

    with pytest.raises(IntegrityError):
        with session_factory.begin() as session:
            session.execute(insert(Ticket.__table__), duplicate)
    for status in ("assigned", "open"):
        with pytest.raises(IntegrityError):
            with session_factory.begin() as session:
                session.execute(insert(Ticket.__table__), {**duplicate, "status": status})
    # A finished ticket beside the live one is history, not a second live ticket.
    with session_factory.begin() as session:
        session.execute(insert(Ticket.__table__), {**duplicate, "status": "resolved"})


def test_two_racing_handoffs_with_different_keys_make_one_ticket(store, engine, session_factory):
    # The conversation exists already (an earlier, resolved escalation), so both
    # calls meet at the ticket insert; each is held there until the other arrives,
    # so the two inserts really race, each with its own idempotency key.
    earlier, _ = open_for(store, "conv-1:earlier")
    set_status(session_factory, earlier.id, "resolved")
    barrier = threading.Barrier(2, timeout=5)

    @event.listens_for(engine, "before_cursor_execute")
    def hold_at_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO tickets") and not getattr(
            threading.current_thread(), "passed", False
        ):
            threading.current_thread().passed = True  # type: ignore[attr-defined]
            barrier.wait()

    results: list = []

    def escalate(key: str) -> None:
        results.append(open_for(TicketStore(session_factory, retry=NO_WAIT), key))

    threads = [
        threading.Thread(target=escalate, args=(key,)) for key in ("conv-1:turn-4", "conv-1:turn-5")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(results) == 2
    assert results[0][0].id == results[1][0].id
    assert sorted(created for _, created in results) == [False, True]
    assert live_tickets(session_factory) == 1


def test_migration_0007_closes_the_duplicates_an_older_database_holds(database_url):
    # Before 0007 nothing stopped a second live ticket: the upgrade keeps the one an
    # agent holds (else the oldest) and closes the others, with a history row each.
    upgrade(database_url, "0006")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            conversations = [
                connection.execute(
                    insert(Conversation.__table__),
                    {"sender_id": sender, "state": "queued", "created_at": T0, "updated_at": T0},
                ).inserted_primary_key[0]
                for sender in ("queued-twice", "held-and-queued")
            ]

            def ticket(reference: str, conversation_id: int, status: str) -> None:
                connection.execute(
                    insert(Ticket.__table__),
                    {
                        "reference": reference,
                        "conversation_id": conversation_id,
                        "idempotency_key": reference,
                        "status": status,
                        "priority": "P3",
                        "team": "billing",
                        "level": 0,
                        "tier": "agent",
                        "context": {},
                        "language": "en",
                        "first_response_due": T0,
                        "resolution_due": T0,
                        "created_at": T0,
                        "updated_at": T0,
                    },
                )

            ticket("CS-AAAA22", conversations[0], "open")
            ticket("CS-BBBB22", conversations[0], "open")
            ticket("CS-CCCC22", conversations[1], "open")
            ticket("CS-DDDD22", conversations[1], "assigned")
            ticket("CS-EEEE22", conversations[1], "resolved")

        upgrade(database_url)

        session_factory = make_session_factory(engine)
        with session_factory() as session:
            statuses = dict(session.execute(select(Ticket.reference, Ticket.status)).all())
            closed = session.execute(
                select(Ticket.reference, TicketHistory.reason)
                .join(TicketHistory, TicketHistory.ticket_id == Ticket.id)
                .where(TicketHistory.action == "closed")
                .order_by(Ticket.reference)
            ).all()
        assert statuses == {
            "CS-AAAA22": "open",
            "CS-BBBB22": "closed",
            "CS-CCCC22": "closed",
            "CS-DDDD22": "assigned",
            "CS-EEEE22": "resolved",
        }
        assert [(reference, reason.split(":")[0]) for reference, reason in closed] == [
            ("CS-BBBB22", "duplicate of CS-AAAA22"),
            ("CS-CCCC22", "duplicate of CS-DDDD22"),
        ]
        with session_factory() as session:
            resolved_at = session.execute(
                select(Ticket.resolved_at).where(Ticket.reference == "CS-BBBB22")
            ).scalar_one()
        assert resolved_at is not None and resolved_at.tzinfo is not None
        assert resolved_at > T0 - dt.timedelta(days=1)
    finally:
        engine.dispose()
