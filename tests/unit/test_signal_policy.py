"""The signal policy's decisions on constructed trackers, against the shipped escalation.yml.

Each case is a conversation written as steps; the policy is asked what comes next.
Messages carry their sentiment explicitly (as the NLU component would have put it),
so the table tests the policy's reading of escalation.yml, not the analyzer's taste;
the last tests let the analyzer score raw text, as in a story test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_components.signal_policy import SignalEscalationPolicy

PROJECT = Path(__file__).resolve().parents[2]

OFFER = "action_offer_human"
HANDOFF = "action_request_handoff"

# How the sentiment component scores a message of each mood.
MOODS: Dict[str, Dict[str, Any]] = {
    "calm": {"compound": 0.0, "label": "neutral", "frustrated": False, "cues": []},
    "happy": {"compound": 0.7, "label": "positive", "frustrated": False, "cues": []},
    "negative": {"compound": -0.4, "label": "negative", "frustrated": False, "cues": []},
    "gloomy": {"compound": -0.7, "label": "negative", "frustrated": False, "cues": []},
    "fed_up": {
        "compound": -0.6,
        "label": "negative",
        "frustrated": True,
        "cues": ["negative_tone"],
    },
    "abusive": {"compound": -0.8, "label": "negative", "frustrated": True, "cues": ["abusive"]},
    "shouting": {"compound": -0.2, "label": "negative", "frustrated": True, "cues": ["shouting"]},
    "leaving": {
        "compound": -0.3,
        "label": "negative",
        "frustrated": True,
        "cues": ["threat_to_leave"],
    },
}


def said(intent: str, mood: str = "calm", text: str = "...") -> List[Event]:
    """The customer's message, after the bot listened."""
    parse_data: Dict[str, Any] = {"sentiment": MOODS[mood]}
    name = intent
    if "/" in intent:
        name = intent.split("/")[0]
        # As a live parse has it: the selector of all retrieval intents answers as "default".
        parse_data["response_selector"] = {"default": {"response": {"intent_response_key": intent}}}
    return [
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": name, "confidence": 0.9}, parse_data=parse_data),
    ]


def did(*actions: str) -> List[Event]:
    return [ActionExecuted(action) for action in actions]


def offered() -> List[Event]:
    return [ActionExecuted(OFFER), SlotSet("human_offered", True)]


def answered(intent: str, mood: str = "calm", action: str = "utter_faq") -> List[Event]:
    return said(intent, mood) + did(action)


def conversation(*steps: Sequence[Event]) -> List[Event]:
    return [event for step in steps for event in step]


