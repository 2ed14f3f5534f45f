"""The desk's state changes on SQLite and PostgreSQL: who may do what, and races with one winner."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from bot.desk.service import (
    Conflict,
    DeskService,
    Forbidden,
    InvalidRequest,
    NoHandoff,
    NotFound,
    OtherTeam,
    TextRefused,
    TicketNotLive,
    UnknownTeam,
)
from bot.escalation.engine import load_default_policy
from bot.store.models import Conversation, Ticket, TicketHistory
from tests.desk.conftest import T0, add_agent, add_ticket

LATER = T0 + dt.timedelta(minutes=5)


@pytest.fixture
def service(session_factory):
    return DeskService(session_factory, load_default_policy())


def sender_of(session_factory, ticket_id: int) -> str:
    with session_factory() as session:
        return session.execute(
            select(Conversation.sender_id)
            .join(Ticket, Ticket.conversation_id == Conversation.id)
            .where(Ticket.id == ticket_id)
        ).scalar_one()


def history_actions(session_factory, ticket_id: int) -> list:
    with session_factory() as session:
        return [
            (row.actor, row.action, row.escalation_type)
            for row in session.execute(
                select(TicketHistory)
                .where(TicketHistory.ticket_id == ticket_id)
                .order_by(TicketHistory.id)
            ).scalars()
        ]


def test_the_queue_is_ordered_by_priority_deadline_and_age_and_filtered_by_team(
    service, directory, session_factory
):
    late_p3 = add_ticket(session_factory, priority="P3", created_at=T0)
    p1 = add_ticket(session_factory, priority="P1", created_at=T0 + dt.timedelta(minutes=2))
    early_p3 = add_ticket(
        session_factory,
        priority="P3",
        created_at=T0,
        first_response_due=T0 + dt.timedelta(minutes=5),
    )
    technical = add_ticket(session_factory, team="technical")
    add_ticket(session_factory, state="bot", status="closed")

    billing_agent = add_agent(directory, "Bill", teams=("billing",))
    supervisor = add_agent(directory, "Sue", teams=(), role="supervisor")

    seen = [handoff.ticket_id for handoff in service.queue(billing_agent)]
    assert seen == [p1, early_p3, late_p3]
    assert technical in [handoff.ticket_id for handoff in service.queue(supervisor)]


def test_accept_takes_the_conversation_once(service, directory, session_factory):
    ticket = add_ticket(session_factory)
    conversation = sender_of(session_factory, ticket)
    first = add_agent(directory, "First")
    second = add_agent(directory, "Second")

    taken = service.accept(first, conversation, LATER)
    assert (taken.state, taken.status, taken.assigned_agent_id) == (
        "with_agent",
        "assigned",
        first.id,
    )
    assert taken.first_response_at == LATER

    with pytest.raises(Conflict, match="First already took"):
        service.accept(second, conversation, LATER)
    # Accepting again is harmless for the one who has it.
    assert service.accept(first, conversation, LATER).assigned_agent_id == first.id
    assert history_actions(session_factory, ticket) == [(f"agent:{first.id}", "assigned", None)]


def test_visibility_and_missing_conversations(service, directory, session_factory):
    ticket = add_ticket(session_factory, team="technical")
    conversation = sender_of(session_factory, ticket)
    billing_agent = add_agent(directory, "Outsider", teams=("billing",))
    with pytest.raises(Forbidden, match="technical"):
        service.handoff(billing_agent, conversation)
    with pytest.raises(Forbidden):
        service.accept(billing_agent, conversation, LATER)
    with pytest.raises(NotFound):
        service.handoff(billing_agent, "nobody")


def test_capacity_is_respected(service, directory, session_factory):
    agent = add_agent(directory, "Busy", capacity=1)
    first = sender_of(session_factory, add_ticket(session_factory))
    second = sender_of(session_factory, add_ticket(session_factory))
    service.accept(agent, first, LATER)
    with pytest.raises(Conflict, match="capacity"):
        service.accept(agent, second, LATER)


def test_transfer_and_escalate_requeue_with_history(service, directory, session_factory):
    ticket = add_ticket(session_factory)
    conversation = sender_of(session_factory, ticket)
    agent = add_agent(directory, "Mover", teams=("billing", "technical"))
    service.accept(agent, conversation, LATER)

    with pytest.raises(InvalidRequest, match="Unknown team"):
        service.transfer(agent, conversation, "nowhere", None, LATER)
    with pytest.raises(InvalidRequest, match="already with billing"):
        service.transfer(agent, conversation, "billing", None, LATER)

    moved = service.transfer(agent, conversation, "technical", "router fault", LATER)
    assert (moved.state, moved.status, moved.team, moved.level, moved.assigned_agent_id) == (
        "queued",
        "open",
        "technical",
        0,
        None,
    )
    assert moved.first_response_due > LATER

    up = service.escalate(agent, conversation, None, LATER)
    assert (up.team, up.level, up.tier) == ("technical", 1, "specialist")
    service.escalate(agent, conversation, None, LATER)
    top = service.handoff(agent, conversation)
    assert top.tier == "supervisor"

    actions = history_actions(session_factory, ticket)
    assert (f"agent:{agent.id}", "transferred", "functional") in actions
    assert actions.count((f"agent:{agent.id}", "escalated", "hierarchical")) == 2


def test_an_agent_cannot_act_on_a_colleagues_conversation_but_a_supervisor_can(
    service, directory, session_factory
):
    conversation = sender_of(session_factory, add_ticket(session_factory))
    owner = add_agent(directory, "Owner")
    colleague = add_agent(directory, "Colleague")
    supervisor = add_agent(directory, "Boss", teams=(), role="supervisor")
    service.accept(owner, conversation, LATER)

    for act in (
        lambda: service.resolve(colleague, conversation, None, LATER),
        lambda: service.transfer(colleague, conversation, "technical", None, LATER),
        lambda: service.check_can_write(colleague, conversation),
    ):
        with pytest.raises(Conflict):
            act()
    assert service.check_can_write(owner, conversation) == "billing"

    resolved = service.resolve(supervisor, conversation, "done", LATER)
    assert (resolved.state, resolved.status, resolved.resolved_at) == (
        "resolved",
        "resolved",
        LATER,
    )
    with pytest.raises(Conflict, match="already resolved"):
        service.return_to_bot(owner, conversation, None, LATER)


def test_return_to_bot_closes_the_ticket(service, directory, session_factory):
    ticket = add_ticket(session_factory)
    conversation = sender_of(session_factory, ticket)
    agent = add_agent(directory, "Returner")
    back = service.return_to_bot(agent, conversation, "answered by the FAQ", LATER)
    assert (back.state, back.status) == ("bot", "closed")
    assert service.live_team(conversation) is None


def test_notes_are_kept_and_checked(service, directory, session_factory):
    ticket = add_ticket(session_factory)
    conversation = sender_of(session_factory, ticket)
    agent = add_agent(directory, "Noter")
    service.add_note(agent, conversation, "  called them back  ", LATER)
    with pytest.raises(InvalidRequest):
        service.add_note(agent, conversation, "   ", LATER)
    with pytest.raises(InvalidRequest, match="at most"):
        service.add_note(agent, conversation, "x" * 5000, LATER)
    notes = [item for item in service.history(agent, conversation) if item.action == "note"]
    assert [(note.reason, note.actor_name) for note in notes] == [("called them back", "Noter")]


def test_an_agents_conversations_go_back_to_the_queue(service, directory, session_factory):
    agent = add_agent(directory, "Leaver", capacity=5)
    conversations = [sender_of(session_factory, add_ticket(session_factory)) for _ in range(2)]
    for conversation in conversations:
        service.accept(agent, conversation, LATER)
    assert sorted(service.requeue_agent(agent.id, "agent disconnected", LATER)) == sorted(
        conversations
    )
    for conversation in conversations:
        handoff = service.handoff(agent, conversation)
        assert (handoff.state, handoff.status, handoff.assigned_agent_id) == (
            "queued",
            "open",
            None,
        )
    assert service.requeue_agent(agent.id, "again", LATER) == []


def test_live_team_is_only_for_handed_off_conversations(service, directory, session_factory):
    conversation = sender_of(session_factory, add_ticket(session_factory, team="technical"))
    assert service.live_team(conversation) == ("queued", "technical")
    assert service.live_team("never-handed-off") is None


# Two real connections writing at once: PostgreSQL (SQLite has a single writer).
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_agents_racing_for_one_conversation_one_wins(directory, session_factory):
    service = DeskService(session_factory, load_default_policy())
    agents = [add_agent(directory, f"Racer{index}", capacity=50) for index in range(2)]
    conversations = [sender_of(session_factory, add_ticket(session_factory)) for _ in range(40)]
    barrier = threading.Barrier(2)
    wins = {agent.id: 0 for agent in agents}
    conflicts = {agent.id: 0 for agent in agents}

    def race(agent):
        barrier.wait()
        for conversation in conversations:
            try:
                service.accept(agent, conversation, LATER)
                wins[agent.id] += 1
            except Conflict:
                conflicts[agent.id] += 1

    threads = [threading.Thread(target=race, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(wins.values()) == len(conversations)
    with session_factory() as session:
        assigned = (
            session.execute(
                select(TicketHistory.ticket_id).where(TicketHistory.action == "assigned")
            )
            .scalars()
            .all()
        )
    assert len(assigned) == len(set(assigned)) == len(conversations)


def test_a_refusal_carries_its_facts_and_no_http_status(service, directory, session_factory):
    ticket = add_ticket(session_factory, team="technical")
    conversation = sender_of(session_factory, ticket)
    reference = service.handoff(add_agent(directory, "Tech", teams=("technical",)), conversation)
    outsider = add_agent(directory, "Outsider", teams=("billing",))
    supervisor = add_agent(directory, "Sue", teams=(), role="supervisor")

    with pytest.raises(OtherTeam) as other_team:
        service.handoff(outsider, conversation)
    assert (other_team.value.reference, other_team.value.team) == (
        reference.reference,
        "technical",
    )
    with pytest.raises(NoHandoff) as missing:
        service.handoff(outsider, "nobody")
    assert missing.value.conversation_id == "nobody"
    with pytest.raises(UnknownTeam) as unknown:
        service.transfer(supervisor, conversation, "nowhere", None, LATER)
    assert unknown.value.team == "nowhere" and "billing" in unknown.value.teams
    with pytest.raises(TextRefused) as long_note:
        service.add_note(supervisor, conversation, "x" * 5000, LATER)
    assert (long_note.value.what, long_note.value.length, long_note.value.limit) == (
        "note",
        5000,
        4000,
    )

    service.resolve(supervisor, conversation, None, LATER)
    with pytest.raises(TicketNotLive) as closed:
        service.accept(supervisor, conversation, LATER)
    assert (closed.value.reference, closed.value.ticket_status, closed.value.action) == (
        reference.reference,
        "resolved",
        "accepted",
    )
    assert str(closed.value) == f"Ticket {reference.reference} is resolved; it cannot be accepted."
    # The kind of refusal is the class; its HTTP status is the connector's business.
    assert not hasattr(closed.value, "status")
