"""The router: who is offered which queued conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections import Counter

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import make_url

from bot.db import make_engine, make_session_factory
from bot.desk.routing import Router
from bot.store.models import Ticket, TicketHistory
from tests.desk.conftest import T0, add_agent, add_ticket

OFFER = dt.timedelta(seconds=30)


@pytest.fixture
def router(session_factory) -> Router:
    return Router(session_factory, offer_seconds=30)


def offered(offers) -> dict:
    return {offer.ticket_id: offer.agent_id for offer in offers}


def ticket(session_factory, ticket_id: int) -> Ticket:
    with session_factory() as session:
        return session.get(Ticket, ticket_id)


def offer_rows(session_factory, ticket_id: int | None = None) -> list:
    statement = (
        select(TicketHistory).where(TicketHistory.action == "offered").order_by(TicketHistory.id)
    )
    if ticket_id is not None:
        statement = statement.where(TicketHistory.ticket_id == ticket_id)
    with session_factory() as session:
        return session.execute(statement).scalars().all()


def test_a_queued_ticket_is_offered_to_an_online_agent_of_its_team(
    router, directory, session_factory
):
    sam = add_agent(directory, "Sam", teams=["billing"])
    add_agent(directory, "Tech", teams=["technical"])
    ticket_id = add_ticket(session_factory, team="billing")

    (offer,) = router.offer_waiting(T0)

    assert (offer.ticket_id, offer.agent_id, offer.expires_at) == (ticket_id, sam.id, T0 + OFFER)
    assert offer.reference.startswith("CS-T")
    assert offer.conversation_id.startswith("conv-")
    stored = ticket(session_factory, ticket_id)
    assert (stored.offered_agent_id, stored.offer_expires_at, stored.status) == (
        sam.id,
        T0 + OFFER,
        "open",
    )
    (row,) = offer_rows(session_factory, ticket_id)
    assert (row.actor, row.to_value, row.from_value, row.at) == (
        "router",
        f"agent:{sam.id}",
        None,
        T0,
    )


def test_a_live_offer_is_not_made_again(router, directory, session_factory):
    add_agent(directory, "Sam")
    add_agent(directory, "Lee")
    add_ticket(session_factory)

    assert len(router.offer_waiting(T0)) == 1
    assert router.offer_waiting(T0 + OFFER - dt.timedelta(seconds=1)) == []
    assert len(offer_rows(session_factory)) == 1


def test_the_most_urgent_ticket_is_offered_first_however_young(router, directory, session_factory):
    sam = add_agent(directory, "Sam", capacity=1)
    add_ticket(session_factory, priority="P3", created_at=T0 - dt.timedelta(hours=2))
    p1 = add_ticket(session_factory, priority="P1", created_at=T0)
    add_ticket(session_factory, priority="P2", created_at=T0 - dt.timedelta(hours=3))

    assert offered(router.offer_waiting(T0)) == {p1: sam.id}


def test_the_order_among_many_follows_priority_deadline_and_age(router, directory, session_factory):
    add_agent(directory, "Sam", capacity=10)
    due = T0 + dt.timedelta(minutes=15)
    ids = {
        "P4": add_ticket(session_factory, priority="P4", created_at=T0 - dt.timedelta(hours=9)),
        "P2 young": add_ticket(
            session_factory, priority="P2", created_at=T0, first_response_due=due
        ),
        "P2 old": add_ticket(
            session_factory,
            priority="P2",
            created_at=T0 - dt.timedelta(hours=1),
            first_response_due=due,
        ),
        "P2 urgent": add_ticket(
            session_factory,
            priority="P2",
            created_at=T0,
            first_response_due=T0 + dt.timedelta(minutes=1),
        ),
        "P1": add_ticket(session_factory, priority="P1", created_at=T0),
    }
    names = {ticket_id: name for name, ticket_id in ids.items()}

    offers = router.offer_waiting(T0)

    assert [names[offer.ticket_id] for offer in offers] == [
        "P1",
        "P2 urgent",
        "P2 old",
        "P2 young",
        "P4",
    ]


def test_the_least_loaded_agent_gets_the_offer(router, directory, session_factory):
    busy = add_agent(directory, "Busy")
    idle = add_agent(directory, "Idle")
    add_ticket(session_factory, status="assigned", state="with_agent", assigned_agent_id=busy.id)
    ticket_id = add_ticket(session_factory)

    assert offered(router.offer_waiting(T0)) == {ticket_id: idle.id}
    assert router.active_chats(busy.id) == 1
    assert router.active_chats(idle.id) == 0


def test_offers_spread_over_agents_and_stop_at_capacity(router, directory, session_factory):
    sam = add_agent(directory, "Sam", capacity=2)
    lee = add_agent(directory, "Lee", capacity=1)
    tickets = [
        add_ticket(session_factory, created_at=T0 + dt.timedelta(seconds=n)) for n in range(5)
    ]

    offers = router.offer_waiting(T0)

    assert [offer.ticket_id for offer in offers] == tickets[:3]
    assert Counter(offer.agent_id for offer in offers) == {sam.id: 2, lee.id: 1}
    assert [offer.agent_id for offer in offers] == [sam.id, lee.id, sam.id]
    assert ticket(session_factory, tickets[3]).offered_agent_id is None


def test_active_chats_and_live_offers_both_count_against_capacity(
    router, directory, session_factory
):
    sam = add_agent(directory, "Sam", capacity=2)
    add_ticket(session_factory, status="assigned", state="with_agent", assigned_agent_id=sam.id)
    first = add_ticket(session_factory)
    add_ticket(session_factory)

    assert offered(router.offer_waiting(T0)) == {first: sam.id}
    assert router.offer_waiting(T0 + dt.timedelta(seconds=1)) == []


@pytest.mark.parametrize("status", ["away", "offline"])
def test_agents_who_are_not_online_are_not_offered_anything(
    router, directory, session_factory, status
):
    add_agent(directory, "Sam", status=status)
    add_agent(directory, "Zero", capacity=0)
    ticket_id = add_ticket(session_factory)

    assert router.offer_waiting(T0) == []
    assert ticket(session_factory, ticket_id).offered_agent_id is None
    assert offer_rows(session_factory) == []


def test_nobody_in_the_team_means_no_offer(router, directory, session_factory):
    add_agent(directory, "Tech", teams=["technical"])
    ticket_id = add_ticket(session_factory, team="billing")

    assert router.offer_waiting(T0) == []
    assert ticket(session_factory, ticket_id).offered_agent_id is None


@pytest.mark.parametrize(
    "state, status",
    [("bot", "open"), ("with_agent", "open"), ("queued", "resolved"), ("queued", "closed")],
)
def test_only_open_tickets_of_queued_conversations_are_offered(
    router, directory, session_factory, state, status
):
    add_agent(directory, "Sam")
    add_ticket(session_factory, state=state, status=status)

    assert router.offer_waiting(T0) == []


def test_an_agent_who_speaks_the_language_is_preferred(router, directory, session_factory):
    english = add_agent(directory, "English", languages=["en"])
    welsh = add_agent(directory, "Welsh", languages=["en", "cy"])
    add_ticket(session_factory, status="assigned", state="with_agent", assigned_agent_id=welsh.id)
    welsh_ticket = add_ticket(session_factory, language="cy")
    english_ticket = add_ticket(session_factory, language="en")

    # Welsh is busier, but the only one who speaks Welsh; English takes the other.
    assert offered(router.offer_waiting(T0)) == {welsh_ticket: welsh.id, english_ticket: english.id}


def test_without_a_speaker_the_ticket_still_goes_to_someone(router, directory, session_factory):
    english = add_agent(directory, "English", languages=["en"])
    french_ticket = add_ticket(session_factory, language="fr")

    assert offered(router.offer_waiting(T0)) == {french_ticket: english.id}
    assert "nobody free speaks fr" in offer_rows(session_factory)[0].reason


def test_equal_load_goes_to_who_least_recently_got_a_conversation(
    router, directory, session_factory
):
    first = add_agent(directory, "First")
    second = add_agent(directory, "Second")
    one = add_ticket(session_factory)
    assert offered(router.offer_waiting(T0)) == {one: first.id}  # ties by id
    with session_factory.begin() as session:  # `one` resolved: both are free again
        session.execute(update(Ticket).where(Ticket.id == one).values(status="resolved"))

    two = add_ticket(session_factory)
    assert offered(router.offer_waiting(T0 + dt.timedelta(minutes=1))) == {two: second.id}


def test_an_assignment_counts_as_being_given_a_conversation(router, directory, session_factory):
    first = add_agent(directory, "First")
    second = add_agent(directory, "Second")
    with session_factory.begin() as session:
        # The desk's accept writes this row (service.py): First just took a chat, now done.
        session.add(
            TicketHistory(
                ticket_id=add_ticket(session_factory, status="resolved"),
                at=T0,
                actor=f"agent:{first.id}",
                action="assigned",
                to_value=f"agent:{first.id}",
            )
        )
    ticket_id = add_ticket(session_factory)

    assert offered(router.offer_waiting(T0 + dt.timedelta(minutes=1))) == {ticket_id: second.id}


def test_an_expired_offer_goes_to_another_agent(router, directory, session_factory):
    idle = add_agent(directory, "Idle")
    busier = add_agent(directory, "Busier")
    add_ticket(session_factory, status="assigned", state="with_agent", assigned_agent_id=busier.id)
    ticket_id = add_ticket(session_factory)
    assert offered(router.offer_waiting(T0)) == {ticket_id: idle.id}

    # Idle ignored it: Idle is still the least loaded, but the offer moves on.
    later = T0 + OFFER
    assert offered(router.offer_waiting(later)) == {ticket_id: busier.id}
    assert ticket(session_factory, ticket_id).offer_expires_at == later + OFFER
    rows = offer_rows(session_factory, ticket_id)
    assert [(row.from_value, row.to_value) for row in rows] == [
        (None, f"agent:{idle.id}"),
        (f"agent:{idle.id}", f"agent:{busier.id}"),
    ]


def test_an_expired_offer_is_made_again_when_nobody_else_can_take_it(
    router, directory, session_factory
):
    sam = add_agent(directory, "Sam")
    ticket_id = add_ticket(session_factory)
    router.offer_waiting(T0)

    assert offered(router.offer_waiting(T0 + OFFER)) == {ticket_id: sam.id}


def test_an_expired_offer_no_longer_counts_against_capacity(router, directory, session_factory):
    sam = add_agent(directory, "Sam", capacity=1)
    first = add_ticket(session_factory, priority="P1")
    second = add_ticket(session_factory, priority="P2")
    assert offered(router.offer_waiting(T0)) == {first: sam.id}

    # The P1 offer expired: Sam is free, and the P1 ticket is still first in line.
    assert offered(router.offer_waiting(T0 + OFFER)) == {first: sam.id}
    assert ticket(session_factory, second).offered_agent_id is None


def test_clear_offer_withdraws_it(router, directory, session_factory):
    sam = add_agent(directory, "Sam", capacity=1)
    first = add_ticket(session_factory, priority="P1")
    second = add_ticket(session_factory, priority="P2")
    router.offer_waiting(T0)

    router.clear_offer(first)
    with session_factory.begin() as session:  # as if the conversation left the queue
        session.execute(update(Ticket).where(Ticket.id == first).values(status="closed"))

    assert ticket(session_factory, first).offered_agent_id is None
    assert offered(router.offer_waiting(T0 + dt.timedelta(seconds=1))) == {second: sam.id}


def test_active_chats_by_agent_counts_assigned_tickets(router, directory, session_factory):
    sam = add_agent(directory, "Sam")
    lee = add_agent(directory, "Lee")
    for _ in range(2):
        add_ticket(session_factory, status="assigned", state="with_agent", assigned_agent_id=sam.id)
    add_ticket(session_factory, status="resolved", state="resolved", assigned_agent_id=lee.id)

    assert router.active_chats_by_agent() == {sam.id: 2}
    assert router.active_chats_by_agent([lee.id]) == {}


# --- two replicas on PostgreSQL -------------------------------------------------------


# Row locks between replicas are a PostgreSQL matter (SQLite has one writer): these
# tests run on PostgreSQL only, selected by parameter rather than skipped on SQLite.
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def postgres_only(migrated_url):
    return migrated_url


@pytest.fixture
def impatient_router(postgres_only):
    """A router whose connection gives up on a row lock after 5 s: waiting is the bug, not a
    hang."""
    url = make_url(postgres_only)
    options = f"{url.query.get('options', '')} -clock_timeout=5s".strip()
    engine = make_engine(
        url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    )
    yield Router(make_session_factory(engine))
    engine.dispose()


@pytest.mark.postgres
@ON_POSTGRESQL
def test_a_ticket_another_router_holds_is_skipped(
    impatient_router, directory, session_factory, engine
):
    router = impatient_router
    sam = add_agent(directory, "Sam")
    held = add_ticket(session_factory, priority="P1")
    free = add_ticket(session_factory, priority="P2")
    with engine.connect() as other:
        other.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": held})

        # Returns at once (no wait on the lock) with only the free ticket.
        assert offered(router.offer_waiting(T0)) == {free: sam.id}
        other.rollback()

    assert offered(router.offer_waiting(T0 + dt.timedelta(seconds=1))) == {held: sam.id}


@pytest.mark.postgres
@ON_POSTGRESQL
def test_an_agent_another_router_holds_is_skipped(
    impatient_router, directory, session_factory, engine
):
    router = impatient_router
    sam = add_agent(directory, "Sam")
    lee = add_agent(directory, "Lee")
    ticket_id = add_ticket(session_factory)
    with engine.connect() as other:
        other.execute(
            text("SELECT id FROM agents WHERE id = :id FOR NO KEY UPDATE"), {"id": sam.id}
        )

        assert offered(router.offer_waiting(T0)) == {ticket_id: lee.id}
        other.rollback()


@pytest.mark.postgres
@ON_POSTGRESQL
def test_routers_racing_on_postgresql_never_offer_a_ticket_twice(
    postgres_only, directory, session_factory
):
    agents = [add_agent(directory, f"Agent{n}", capacity=3) for n in range(4)]
    for n in range(30):
        add_ticket(session_factory, created_at=T0 + dt.timedelta(seconds=n))
    replicas = 4
    engines = [make_engine(postgres_only) for _ in range(replicas)]
    # Small batches: each replica can lock tickets the others did not, so only the
    # agent locks stand between them and giving one agent too many.
    routers = [Router(make_session_factory(engine), batch_size=5) for engine in engines]
    start = threading.Barrier(replicas)
    results: list = [None] * replicas

    def route(index: int) -> None:
        start.wait()
        try:
            results[index] = routers[index].offer_waiting(T0)
        except BaseException as error:  # reported below, not lost in the thread
            results[index] = error

    threads = [threading.Thread(target=route, args=(index,)) for index in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()

    assert not [result for result in results if isinstance(result, BaseException)]
    offers = [offer for result in results for offer in result]
    assert offers
    assert len(offers) == len({offer.ticket_id for offer in offers})
    assert Counter(offer.agent_id for offer in offers) <= Counter({agent.id: 3 for agent in agents})

    # Later passes fill what the race left: 4 agents x 3 offers, each ticket once.
    follow_up = Router(session_factory, batch_size=5)
    for _ in range(10):
        if not follow_up.offer_waiting(T0):
            break
    with session_factory() as session:
        per_ticket = Counter(
            session.execute(
                select(TicketHistory.ticket_id).where(TicketHistory.action == "offered")
            ).scalars()
        )
        live = Counter(
            session.execute(
                select(Ticket.offered_agent_id).where(Ticket.offered_agent_id.is_not(None))
            ).scalars()
        )
    assert set(per_ticket.values()) == {1}
    assert live == Counter({agent.id: 3 for agent in agents})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_pass_holds_the_write_lock_before_it_reads(
    migrated_url, router, directory, session_factory, engine
):
    add_agent(directory, "Sam")
    add_ticket(session_factory)
    path = make_url(migrated_url).database
    writers_refused = []

    def another_writer_tries(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not writers_refused:
            other = sqlite3.connect(path, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                writers_refused.append(False)
                other.rollback()
            except sqlite3.OperationalError:
                writers_refused.append(True)
            finally:
                other.close()

    event.listen(engine, "before_cursor_execute", another_writer_tries)
    try:
        assert len(router.offer_waiting(T0)) == 1
    finally:
        event.remove(engine, "before_cursor_execute", another_writer_tries)

    assert writers_refused == [True]
