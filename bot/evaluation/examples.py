"""NLU examples as the evaluation sees them: a text and its full intent label.

The label of a retrieval intent is its full name (`faq/returns`): the held-out split
and the cross-validation folds are stratified on it, and the FAQ metric scores it.
The intent metrics collapse it to its base (`faq`), which is what the intent
classifier predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Sequence, Union

if TYPE_CHECKING:  # Rasa imports TensorFlow-sized modules: only where it is used.
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

RETRIEVAL_SEPARATOR = "/"


@dataclass(frozen=True)
class NluExample:
    """One labelled training example.

    Attributes:
        text: The message text, without entity annotations.
        intent: The full intent label (`faq/returns` for a retrieval intent).
    """

    text: str
    intent: str

    @property
    def base_intent(self) -> str:
        """The intent the classifier predicts (`faq` for `faq/returns`)."""
        return base_intent(self.intent)


def base_intent(label: str) -> str:
    """Collapses a retrieval intent's full name to its base intent.

    Args:
        label: An intent label, e.g. `faq/returns` or `greet`.

    Returns:
        `faq` for `faq/returns`; any other label unchanged.
    """
    return label.split(RETRIEVAL_SEPARATOR, 1)[0]


def is_retrieval_label(label: str) -> bool:
    """Whether a label names a retrieval intent (`faq/returns`, `chitchat/joke`)."""
    return RETRIEVAL_SEPARATOR in label


def load_training_data(path: Union[str, Path]) -> TrainingData:
    """Reads Rasa NLU training data (a YAML file or a directory of them).

    Args:
        path: `data/nlu` or one of its files.

    Returns:
        Rasa's training data: the examples with their entity annotations, and the
        regexes, lookup tables and synonyms every fold's model is trained with.
    """
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(path))


def example_of(message: Message) -> NluExample:
    """The text and full intent label of one of Rasa's training messages."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    label = message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)
    return NluExample(text=message.get(TEXT), intent=label)


def examples_of(training_data: TrainingData) -> List[NluExample]:
    """The labelled examples of Rasa training data, in file order."""
    return [example_of(message) for message in training_data.intent_examples]


def subset(training_data: TrainingData, indices: Sequence[int]) -> TrainingData:
    """The examples at `indices` with all of the data's regexes, lookups and synonyms.

    Args:
        training_data: The full training data.
        indices: Positions in `training_data.intent_examples`.

    Returns:
        New training data to write out and train a fold's model on.
    """
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = training_data.intent_examples
    return TrainingData(
        training_examples=[messages[i] for i in indices],
        entity_synonyms=training_data.entity_synonyms,
        regex_features=training_data.regex_features,
        lookup_tables=training_data.lookup_tables,
    )
