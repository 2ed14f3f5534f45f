"""The mood of customer messages: VADER's score with Baton's customer-service lexicon,
and a frustration detector whose word lists are data (lexicon.yml).

Build one `SentimentAnalyzer` and reuse it; nothing is built at import time.
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
]
