"""Satisfaction answers: one per resolved ticket, with its line in the ticket's history."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from bot.store import CustomerInfo, TicketStore
from bot.store.models import CsatAnswer, TicketHistory
from tests.desk_rows import resolve
from tests.store.conftest import NO_WAIT, T0, decision

RESOLVED_AT = T0 + dt.timedelta(hours=1)
ANSWERED_AT = T0 + dt.timedelta(hours=1, minutes=2)


def open_for(store: TicketStore, sender: str = "conv-1", at: dt.datetime = T0):
    ticket, _ = store.open_ticket(
        idempotency_key=f"{sender}:{at.isoformat()}",
        conversation_sender_id=sender,
        channel="webchat",
        customer=CustomerInfo(external_id="C-1001"),
        decision=decision(at),
        context={"transcript": []},
        category="billing",
        now=at,
    )
    return ticket


def answers(session_factory):
    with session_factory() as session:
        rows = session.execute(select(CsatAnswer).order_by(CsatAnswer.id)).scalars()
        return [(row.ticket_id, row.rating, row.comment, row.at) for row in rows]


def csat_rows(session_factory):
    with session_factory() as session:
        return session.execute(
            select(func.count()).select_from(TicketHistory).where(TicketHistory.action == "csat")
        ).scalar_one()


def test_the_answer_is_kept_for_the_resolved_ticket_with_a_history_line(store, session_factory):
    ticket = open_for(store)
    resolve(session_factory, ticket.reference, RESOLVED_AT)

    assert store.record_csat("conv-1", 4, "Quick and friendly", ANSWERED_AT) is True

    assert answers(session_factory) == [(ticket.id, 4, "Quick and friendly", ANSWERED_AT)]
    last = store.history(ticket.id)[-1]
    assert (last.action, last.actor, last.from_value, last.to_value, last.at) == (
        "csat",
        "customer",
        None,
        "4",
        ANSWERED_AT,
    )


def test_no_comment_is_kept_as_none(store, session_factory):
    ticket = open_for(store)
    resolve(session_factory, ticket.reference, RESOLVED_AT)
    assert store.record_csat("conv-1", 2, None, ANSWERED_AT) is True
    assert answers(session_factory) == [(ticket.id, 2, None, ANSWERED_AT)]


def test_a_second_answer_changes_nothing(store, session_factory):
    ticket = open_for(store)
    resolve(session_factory, ticket.reference, RESOLVED_AT)
    assert store.record_csat("conv-1", 5, "Great", ANSWERED_AT) is True

    assert (
        store.record_csat("conv-1", 1, "Changed my mind", ANSWERED_AT + dt.timedelta(minutes=1))
        is False
    )

    assert answers(session_factory) == [(ticket.id, 5, "Great", ANSWERED_AT)]
    assert csat_rows(session_factory) == 1


@pytest.mark.parametrize("state", ["nothing", "open", "other_conversation"])
def test_without_a_resolved_ticket_nothing_is_kept(store, session_factory, state):
    if state == "open":
        open_for(store)
    elif state == "other_conversation":
        other = open_for(store, sender="someone-else")
        resolve(session_factory, other.reference, RESOLVED_AT)
    assert store.record_csat("conv-1", 3, None, ANSWERED_AT) is False
    assert answers(session_factory) == []
    assert csat_rows(session_factory) == 0


def test_the_latest_resolved_ticket_is_rated_and_each_resolution_once(store, session_factory):
    first = open_for(store)
    resolve(session_factory, first.reference, RESOLVED_AT)
    second = open_for(store, at=T0 + dt.timedelta(hours=2))
    resolve(session_factory, second.reference, T0 + dt.timedelta(hours=3))
    # A third escalation, still open, has nothing to rate yet.
    open_for(store, at=T0 + dt.timedelta(hours=4))

    assert store.record_csat("conv-1", 3, None, T0 + dt.timedelta(hours=5)) is True
    assert [row[0] for row in answers(session_factory)] == [second.id]
    assert store.record_csat("conv-1", 3, None, T0 + dt.timedelta(hours=5)) is False


@pytest.mark.parametrize("rating", [0, 6, -1, True, 4.0, "4", None])
def test_a_rating_outside_one_to_five_is_refused(store, session_factory, rating):
    ticket = open_for(store)
    resolve(session_factory, ticket.reference, RESOLVED_AT)
    with pytest.raises(ValueError, match="from 1 to 5"):
        store.record_csat("conv-1", rating, None, ANSWERED_AT)  # type: ignore[arg-type]
    assert answers(session_factory) == []


def test_two_answers_at_once_keep_exactly_one(migrated_url, session_factory):
    store = TicketStore(session_factory, retry=NO_WAIT)
    ticket = open_for(store)
    resolve(session_factory, ticket.reference, RESOLVED_AT)
    barrier = threading.Barrier(2)
    results: list = []

    def answer(rating: int) -> None:
        barrier.wait()
        results.append(store.record_csat("conv-1", rating, None, ANSWERED_AT))

    threads = [threading.Thread(target=answer, args=(rating,)) for rating in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False, True]
    assert len(answers(session_factory)) == 1
    assert csat_rows(session_factory) == 1
