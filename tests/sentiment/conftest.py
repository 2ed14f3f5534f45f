"""One trained analyzer for the whole sentiment suite: building one trains the classifier."""

from __future__ import annotations

import pytest

from bot.sentiment import SentimentAnalyzer


@pytest.fixture(scope="session")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()
