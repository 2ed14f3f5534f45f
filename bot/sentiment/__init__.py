"""The mood of customer messages: VADER's score with Baton's customer-service lexicon,
the cues its word lists find (lexicon.yml, rules.py), and a frustrated verdict learned
from hand-labelled messages (labelled/, classifier.py).

Build one `SentimentAnalyzer` and reuse it (building it trains the classifier, about a
second); nothing is built at import time. `python -m bot.sentiment.crossval` shows how
well the verdict reads a writer it was not trained on.
"""

from bot.sentiment.analyzer import (
    ABUSIVE,
    COMPLAINT,
    CUES,
    NEGATIVE_TONE,
    REPEATED_ATTEMPT,
    SARCASM,
    SHOUTING,
    THREAT_TO_LEAVE,
    Sentiment,
    SentimentAnalyzer,
    shared_analyzer,
)

__all__ = [
    "ABUSIVE",
    "COMPLAINT",
    "CUES",
    "NEGATIVE_TONE",
    "REPEATED_ATTEMPT",
    "SARCASM",
    "SHOUTING",
    "THREAT_TO_LEAVE",
    "Sentiment",
    "SentimentAnalyzer",
    "shared_analyzer",
]
