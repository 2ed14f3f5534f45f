"""The call store on SQLite and PostgreSQL: races, sweeps, history rows and durations."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused
from bot.calls.providers import make_provider
from bot.calls.service import CallService
from bot.store.models import Call, TicketHistory
from tests.calls.conftest import CONNECTION_A, T0, add_agent, handed_off

ROUNDS = 40


def history(session_factory, call_id):
    with session_factory() as session:
        return [
            (row.action, row.actor, row.to_value, row.reason)
            for row in session.execute(
                select(TicketHistory)
                .where(TicketHistory.from_value == call_id)
                .order_by(TicketHistory.id)
            ).scalars()
        ]


def live_calls(session_factory, conversation_pk=None):
    with session_factory() as session:
        return session.execute(select(Call).where(Call.state != "ended")).scalars().all()


def test_an_invite_racing_a_request_leaves_exactly_one_live_call(session_factory, directory):
    settings = CallSettings.from_env({})
    service = CallService(session_factory, settings, make_provider(settings))
    agent = add_agent(directory, "Racer")
    for round_number in range(ROUNDS):
        conversation = handed_off(session_factory, agent)
        barrier = threading.Barrier(2)

        def invite(barrier, conversation):
            barrier.wait()
            return service.invite(agent, conversation, "video", CONNECTION_A, T0)

        def request(barrier, conversation, sid):
            barrier.wait()
            return service.customer_signal(
                conversation, sid, {"type": "request", "media": "video"}, T0
            )

        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(invite, barrier, conversation),
                pool.submit(request, barrier, conversation, f"sid-{round_number}"),
            ]
            outcomes = []
            for future in futures:
                try:
                    outcomes.append(future.result())
                except CallRefused as refused:
                    assert refused.code == "busy", refused
                    outcomes.append(refused)
        assert sum(not isinstance(o, CallRefused) for o in outcomes) == 1, outcomes
        live = [call for call in live_calls(session_factory)]
        assert len(live) == 1
        # End it so the agent is free for the next round.
        service.conversation_closed(conversation, "conversation_closed", "desk", T0)
        assert live_calls(session_factory) == []


def test_a_deadline_swept_by_two_replicas_ends_the_call_once(session_factory, directory):
    settings = CallSettings.from_env({})
    replicas = [CallService(session_factory, settings, make_provider(settings)) for _ in range(2)]
    agent = add_agent(directory, "Sweeper")
    for _ in range(10):
        conversation = handed_off(session_factory, agent)
        call, _ = replicas[0].invite(agent, conversation, "screen", CONNECTION_A, T0)
        later = T0 + dt.timedelta(seconds=31)
        barrier = threading.Barrier(2)

        def sweep(replica, barrier, later):
            barrier.wait()
            return replica.expire(later)

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(sweep, replicas, [barrier] * 2, [later] * 2))
        assert sorted(len(outcome) for outcome in outcomes) == [0, 4]
        assert history(session_factory, call.id) == [
            ("call_offered", f"agent:{agent.id}", "screen", "webrtc"),
            ("call_ended", "desk", None, "unanswered"),
        ]


def test_history_rows_and_duration(session_factory, directory, service):
    agent = add_agent(directory, "Timer")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, T0)
    service.customer_signal(
        conversation, "sid-1", {"type": "accept", "call_id": call.id}, T0 + dt.timedelta(seconds=2)
    )
    service.customer_signal(
        conversation,
        "sid-1",
        {"type": "connected", "call_id": call.id},
        T0 + dt.timedelta(seconds=4),
    )
    # The other side's `connected` changes nothing.
    service.agent_signal(
        agent,
        conversation,
        call.id,
        {"type": "connected", "connection_id": CONNECTION_A},
        T0 + dt.timedelta(seconds=5),
    )
    ended, _ = service.agent_hangup(
        agent, conversation, call.id, "hung_up", T0 + dt.timedelta(seconds=256, milliseconds=700)
    )
    assert ended.duration_seconds == 252
    assert history(session_factory, call.id) == [
        ("call_offered", f"agent:{agent.id}", "video", "webrtc"),
        ("call_started", f"agent:{agent.id}", "video", "webrtc"),
        ("call_ended", f"agent:{agent.id}", "252", "hung_up"),
    ]
    # Hanging up again answers with the call as it is, and writes nothing.
    again, outcome = service.agent_hangup(
        agent, conversation, call.id, "hung_up", T0 + dt.timedelta(seconds=300)
    )
    assert again.state == "ended" and len(history(session_factory, call.id)) == 3
    assert [d.signal["type"] for d in outcome] == ["ended"]


def test_a_customer_request_history_names_the_customer(session_factory, directory, service):
    agent = add_agent(directory, "Asked")
    conversation = handed_off(session_factory, agent)
    service.customer_signal(conversation, "sid-1", {"type": "request", "media": "video"}, T0)
    call = service.live_call(conversation)
    service.agent_decline(agent, conversation, call.id, "declined", T0 + dt.timedelta(seconds=3))
    assert history(session_factory, call.id) == [
        ("call_offered", "customer", "video", "webrtc"),
        ("call_ended", f"agent:{agent.id}", None, "declined"),
    ]


def test_pruning_deletes_only_calls_that_ended_more_than_a_day_ago(session_factory, directory):
    settings = CallSettings.from_env({})
    service = CallService(session_factory, settings, make_provider(settings))
    agent = add_agent(directory, "Pruner")
    now = T0 + dt.timedelta(days=2)
    long_ended, recently_ended, live = (handed_off(session_factory, agent) for _ in range(3))
    old_call, _ = service.invite(agent, long_ended, "video", CONNECTION_A, T0)
    service.conversation_closed(long_ended, "conversation_closed", "desk", T0)
    recent_call, _ = service.invite(
        agent, recently_ended, "video", CONNECTION_A, now - dt.timedelta(hours=23)
    )
    service.conversation_closed(
        recently_ended, "conversation_closed", "desk", now - dt.timedelta(hours=23)
    )
    # Live, its deadline long past: ending it (and writing call_ended) is the sweep's job.
    live_call, _ = service.invite(agent, live, "video", CONNECTION_A, T0)

    assert service.store.prune_ended(now) == 1
    assert service.store.get(old_call.id) is None
    assert service.store.get(recent_call.id) is not None
    assert service.store.get(live_call.id).state == "inviting"
    # The ticket history keeps the pruned call's facts.
    assert [action for action, *_ in history(session_factory, old_call.id)] == [
        "call_offered",
        "call_ended",
    ]
    assert service.store.prune_ended(now) == 0
