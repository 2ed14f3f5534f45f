"""The ticket store: one ticket per escalation, owned lookups, an ordered audit trail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading

import pytest
from sqlalchemy import event, func, select, update

from bot.store import CustomerInfo, TicketStore
from bot.store.models import Conversation, CsatAnswer, Customer, Ticket, TicketHistory
from bot.store.tickets import REFERENCE_ALPHABET, normalize_reference
from tests.store.conftest import NO_WAIT, T0, decision, transcript

ALICE = CustomerInfo(
    external_id="C-1001", name="Alice Example", email="alice@example.com", tier="business"
)


def open_one(store: TicketStore, key: str = "conv-1:turn-1", sender: str = "conv-1", **overrides):
    arguments = dict(
        idempotency_key=key,
        conversation_sender_id=sender,
        channel="webchat",
        customer=ALICE,
        decision=decision(),
        context={"transcript": transcript(4), "details": {"case_category": "billing"}},
        category="billing",
        now=T0,
    )
    arguments.update(overrides)
    return store.open_ticket(**arguments)


def count(session_factory, model) -> int:
    with session_factory() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_ticket_is_opened_with_its_customer_conversation_and_history(store, session_factory):
    ticket, created = open_one(store)

    assert created is True
    assert re.fullmatch(f"CS-[{REFERENCE_ALPHABET}]{{6}}", ticket.reference)
    assert (ticket.status, ticket.priority, ticket.team, ticket.level, ticket.tier) == (
        "open",
        "P3",
        "billing",
        0,
        "agent",
    )
    assert ticket.conversation_sender_id == "conv-1"
    assert ticket.customer_external_id == "C-1001"
    assert ticket.context["version"] == 1
    assert len(ticket.context["transcript"]) == 4
    assert ticket.first_response_due == T0 + dt.timedelta(minutes=15)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ticket.status = "closed"  # type: ignore[misc]

    with session_factory() as session:
        conversation = session.execute(select(Conversation)).scalar_one()
        assert (conversation.state, conversation.channel) == ("queued", "webchat")
        assert conversation.customer.email == "alice@example.com"

    history = store.history(ticket.id)
    assert [(entry.action, entry.actor, entry.escalation_type) for entry in history] == [
        ("created", "bot", "customer_initiated"),
        ("created", "bot", "functional"),
    ]
    assert history[0].reason == "asked_for_human: asked for a person"
    assert history[0].to_value == "billing:L0:P3"
    assert [entry.id for entry in history] == sorted(entry.id for entry in history)


def test_the_same_idempotency_key_returns_the_first_ticket(store, session_factory):
    first, created_first = open_one(store)
    again, created_again = open_one(store, context={"transcript": []})

    assert (created_first, created_again) == (True, False)
    assert again == first
    assert count(session_factory, Ticket) == 1
    assert count(session_factory, TicketHistory) == 2


def resolve(session_factory, ticket_id: int) -> None:
    """As the desk does when an agent resolves it: the conversation has no live ticket left."""
    with session_factory.begin() as session:
        session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(status="resolved", resolved_at=T0)
        )


def test_a_new_escalation_after_the_last_was_resolved_is_a_new_ticket(store, session_factory):
    first, _ = open_one(store, key="conv-1:turn-1")
    resolve(session_factory, first.id)
    second, created = open_one(store, key="conv-1:turn-9", customer=None)

    assert created is True
    assert second.reference != first.reference
    # The conversation keeps its verified customer when a later turn does not name one.
    assert second.customer_external_id is None
    assert [ticket.reference for ticket in store.tickets_for_conversation("conv-1")] == [
        first.reference,
        second.reference,
    ]
    assert count(session_factory, Conversation) == 1
    assert count(session_factory, Customer) == 1


def test_the_customer_is_upserted_without_erasing_known_details(store, session_factory):
    open_one(store, key="a", sender="conv-a")
    open_one(
        store,
        key="b",
        sender="conv-b",
        customer=CustomerInfo(external_id="C-1001", name=None, email=None, tier="standard"),
    )
    with session_factory() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert (customer.name, customer.email, customer.tier) == (
        "Alice Example",
        "alice@example.com",
        "standard",
    )


def test_lookups_by_reference_conversation_and_customer(store):
    first, _ = open_one(store, key="a", sender="conv-a")
    later = T0 + dt.timedelta(hours=1)
    second, _ = open_one(store, key="b", sender="conv-b", now=later, decision=decision(later))

    assert store.ticket_by_reference(first.reference) == first
    # As a person types it: lower case, no prefix, stray spaces.
    assert store.ticket_by_reference(f" {first.reference.lower()} ") == first
    assert store.ticket_by_reference(first.reference[3:]) == first
    assert normalize_reference("cs-abc234") == "CS-ABC234"
    assert store.ticket_by_reference("CS-ZZZZZZ") is None
    assert store.latest_ticket_for_customer("C-1001") == second
    assert store.latest_ticket_for_customer("C-9999") is None
    assert store.tickets_for_conversation("nobody") == []


@pytest.mark.parametrize(
    "sender_id, customer_id, visible",
    [
        ("conv-1", None, True),  # the conversation that opened it
        (None, "C-1001", True),  # the verified customer, from another conversation
        ("conv-2", None, False),  # another conversation knowing the reference
        (None, "C-2002", False),  # another customer
        ("conv-2", "C-2002", False),
        (None, None, False),  # nobody in particular
    ],
)
def test_status_is_shown_only_to_the_owner(store, sender_id, customer_id, visible):
    ticket, _ = open_one(store)
    found = store.status_for(ticket.reference, sender_id=sender_id, customer_id=customer_id)
    assert (found == ticket) is visible
    assert store.status_for("CS-ZZZZZZ", sender_id="conv-1") is None


def test_timestamps_read_back_aware_in_utc(store):
    plus_two = dt.timezone(dt.timedelta(hours=2))
    local_now = T0.astimezone(plus_two)
    ticket, _ = open_one(store, now=local_now, decision=decision(local_now))
    stored = store.ticket_by_reference(ticket.reference)
    assert stored.created_at == T0
    assert stored.created_at.tzinfo == dt.timezone.utc
    assert stored.first_response_due.utcoffset() == dt.timedelta(0)


def test_a_naive_timestamp_is_refused(store):
    with pytest.raises(Exception, match="naive datetime"):
        open_one(store, now=T0.replace(tzinfo=None))


def test_csat_rating_is_checked_and_one_per_ticket(store, session_factory):
    ticket, _ = open_one(store)
    with session_factory.begin() as session:
        session.add(CsatAnswer(ticket_id=ticket.id, rating=5, comment="quick", at=T0))
    for rating in (0, 6):
        with pytest.raises(Exception, match="(?i)check|constraint"):
            with session_factory.begin() as session:
                session.add(CsatAnswer(ticket_id=ticket.id + 1000, rating=rating, at=T0))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # two real writers
def test_two_racing_calls_with_one_key_make_one_ticket(store, engine, session_factory):
    # The customer and conversation exist already (an earlier escalation), so the
    # two calls meet at the ticket itself. Both have looked for the key and found
    # nothing; each is held at its INSERT until the other arrives, so both
    # inserts really race on the unique key.
    earlier, _ = open_one(store, key="conv-1:earlier")
    resolve(session_factory, earlier.id)
    barrier = threading.Barrier(2, timeout=5)

    @event.listens_for(engine, "before_cursor_execute")
    def hold_at_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO tickets") and not getattr(
            threading.current_thread(), "passed", False
        ):
            threading.current_thread().passed = True  # type: ignore[attr-defined]
            barrier.wait()

    results = []

    def call() -> None:
        results.append(open_one(TicketStore(session_factory, retry=NO_WAIT)))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(results) == 2
    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    assert count(session_factory, Ticket) == 2  # the earlier one and the raced one
    assert count(session_factory, TicketHistory) == 4


def test_a_ticket_is_filed_under_its_cause_and_trigger_for_the_metrics(store, session_factory):
    store.open_ticket(
        idempotency_key="metrics:1",
        conversation_sender_id="metrics-conversation",
        channel="webchat",
        customer=None,
        # The functional reason comes first in every decision; the cause is the request.
        decision=decision(T0),
        context={
            "transcript": [],
            "trigger": {"intent": "faq/returns", "text": "how do returns work"},
        },
        category="billing",
        now=T0,
    )

    with session_factory() as session:
        row = session.execute(
            select(
                Ticket.escalation_type,
                Ticket.escalation_reason,
                Ticket.trigger_intent,
                Ticket.trigger_text,
            )
        ).one()
    assert tuple(row) == (
        "customer_initiated",
        "asked_for_human",
        "faq/returns",
        "how do returns work",
    )
