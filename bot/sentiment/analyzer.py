"""The mood of one customer message: VADER's score, and whether the customer is frustrated.

`SentimentAnalyzer().analyze(text)` returns a `Sentiment`:

- `compound`, VADER's compound score (-1 … 1) from its lexicon extended with
  customer-service words (lexicon.yml), turned negative when the message is sarcastic
  and held below zero when it is frustrated, so an agent reading the trend of a
  conversation sees the real mood;
- `label`, VADER's usual reading of that score (±0.05);
- `frustrated`, the detector's verdict: annoyance, anger, exasperation or lost patience,
  openly or through sarcasm, insults, swearing, SHOUTING, threats to leave or complain,
  or weariness at asking again. A calm report of a bad situation ("my internet is down")
  is not frustration, however negative its score. It is the learned verdict of
  classifier.py, trained on the hand-labelled messages in labelled/;
- `cues`, the evidence found by lexicon.yml's word lists (rules.py), named from `CUES`:
  why a message reads as frustrated, for the agent, and what the escalation signals count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Dict, Tuple

from bot.sentiment.classifier import (
    MAX_ANALYSED_CHARACTERS,
    FrustrationClassifier,
    read_all,
    train_classifier,
)
from bot.sentiment.lexicon import load_lexicon
from bot.sentiment.rules import (
    ABUSIVE,
    COMPLAINT,
    CUES,
    NEGATIVE_TONE,
    REPEATED_ATTEMPT,
    SARCASM,
    SHOUTING,
    THREAT_TO_LEAVE,
    FrustrationRules,
)
from bot.sentiment.training_data import load_labelled

__all__ = [
    "ABUSIVE",
    "COMPLAINT",
    "CUES",
    "MAX_ANALYSED_CHARACTERS",
    "NEGATIVE_TONE",
    "REPEATED_ATTEMPT",
    "SARCASM",
    "SHOUTING",
    "THREAT_TO_LEAVE",
    "Sentiment",
    "SentimentAnalyzer",
    "label_of",
]

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"
# VADER's own reading of its compound score.
LABEL_THRESHOLD = 0.05


@dataclass(frozen=True)
class Sentiment:
    """The mood of one message."""

    compound: float  # [-1, 1]; VADER's compound with Baton's customer-service adjustments
    label: str  # "negative" | "neutral" | "positive"
    frustrated: bool  # the detector's verdict for this one message
    cues: Tuple[str, ...]  # why, from CUES, sorted, may be empty

    def as_dict(self) -> Dict[str, Any]:
        """The JSON form stored in a message's parse data."""
        return {
            "compound": round(self.compound, 4),
            "label": self.label,
            "frustrated": self.frustrated,
            "cues": list(self.cues),
        }


def label_of(compound: float) -> str:
    """VADER's label for a compound score."""
    if compound >= LABEL_THRESHOLD:
        return POSITIVE
    if compound <= -LABEL_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


class SentimentAnalyzer:
    """Scores customer messages; build one and reuse it.

    Building it reads lexicon.yml and trains the frustration classifier on the labelled
    messages shipped in the package (about a second); the same files always give the
    same model.
    """

    def __init__(self) -> None:
        self._rules = FrustrationRules(load_lexicon())
        messages = load_labelled()
        self._classifier: FrustrationClassifier = train_classifier(
            messages, read_all(messages, self._rules)
        )

    def analyze(self, text: str) -> Sentiment:
        """The sentiment of one customer message (any text; never raises on odd input)."""
        text = (text or "")[:MAX_ANALYSED_CHARACTERS]
        if not text.strip():
            return Sentiment(compound=0.0, label=NEUTRAL, frustrated=False, cues=())
        reading = self._rules.read(text)
        frustrated = self._classifier.is_frustrated(text, reading)
        lexicon = self._rules.lexicon
        compound = reading.vader
        if SARCASM in reading.cues:
            # Praise meant the other way round: as negative as it sounded positive.
            compound = -max(abs(compound), lexicon.sarcasm_at_least_this_negative)
        if frustrated:
            compound = min(compound, lexicon.frustrated_at_most)
        return Sentiment(
            compound=compound,
            label=label_of(compound),
            frustrated=frustrated,
            cues=reading.cues,
        )


@functools.lru_cache(maxsize=1)
def shared_analyzer() -> SentimentAnalyzer:
    """The process's one analyzer, built on first use: building one trains the classifier
    (about a second), and the NLU component, the signal policy and the actions all read
    messages. `analyze` keeps no state between calls, so threads may share it."""
    return SentimentAnalyzer()
