"""The nearest training examples' vote on an FAQ answer: the arithmetic, and the
component trained, persisted, loaded and run on real MiniLM features."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_components.nearest_examples import (
    NEAREST_EXAMPLE,
    NearestExamplesConfigError,
    NearestExamplesVote,
    blended_ranking,
    vote,
)

# With the other MiniLM tests on one worker, the weights load once (the session fixture).
pytestmark = pytest.mark.xdist_group("minilm")


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_nearest_examples_vote_with_their_similarity():
    vectors = np.vstack([unit(1, 0), unit(0.9, 0.1), unit(0, 1), unit(-1, 0)])
    labels = ["faq/returns", "faq/refund_time", "faq/roaming", "faq/esim"]

    result = vote(unit(1, 0.05), vectors, labels, neighbours=3)

    assert result.nearest_label == "faq/returns"
    assert result.nearest_similarity == pytest.approx(0.9988, abs=1e-3)
    # The three nearest share the vote by similarity; the fourth, opposite, gets none.
    assert set(result.shares) == {"faq/returns", "faq/refund_time", "faq/roaming"}
    assert sum(result.shares.values()) == pytest.approx(1.0)
    assert (
        result.shares["faq/returns"]
        > result.shares["faq/refund_time"]
        > result.shares["faq/roaming"]
    )


def test_two_examples_of_one_answer_add_up():
    vectors = np.vstack([unit(1, 0.2), unit(1, -0.2), unit(1, 0)])
    labels = ["faq/roaming", "faq/roaming", "faq/returns"]

    result = vote(unit(1, 0), vectors, labels, neighbours=3)

    assert result.nearest_label == "faq/returns"
    assert result.shares["faq/roaming"] == pytest.approx(2 / 3, abs=0.01)


def test_asking_for_more_neighbours_than_examples_uses_them_all():
    result = vote(unit(1, 0), np.vstack([unit(1, 0)]), ["faq/returns"], neighbours=5)
    assert result.shares == {"faq/returns": pytest.approx(1.0)}


@pytest.mark.parametrize(
    ("weight", "expected_order"),
    [
        (0.0, ["faq/returns", "faq/refund_time"]),  # the selector alone
        (0.5, ["faq/refund_time", "faq/returns", "faq/esim"]),  # the vote tips it
        (1.0, ["faq/refund_time", "faq/esim"]),  # the vote alone
    ],
)
def test_the_ranking_blends_the_selector_and_the_vote(weight, expected_order):
    selector = [
        {"id": 1, "confidence": 0.6, "intent_response_key": "faq/returns"},
        {"id": 2, "confidence": 0.4, "intent_response_key": "faq/refund_time"},
    ]
    shares = {"faq/refund_time": 0.8, "faq/esim": 0.2}

    ranking = blended_ranking(selector, shares, weight)

    keys = [entry["intent_response_key"] for entry in ranking if entry["confidence"] > 0]
    assert keys == expected_order
    scores = {entry["intent_response_key"]: entry["confidence"] for entry in ranking}
    assert scores["faq/refund_time"] == pytest.approx((1 - weight) * 0.4 + weight * 0.8)
    # The selector's own fields are kept; an answer only the vote named has none.
    assert next(e for e in ranking if e["intent_response_key"] == "faq/returns")["id"] == 1
    assert "id" not in next(e for e in ranking if e["intent_response_key"] == "faq/esim")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("k", 0, "'k' must be a whole number of at least 1"),
        ("k", 2.5, "'k' must be a whole number"),
        ("weight", 1.5, "'weight' must be a number from 0 to 1"),
        ("weight", True, "'weight' must be a number from 0 to 1"),
        ("featurizer", "", "'featurizer' must be a name"),
        ("retrieval_intent", None, "'retrieval_intent' must be a name"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(setting, value, message, tmp_path):
    config = {**NearestExamplesVote.get_default_config(), setting: value}
    with pytest.raises(NearestExamplesConfigError, match=message):
        NearestExamplesVote(config, LocalModelStorage(tmp_path), Resource("vote"))


# --- trained on real MiniLM features -------------------------------------------------

TRAINING = {
    "faq/returns": [
        "how do I send something back",
        "what is your returns policy",
        "can I return an item",
    ],
    "faq/roaming": [
        "does my phone work abroad",
        "how much is roaming in europe",
        "using data overseas",
    ],
    "faq/opening_hours": [
        "when are you open",
        "what time do your shops close",
        "are you open on sunday",
    ],
}


def training_data(featurize) -> TrainingData:
    examples = [
        Message(data={"text": text, "intent": "faq", "intent_response_key": key})
        for key, texts in TRAINING.items()
        for text in texts
    ]
    examples.append(Message(data={"text": "hello there", "intent": "greet"}))
    responses = {f"utter_{key}": [{"text": f"The answer to {key}."}] for key in TRAINING}
    responses["utter_chitchat/weather"] = [{"text": "Sunny."}]
    return TrainingData(training_examples=featurize(examples), responses=responses)


def parsed(text: str, featurize, selector_top: str, confidence: float = 0.7) -> Message:
    message = Message(data={"text": text})
    featurize([message])
    others = [key for key in TRAINING if key != selector_top]
    message.set(
        "response_selector",
        {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "responses": [{"text": f"The answer to {selector_top}."}],
                    "confidence": confidence,
                    "intent_response_key": selector_top,
                    "utter_action": f"utter_{selector_top}",
                },
                "ranking": [
                    {"id": 1, "confidence": confidence, "intent_response_key": selector_top},
                    {"id": 2, "confidence": (1 - confidence) / 2, "intent_response_key": others[0]},
                    {"id": 3, "confidence": (1 - confidence) / 2, "intent_response_key": others[1]},
                ],
            },
        },
    )
    return message


@pytest.fixture(scope="module")
def trained(featurize, tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("vote")
    config = {**NearestExamplesVote.get_default_config(), "k": 3, "weight": 0.7}
    context = ExecutionContext(None, node_name="vote")
    NearestExamplesVote.create(config, storage, resource, context).train(training_data(featurize))
    # As the bot uses it: loaded from the model storage, not the object that trained.
    return NearestExamplesVote.load(config, storage, resource, context)


def test_a_paraphrase_the_selector_got_wrong_is_answered_by_its_neighbours(trained, featurize):
    message = parsed(
        "what are your hours on the weekend", featurize, selector_top="faq/returns", confidence=0.5
    )

    trained.process([message])

    answer = message.get("response_selector")["faq"]["response"]
    assert answer["intent_response_key"] == "faq/opening_hours"
    assert answer["utter_action"] == "utter_faq/opening_hours"
    assert answer["responses"] == [{"text": "The answer to faq/opening_hours."}]
    ranking = message.get("response_selector")["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/opening_hours"
    assert answer["confidence"] == ranking[0]["confidence"]
    assert [entry["confidence"] for entry in ranking] == sorted(
        (e["confidence"] for e in ranking), reverse=True
    )
    nearest = message.get(NEAREST_EXAMPLE)
    assert nearest["retrieval_intent"] == "faq"
    assert nearest["intent_response_key"] == "faq/opening_hours"
    assert 0.4 < nearest["similarity"] < 1.0


def test_an_unrelated_question_is_far_from_every_example(trained, featurize):
    near = parsed("can I send back the shoes I bought", featurize, selector_top="faq/returns")
    far = parsed("how tall is the eiffel tower", featurize, selector_top="faq/returns")

    trained.process([near, far])

    assert near.get(NEAREST_EXAMPLE)["similarity"] > far.get(NEAREST_EXAMPLE)["similarity"] + 0.2


def test_a_message_without_the_selector_answer_is_left_alone(trained, featurize):
    message = Message(data={"text": "hello there"})
    featurize([message])

    trained.process([message])

    assert message.get("response_selector") is None
    assert message.get(NEAREST_EXAMPLE) is None


def test_a_featurizer_alias_that_gives_no_features_is_refused_at_training(featurize, tmp_path):
    config = {**NearestExamplesVote.get_default_config(), "featurizer": "minlm"}
    vote_component = NearestExamplesVote(config, LocalModelStorage(tmp_path), Resource("vote"))
    with pytest.raises(
        NearestExamplesConfigError, match="no 'faq' example has dense features from 'minlm'"
    ):
        vote_component.train(training_data(featurize))
