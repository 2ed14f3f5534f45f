"""The answer texts come off the training examples, and nothing else changes."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.constants import RESPONSE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_components.response_texts import ResponseTextRemover


def remover() -> ResponseTextRemover:
    return ResponseTextRemover.create({}, None, None, ExecutionContext(None, node_name="remover"))


def faq_training_data() -> TrainingData:
    # TrainingData copies each answer onto the examples of its retrieval intent itself.
    return TrainingData(
        training_examples=[
            Message(
                data={
                    TEXT: "do you deliver on sundays",
                    "intent": "faq",
                    "intent_response_key": "faq/delivery_time",
                },
            ),
            Message(data={TEXT: "hello", "intent": "greet"}),
        ],
        responses={"utter_faq/delivery_time": [{"text": "We deliver every day."}]},
    )


def test_retrieval_examples_lose_their_answer_text_and_keep_their_own():
    training_data = faq_training_data()
    faq_example = training_data.training_examples[0]
    assert faq_example.get(RESPONSE) == "We deliver every day."

    processed = remover().process_training_data(training_data)

    assert processed is training_data
    assert [example.get(RESPONSE) for example in processed.training_examples] == [None, None]
    assert [example.get(TEXT) for example in processed.training_examples] == [
        "do you deliver on sundays",
        "hello",
    ]
    # The selector learns the response key and takes the answer from the domain's responses.
    assert faq_example.get("intent_response_key") == "faq/delivery_time"
    assert processed.responses == {"utter_faq/delivery_time": [{"text": "We deliver every day."}]}


def test_parsed_messages_pass_through_unchanged():
    message = Message(data={TEXT: "where is my parcel"})
    assert remover().process([message]) == [message]
    assert message.data == {TEXT: "where is my parcel"}
