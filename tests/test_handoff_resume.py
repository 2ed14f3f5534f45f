"""The trained model and Rasa's processor around a handoff: silent while paused, back on resume.

The handoff action's real events go into a real tracker; Rasa's own processor
then handles a customer message while paused (logged, nothing said) and the
intents the desk triggers when it resumes the conversation. Needs the trained
model (`make train`); skipped without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationResumed,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff
from bot.network_loading import build_networks_eagerly
from bot.settings import PROJECT_ROOT
from tests.services import build_services
from tests.trackers import tracker as sdk_tracker
from tests.trackers import user_event

MODEL = PROJECT_ROOT / "models" / "baton.tar.gz"
MONDAY_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
SENDER = "paused-customer"

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run `make train`")


@pytest.fixture(scope="module")
def agent() -> Agent:
    # Loaded once for the module (it takes seconds); each test uses its own sender's tracker.
    build_networks_eagerly()
    return asyncio.run(load_agent(str(MODEL)))


async def handoff_events(tmp_path: Path) -> List[Dict[str, Any]]:
    """What action_request_handoff really returns for a customer asking for a person."""
    services = build_services(f"sqlite:///{tmp_path / 'baton.db'}", clock=lambda: MONDAY_10)
    current = sdk_tracker([user_event("agent please", "request_human")], sender_id=SENDER)
    return await ActionRequestHandoff(services).run(CollectingDispatcher(), current, {})


async def paused_tracker(agent: Agent, tmp_path: Path) -> DialogueStateTracker:
    events: List[Event] = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("agent please", {"name": "request_human", "confidence": 1.0}),
        ActionExecuted("action_request_handoff"),
        BotUttered("I've passed this to our team."),
        *[Event.from_parameters(event) for event in await handoff_events(tmp_path)],
    ]
    tracker = DialogueStateTracker.from_events(SENDER, events, agent.domain.slots)
    await agent.tracker_store.save(tracker)
    return tracker


async def test_while_paused_a_customer_message_is_kept_and_nothing_is_said(agent, tmp_path):
    before = await paused_tracker(agent, tmp_path)
    assert before.is_paused()

    replies = await agent.handle_text("hello? is anyone there?", sender_id=SENDER)

    assert replies == []
    after = await agent.tracker_store.retrieve(SENDER)
    assert after.is_paused()
    assert after.latest_message.text == "hello? is anyone there?"
    assert after.latest_message.intent["name"]  # parsed, for the agent's view
    assert after.latest_action_name == "action_listen"


@pytest.mark.parametrize(
    "intent, next_action",
    [("handoff_resolved", "csat_form"), ("handoff_returned", "utter_back_with_assistant")],
)
async def test_on_resume_the_triggered_intent_meets_its_rule(agent, tmp_path, intent, next_action):
    tracker = await paused_tracker(agent, tmp_path)
    # While paused: the customer writes, the agent answers (as the desk records them).
    for event in (
        UserUttered("thanks, that fixed it", {"name": "thank", "confidence": 0.9}),
        BotUttered("Glad to help!", metadata={"agent": {"id": 1, "name": "Sam"}}),
        ConversationResumed(),
        UserUttered.create_external(intent, []),
    ):
        tracker.update(event)

    prediction = agent.processor._predict_next_with_tracker(tracker)

    assert agent.domain.action_names_or_texts[prediction.max_confidence_index] == next_action
    assert prediction.policy_name.endswith("RulePolicy")


async def test_handed_back_the_bot_speaks_again(agent, tmp_path):
    tracker = await paused_tracker(agent, tmp_path)
    tracker.update(ConversationResumed())
    await agent.tracker_store.save(tracker)
    output = CollectingOutputChannel()

    await agent.processor.trigger_external_user_uttered("handoff_returned", None, tracker, output)

    assert [message["text"] for message in output.messages] == [
        agent.domain.responses["utter_back_with_assistant"][0]["text"]
    ]
    after = await agent.tracker_store.retrieve(SENDER)
    assert not after.is_paused()
    assert after.latest_action_name == "action_listen"
