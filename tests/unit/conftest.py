"""Fixtures shared by the unit tests of the Rasa components."""

from __future__ import annotations

import pytest

from bot.evaluation.overlap import Featurize, minilm_featurizer


@pytest.fixture(scope="session")
def featurize() -> Featurize:
    """Tokenizes and featurizes messages with the bundled MiniLM (loaded once a session)."""
    return minilm_featurizer()
