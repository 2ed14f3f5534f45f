"""The second opinion on requests for a person: clauses, the decision rule, and the
component trained, persisted, loaded and run on real MiniLM features."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_components.handoff_opinion import (
    DEMOTED,
    HANDOFF_OPINION,
    PROMOTED,
    UNCHANGED,
    HandoffOpinionConfigError,
    HandoffSecondOpinion,
    clause_spans,
    probability,
    revised_intent,
)

# With the other MiniLM tests on one worker, the weights load once (the session fixture).
pytestmark = pytest.mark.xdist_group("minilm")


def spans_of(text: str) -> list[tuple[int, int]]:
    spans, position = [], 0
    for word in text.split():
        start = text.index(word, position)
        spans.append((start, start + len(word)))
        position = start + len(word)
    return spans


@pytest.mark.parametrize(
    "text, expected",
    [
        # One clause: nothing to split (the whole message is scored anyway).
        ("can I speak to someone", [(0, 5)]),
        ("My bill is wrong again. Can I speak to someone?", [(0, 5), (5, 10)]),
        # A one-word clause says too little to be scored alone.
        ("Thanks! Is there a person I could talk to", [(1, 9)]),
        ("line one\nline two; three four", [(0, 2), (2, 4), (4, 6)]),
    ],
)
def test_a_message_is_split_into_clauses_at_sentence_marks(text, expected):
    assert clause_spans(text, spans_of(text)) == expected


def test_the_most_likely_clause_decides():
    weights, bias = np.array([1.0, 0.0], dtype=np.float32), 0.0
    vectors = [np.array([0.0, 1.0]), np.array([3.0, 0.0])]
    assert probability(vectors, weights, bias) == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert probability([], weights, bias) == 0.0


RANKING = [
    {"name": "request_human", "confidence": 0.6},
    {"name": "faq", "confidence": 0.3},
    {"name": "greet", "confidence": 0.1},
]


@pytest.mark.parametrize(
    "intent, chance, expected_name, changed",
    [
        ({"name": "nlu_fallback", "confidence": 0.45}, 0.95, "request_human", PROMOTED),
        ({"name": "faq", "confidence": 0.8}, 0.95, "request_human", PROMOTED),
        ({"name": "faq", "confidence": 0.8}, 0.85, "faq", UNCHANGED),
        ({"name": "request_human", "confidence": 0.6}, 0.5, "request_human", UNCHANGED),
        # Demoted: the next intent is less sure than the fallback threshold.
        ({"name": "request_human", "confidence": 0.6}, 0.01, "nlu_fallback", DEMOTED),
    ],
)
def test_the_decision_rule(intent, chance, expected_name, changed):
    revised, what = revised_intent(intent, RANKING, chance, 0.9, 0.05, 0.45)
    assert (revised["name"], what) == (expected_name, changed)
    if changed == PROMOTED:
        assert revised["confidence"] == chance


def test_a_demoted_request_takes_the_next_intent_when_it_is_sure_enough():
    ranking = [{"name": "request_human", "confidence": 0.5}, {"name": "faq", "confidence": 0.5}]
    revised, what = revised_intent(ranking[0], ranking, 0.01, 0.9, 0.05, 0.45)
    assert (revised, what) == ({"name": "faq", "confidence": 0.5}, DEMOTED)


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("promote_at", 1.5, "'promote_at' must be a number from 0 to 1"),
        ("demote_below", 0.95, "'demote_below' (0.95) must be below 'promote_at' (0.9)"),
        ("featurizer", "", "'featurizer' must be a name"),
        ("regularisation", 0, "'regularisation' must be a positive number"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(setting, value, message, tmp_path):
    config = {**HandoffSecondOpinion.get_default_config(), setting: value}
    with pytest.raises(
        HandoffOpinionConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        HandoffSecondOpinion.create(
            config, LocalModelStorage(tmp_path), Resource("x"), ExecutionContext(None)
        )


# --- on real MiniLM features ------------------------------------------------------------

REQUESTS = [
    "can I talk to a real person",
    "I want to speak to a human agent",
    "put me through to someone please",
    "is there an actual human I can chat with",
    "connect me to an advisor",
    "I need to speak to a manager",
    "get me a member of staff",
    "let me talk to customer service",
]
OTHERS = [
    "how much is delivery",
    "what is my data allowance",
    "my broadband keeps dropping out",
    "when is my bill due",
    "can I keep my number if I switch",
    "how do I set up my router",
    "where is my order",
    "what payment methods do you take",
    "hello there",
    "thanks for your help",
]


@pytest.fixture(scope="module")
def trained(featurize, tmp_path_factory):
    examples = [Message(data={"text": t, "intent": "request_human"}) for t in REQUESTS] + [
        Message(data={"text": t, "intent": "faq"}) for t in OTHERS
    ]
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("opinion")
    # Eighteen examples, not four thousand: a lightly regularised classifier, lower bars.
    config = {
        **HandoffSecondOpinion.get_default_config(),
        "promote_at": 0.6,
        "demote_below": 0.3,
        "regularisation": 100.0,
    }
    context = ExecutionContext(None, node_name="opinion")
    training = TrainingData(training_examples=featurize(examples))
    HandoffSecondOpinion.create(config, storage, resource, context).train(training)
    # As the bot uses it: loaded from the model storage, not the object that trained.
    return HandoffSecondOpinion.load(config, storage, resource, context)


def parsed(text: str, featurize, intent: str, confidence: float) -> Message:
    message = Message(data={"text": text})
    featurize([message])
    others = [{"name": "faq", "confidence": 1 - confidence}]
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}, *others])
    return message


def test_a_request_at_the_end_of_a_long_message_is_promoted(trained, featurize):
    message = parsed(
        "My router has had a red light since Monday and I have restarted it four times. "
        "Can I talk to a real person?",
        featurize,
        "nlu_fallback",
        0.45,
    )
    trained.process([message])
    assert message.get(HANDOFF_OPINION)["probability"] >= 0.6, message.get(HANDOFF_OPINION)
    assert message.get("intent")["name"] == "request_human"
    assert message.get("intent_ranking")[0]["name"] == "request_human"
    assert message.get(HANDOFF_OPINION)["changed"] == PROMOTED


def test_a_question_about_something_else_is_left_alone(trained, featurize):
    message = parsed("how much does delivery cost", featurize, "faq", 0.9)
    trained.process([message])
    assert message.get("intent")["name"] == "faq"
    assert message.get(HANDOFF_OPINION)["changed"] == UNCHANGED
    assert message.get(HANDOFF_OPINION)["probability"] < 0.5


def test_no_features_means_no_opinion_and_no_crash(tmp_path):
    config = HandoffSecondOpinion.get_default_config()
    component = HandoffSecondOpinion.create(
        config, LocalModelStorage(tmp_path), Resource("x"), ExecutionContext(None)
    )
    message = Message(data={"text": "hi", "intent": {"name": "greet", "confidence": 1.0}})
    assert component.process([message]) == [message]  # untrained: nothing to say
    assert message.get(HANDOFF_OPINION) is None
    # Examples without MiniLM features (a misspelt alias) train nothing: refused.
    example = Message(data={"text": "hi", "intent": "greet"})
    with pytest.raises(HandoffOpinionConfigError, match="needs examples of request_human"):
        component.train(TrainingData(training_examples=[example]))
