"""Takes the answer texts off the training examples of retrieval intents.

Rasa copies each FAQ and chitchat answer onto every training example of its question
(the `response` attribute): about 72 words on each of 2,300 examples, seven times the
words of the examples themselves. Every tokenizer and featurizer after it then works
through those answers, and the training spent most of its featurizing time there
(docs/benchmarks.md, issue 20). Only a ResponseSelector with `use_text_as_label: true`
reads their features; ours learn the response key, and each selector takes the answer
texts it returns from the domain, not from the examples. So this component, first in
the pipeline, removes them: the features of the examples' own text, and so the model,
are what they were.

It has nothing to do when a message is parsed: customers' messages carry no answer text.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import RESPONSE
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


# A featurizer in the recipe's terms: only tokenizers and featurizers get to process the
# training data before the classifiers see it.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class ResponseTextRemover(GraphComponent):
    """Removes the `response` attribute from every training example."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ResponseTextRemover:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            example.data.pop(RESPONSE, None)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        return messages
