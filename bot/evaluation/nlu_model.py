"""Training an NLU-only model on part of the data, and parsing messages with it.

Uses Rasa's own Python API (`rasa.model_training.train_nlu`, `Agent.load`) with the
project's config.yml and domain.yml, so a fold's model is built exactly as the bot's
NLU is, only on fewer examples. Rasa is imported here and nowhere else in the
package, when a function is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Sequence

if TYPE_CHECKING:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.training_data import TrainingData

DATA_FILE_NAME = "nlu.yml"
MODELS_DIR_NAME = "models"


class TrainingFailed(RuntimeError):
    """Rasa did not produce a model."""


def train_nlu_model(training_data: TrainingData, workdir: Path, config: Path, domain: Path) -> Path:
    """Writes `training_data` to `workdir` and trains an NLU-only model from it.

    Args:
        training_data: The examples to train on (with regexes and synonyms).
        workdir: An empty directory for the data file and the model.
        config: The project's config.yml.
        domain: The project's domain.yml (its retrieval responses train the
            ResponseSelector).

    Returns:
        The path of the model archive.

    Raises:
        TrainingFailed: If Rasa returned no model.
    """
    from rasa.model_training import train_nlu

    from bot.graph_cache import skip_training_cache_when_disabled

    skip_training_cache_when_disabled()
    data_file = workdir / DATA_FILE_NAME
    data_file.write_text(training_data.nlu_as_yaml(), encoding="utf-8")
    # Rasa prints "Your Rasa model is trained and saved at ..." for every model.
    with contextlib.redirect_stdout(io.StringIO()):
        model = train_nlu(
            config=str(config),
            nlu_data=str(data_file),
            output=str(workdir / MODELS_DIR_NAME),
            domain=str(domain),
        )
    if not model:
        raise TrainingFailed(f"Rasa trained no NLU model from {data_file}")
    return Path(model)


class NluParser:
    """A trained NLU model, loaded once, that parses messages like the bot does."""

    def __init__(self, model_path: Path) -> None:
        """Loads the model archive.

        Args:
            model_path: A model archive from `train_nlu_model`.
        """
        from rasa.core.agent import Agent

        from bot.network_loading import build_networks_eagerly

        build_networks_eagerly()
        self._agent: Agent = Agent.load(str(model_path))

    def parse_all(self, texts: Sequence[str]) -> List[Dict[str, Any]]:
        """Rasa's parse data for each text, in order."""
        return asyncio.run(self._parse_all(texts))

    async def _parse_all(self, texts: Sequence[str]) -> List[Dict[str, Any]]:
        return [await self._agent.parse_message(text) for text in texts]
