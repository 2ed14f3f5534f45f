"""The clock with the real policy of escalation.yml (the other half of issue 3), when present."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.escalation.clock import EscalationClock
from bot.escalation.types import CaseSignals
from tests.store.conftest import T0
from tests.store.fakes import CollectingNotifier
from tests.store.test_tickets import open_one

engine_module = pytest.importorskip("bot.escalation.engine")


def test_the_yaml_policy_drives_breaches_once_each_up_a_consistent_ladder(store, session_factory):
    policy = engine_module.load_default_policy({})
    signals = CaseSignals(
        texts=("I was charged twice", "I want a person"),
        intents=("billing_question", "request_human"),
        category="billing",
        urgency="high",
        customer_requested=True,
    )
    routed = policy.route(signals, T0)
    ticket, _ = open_one(store, decision=routed)
    notifier = CollectingNotifier()
    moment = [T0]
    clock = EscalationClock(session_factory, policy, notifier, lambda: moment[0])

    breaches = 0
    for _ in range(8):
        moment[0] += dt.timedelta(days=3)  # past any deadline, business hours or not
        breaches += clock.sweep()["breaches"]
        assert clock.sweep()["breaches"] == 0  # the same moment again: nothing new

    assert breaches >= 1
    history = store.history(ticket.id)
    keys = [entry.breach_key for entry in history if entry.breach_key]
    assert len(keys) == len(set(keys))
    steps = [(entry.from_value, entry.to_value) for entry in history if entry.action == "escalated"]
    # Each escalation starts where the previous one ended.
    for (_, reached), (started, _) in zip(steps, steps[1:], strict=False):
        assert started == reached