# (id, events, what the policy predicts next: an action, or None to let the others decide)
CASES: List[Tuple[str, List[Event], str | None]] = [
    ("a calm question, answered", conversation(answered("faq/returns")), None),
    (
        "a calm customer with several problems, answered",
        conversation(
            answered("ask_order_status", "negative", "action_account_answer"),
            answered("faq/refund_time", "negative"),
            answered("ask_invoice", "calm", "action_account_answer"),
            answered("thank", "happy", "utter_you_are_welcome"),
        ),
        None,
    ),
    (
        "two frustrated messages: the offer follows the answer",
        conversation(
            answered("faq/slow_internet", "fed_up"),
            answered("ask_order_status", "fed_up", "action_account_answer"),
        ),
        OFFER,
    ),
    (
        "two frustrated messages: not before the answer",
        conversation(answered("faq/slow_internet", "fed_up"), said("ask_order_status", "fed_up")),
        None,
    ),
    (
        "an average mood below -0.5 over three messages, none flagged",
        conversation(
            answered("faq/roaming", "gloomy"),
            answered("faq/esim", "gloomy"),
            answered("faq/coverage", "gloomy"),
        ),
        OFFER,
    ),
    (
        "a low average, but the latest message is calm",
        conversation(
            answered("faq/roaming", "gloomy"),
            answered("faq/esim", "gloomy"),
            answered("faq/coverage", "calm"),
        ),
        None,
    ),
    (
        "a low average over only two messages",
        conversation(answered("faq/roaming", "gloomy"), answered("faq/esim", "gloomy")),
        None,
    ),
    (
        "frustrated, then calm again: answer them",
        conversation(
            answered("faq/slow_internet", "fed_up"),
            answered("faq/slow_internet", "fed_up"),
            answered("faq/router_setup", "happy"),
        ),
        None,
    ),
    ("abuse hands off at once", conversation(said("ask_invoice", "abusive")), HANDOFF),
    (
        "abuse hands off even after a declined offer",
        conversation(
            said("nlu_fallback"),
            did("action_handle_fallback"),
            [SlotSet("human_offered", True)],
            answered("deny", "calm", "action_answer_human_offer"),
            said("ask_invoice", "abusive"),
        ),
        HANDOFF,
    ),
    (
        "abuse while an agent has the conversation",
        conversation(
            answered("request_human", "calm", HANDOFF),
            [ConversationPaused()],
            said("inform", "abusive"),
        ),
        None,
    ),
    (
        "abuse inside the case form",
        conversation(
            said("report_problem"),
            did("case_form"),
            [ActiveLoop("case_form")],
            said("inform", "abusive"),
        ),
        None,
    ),
    (
        "abuse while asking for a person: the request's rule hands off",
        conversation(said("request_human", "abusive")),
        None,
    ),
    ("one shouted message", conversation(answered("faq/outage_check", "shouting")), None),
    (
        "shouting twice in three messages",
        conversation(
            answered("faq/outage_check", "shouting"), answered("faq/outage_check", "shouting")
        ),
        OFFER,
    ),
    ("a threat to leave", conversation(answered("faq/cancel_contract", "leaving")), OFFER),
    (
        "the same question right after its answer",
        conversation(answered("faq/returns"), answered("faq/returns")),
        OFFER,
    ),
    (
        "the same account question right after its answer",
        conversation(
            answered("ask_order_status", action="action_account_answer"),
            answered("ask_order_status", action="action_account_answer"),
        ),
        OFFER,
    ),
    (
        "two different questions of one kind",
        conversation(answered("faq/returns"), answered("faq/refund_time")),
        None,
    ),
    (
        "the same question, but the first was not understood",
        conversation(said("faq/returns"), did("action_handle_fallback"), answered("faq/returns")),
        None,
    ),
    (
        "saying thanks twice is not a repeated question",
        conversation(
            answered("thank", action="utter_you_are_welcome"),
            answered("thank", action="utter_you_are_welcome"),
        ),
        None,
    ),
    (
        "the answer to an offer is the offer's rules' business",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            offered(),
            said("deny", "fed_up"),
        ),
        None,
    ),
    (
        "a person declined one message ago: no new offer",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            offered(),
            answered("deny", "fed_up", "action_answer_human_offer"),
            answered("faq/returns", "fed_up"),
            answered("faq/roaming", "fed_up"),
        ),
        None,
    ),
    (
        "a person declined, and after the cooldown fresh frustration",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            offered(),
            answered("deny", "calm", "action_answer_human_offer"),
            answered("faq/esim", "calm"),
            answered("faq/returns", "fed_up"),
            answered("faq/roaming", "fed_up"),
        ),
        OFFER,
    ),
    (
        "a person declined; the frustration before it does not count again",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            offered(),
            answered("deny", "calm", "action_answer_human_offer"),
            answered("faq/esim", "calm"),
            answered("faq/voicemail", "calm"),
            answered("faq/roaming", "fed_up"),
        ),
        None,
    ),
    (
        "the fallback already offered a person this turn",
        conversation(
            said("nlu_fallback", "fed_up"),
            did("action_handle_fallback"),
            said("nlu_fallback", "fed_up"),
            did("action_handle_fallback"),
            [SlotSet("human_offered", True)],
        ),
        None,
    ),
    (
        "frustration from before an agent handed the conversation back",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            did(HANDOFF),
            [ConversationPaused()],
            said("inform", "abusive"),
            [ConversationResumed()],
            said("handoff_returned"),
            did("utter_back_with_assistant"),
            answered("faq/roaming", "fed_up"),
        ),
        None,
    ),
    (
        "the bot listens after a handoff the policy chose",
        conversation(said("ask_invoice", "abusive"), did(HANDOFF)),
        "action_listen",
    ),
    (
        "the bot listens after its offer",
        conversation(answered("faq/cancel_contract", "leaving"), offered()),
        "action_listen",
    ),
    (
        "after the answer and a second action, not in between",
        conversation(
            answered("faq/returns", "fed_up"),
            answered("faq/returns", "fed_up"),
            did("utter_anything_else"),
        ),
        None,
    ),
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT / "domain.yml"))


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> SignalEscalationPolicy:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("signal_policy")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = SignalEscalationPolicy.create(
        SignalEscalationPolicy.get_default_config(), storage, resource, context
    )
    trained.train([], Domain.empty())
    # Loaded as `rasa run` loads it: escalation.yml is read now.
    return SignalEscalationPolicy.load(
        SignalEscalationPolicy.get_default_config(), storage, resource, context
    )


def predicted(policy: SignalEscalationPolicy, domain: Domain, events: List[Event]) -> str | None:
    tracker = DialogueStateTracker.from_events("c0ffee", events, slots=domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if prediction.max_confidence == 0:
        return None
    assert prediction.max_confidence == 1.0
    assert prediction.policy_priority > 4  # above RulePolicy
    return domain.action_names_or_texts[prediction.max_confidence_index]


@pytest.mark.parametrize(
    "events, expected", [(e, x) for _, e, x in CASES], ids=[c[0] for c in CASES]
)
def test_the_policy_decides(policy, domain, events, expected):
    assert predicted(policy, domain, events) == expected


def test_messages_without_sentiment_are_scored_from_their_text(policy, domain):
    # A story test's messages carry only a labelled intent: the policy scores the text.
    events = conversation(
        [
            ActionExecuted("action_listen"),
            UserUttered("You are a useless bunch of idiots", {"name": "ask_invoice"}),
        ]
    )
    assert predicted(policy, domain, events) == HANDOFF


def test_a_calm_unscored_message_is_left_alone(policy, domain):
    events = conversation(
        [
            ActionExecuted("action_listen"),
            UserUttered("Could you tell me when my bill is due?", {"name": "ask_invoice"}),
        ],
        did("action_account_answer"),
    )
    assert predicted(policy, domain, events) is None
