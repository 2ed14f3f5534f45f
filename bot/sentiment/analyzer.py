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
  is not frustration, however negative its score;
- `cues`, the evidence found, named from `CUES` (the escalation signals count them).

Everything the detector knows is data in lexicon.yml; this module weighs it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Mapping, Pattern, Tuple

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.sentiment.lexicon import NEGATABLE_CUES, PHRASE_CUES, load_lexicon
from bot.sentiment.phrases import compile_phrases, normalise

# The cue vocabulary: why a message reads as frustrated.
SHOUTING = "shouting"
ABUSIVE = "abusive"
SARCASM = "sarcasm"
REPEATED_ATTEMPT = "repeated_attempt"
THREAT_TO_LEAVE = "threat_to_leave"
COMPLAINT = "complaint"
NEGATIVE_TONE = "negative_tone"
CUES: Tuple[str, ...] = (
    ABUSIVE,
    COMPLAINT,
    NEGATIVE_TONE,
    REPEATED_ATTEMPT,
    SARCASM,
    SHOUTING,
    THREAT_TO_LEAVE,
)

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"
# VADER's own reading of its compound score.
LABEL_THRESHOLD = 0.05

# Chat messages are short; a pasted essay is scored on its opening, which keeps one
# message from holding the bot up (VADER and the patterns grow with the text).
MAX_ANALYSED_CHARACTERS = 5000

# Cues that show feeling in the message itself. When one of them is found, a message
# phrased as a calm question is no calmer for it.
_EMOTIONAL_EVIDENCE = frozenset({ABUSIVE, SARCASM, "shouting_capitals", "negative_tone_phrase"})
# Cues found from phrases: what the customer says, as opposed to how it is typed. A happy
# score does not take them back (polite exasperation scores positive).
_VERBAL_EVIDENCE = frozenset({*PHRASE_CUES, "negative_tone_phrase"}) - {NEGATIVE_TONE}
# Greetings and fillers that may come before a calm question ("Hi, is there an outage?").
_QUESTION_LEAD_IN = r"(?:(?:hi|hello|hiya|hey|ok|okay|sorry|please|and|so|also|just|right)[\s,]+)*"
# How far back (in characters) a negator is looked for: enough for two words.
_NEGATION_REACH = 30
_WORD = re.compile(r"\w+")
# A word of letters (wi-fi is one word), and a word with a digit in it.
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_WITH_DIGIT = re.compile(r"\S*\d\S*")


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


@dataclass(frozen=True)
class _CuePatterns:
    """The compiled phrases of one cue, and the spans taken out before they are searched."""

    phrases: Pattern[str]
    not_when: Pattern[str] | None
    # Words that cancel a phrase found one or two words after them; empty: none do.
    negators: FrozenSet[str]

    def found_in(self, text: str) -> bool:
        if self.not_when is not None:
            text = self.not_when.sub(" | ", text)
        if not self.negators:
            return self.phrases.search(text) is not None
        return any(not self._negated(text, match.start()) for match in self.phrases.finditer(text))

    def _negated(self, text: str, start: int) -> bool:
        before = _WORD.findall(text, max(0, start - _NEGATION_REACH), start)[-2:]
        return any(word in self.negators for word in before)


class SentimentAnalyzer:
    """Scores customer messages; build one and reuse it (building takes a moment)."""

    def __init__(self) -> None:
        lexicon = load_lexicon()
        self._lexicon = lexicon
        self._vader = SentimentIntensityAnalyzer()
        self._vader.lexicon.update(lexicon.word_scores)
        # The same VADER without the words that only name the problem: its score is the
        # customer's attitude. Removed, not zeroed: VADER still boosts a zero in CAPITALS.
        self._attitude = copy.copy(self._vader)
        self._attitude.lexicon = {
            word: score
            for word, score in self._vader.lexicon.items()
            if word not in lexicon.situation_words
        }
        places = lexicon.placeholders
        self._cues: Mapping[str, _CuePatterns] = {
            cue: _CuePatterns(
                phrases=compile_phrases(lexicon.phrases[cue], places),
                not_when=compile_phrases(lexicon.not_when[cue], places)
                if lexicon.not_when[cue]
                else None,
                negators=lexicon.negators if cue in NEGATABLE_CUES else frozenset(),
            )
            for cue in PHRASE_CUES
        }
        self._praise = compile_phrases(lexicon.sarcastic_praise, places)
        self._problems = compile_phrases(lexicon.sarcastic_problems, places)
        self._sincere = compile_phrases(lexicon.sincere, places)
        openers = compile_phrases(lexicon.calm_question_openers, places).pattern
        # An opener at the start of a clause, and the sentence ends with a question mark.
        self._calm_question = re.compile(
            rf"(?:^|(?<=[.!?,;:\n]))\s*{_QUESTION_LEAD_IN}(?:{openers})[^.!?]*\?"
        )
        self._repeat_words = lexicon.repeat_words_in_capitals
        shouting = lexicon.shouting
        run = shouting.punctuation_run_at_least
        self._exclamations = re.compile(rf"!{{{run},}}")
        self._questions = re.compile(rf"\?{{{run},}}|\?!|!\?")

    def analyze(self, text: str) -> Sentiment:
        """The sentiment of one customer message (any text; never raises on odd input)."""
        text = (text or "")[:MAX_ANALYSED_CHARACTERS]
        if not text.strip():
            return Sentiment(compound=0.0, label=NEUTRAL, frustrated=False, cues=())
        vader = float(self._vader.polarity_scores(text)["compound"])
        plain = normalise(text)
        lexicon = self._lexicon

        evidence: Dict[str, bool] = {
            cue: patterns.found_in(plain) for cue, patterns in self._cues.items()
        }
        evidence["negative_tone_phrase"] = evidence.pop(NEGATIVE_TONE)
        evidence[SARCASM] = evidence[SARCASM] or self._sarcastic_praise(plain)
        evidence.update(self._shouting(text))
        # Popped first: `or` would skip the pop when a phrase already matched.
        repeat_in_capitals = evidence.pop("repeat_in_capitals")
        evidence[REPEATED_ATTEMPT] = evidence[REPEATED_ATTEMPT] or repeat_in_capitals
        # Without a situation word in the message both VADERs read it alike.
        attitude = (
            float(self._attitude.polarity_scores(text)["compound"])
            if not self._lexicon.situation_words.isdisjoint(_WORD.findall(plain))
            else vader
        )
        evidence["negative_tone_score"] = attitude <= lexicon.negative_tone_compound_at_most
        evidence["mildly_negative_score"] = (
            not evidence["negative_tone_score"]
            and vader <= lexicon.mildly_negative_compound_at_most
        )
        evidence["positive_score"] = vader >= lexicon.positive_compound_at_least and not any(
            evidence[name] for name in _VERBAL_EVIDENCE
        )
        evidence["calm_question"] = self._calm_question.search(plain) is not None and not any(
            evidence[name] for name in _EMOTIONAL_EVIDENCE
        )

        weight = sum(lexicon.weights[name] for name, found in evidence.items() if found)
        frustrated = weight >= lexicon.threshold

        compound = vader
        if evidence[SARCASM]:
            # Praise meant the other way round: as negative as it sounded positive.
            compound = -max(abs(compound), lexicon.sarcasm_at_least_this_negative)
        if frustrated:
            compound = min(compound, lexicon.frustrated_at_most)

        cues = {cue for cue in PHRASE_CUES if evidence.get(cue)}
        if evidence["negative_tone_phrase"] or evidence["negative_tone_score"]:
            cues.add(NEGATIVE_TONE)
        if (
            evidence["shouting_capitals"]
            or evidence["shouting_punctuation"]
            or evidence["shouting_questions"]
        ):
            cues.add(SHOUTING)
        return Sentiment(
            compound=compound,
            label=label_of(compound),
            frustrated=frustrated,
            cues=tuple(sorted(cues)),
        )

    def _sarcastic_praise(self, plain: str) -> bool:
        """Praise next to a named problem, with nothing saying things are fine now."""
        not_when = self._cues[SARCASM].not_when
        if not_when is not None:
            plain = not_when.sub(" | ", plain)
        return (
            self._praise.search(plain) is not None
            and self._problems.search(plain) is not None
            and self._sincere.search(plain) is None
        )

    def _shouting(self, text: str) -> Dict[str, bool]:
        """Capitals over most of the message, one word in capitals, heavy punctuation."""
        rule = self._lexicon.shouting
        capitals = letters = capitalised_words = 0
        repeat_in_capitals = False
        # Words with a digit (BW-100234, 4G) are references, never shouting.
        for word in _LETTER_WORD.findall(_WITH_DIGIT.sub(" ", text)):
            size = len(word) - word.count("-")
            if word.islower():
                letters += size
                continue
            if word.lower() in rule.acronyms:
                continue
            upper = size if word.isupper() else sum(1 for c in word if c.isupper())
            capitals += upper
            letters += size
            if upper == size >= 3:
                capitalised_words += 1
                repeat_in_capitals = repeat_in_capitals or word.lower() in self._repeat_words
        shouting_capitals = (
            capitals >= rule.capital_letters_at_least
            and capitals >= rule.capital_share_at_least * letters
        )
        return {
            "shouting_capitals": shouting_capitals,
            "shouting_punctuation": self._exclamations.search(text) is not None,
            "shouting_questions": self._questions.search(text) is not None,
            "capitalised_word": not shouting_capitals and capitalised_words > 0,
            # Only as emphasis: a message all in capitals says "AGAIN" like every other word.
            "repeat_in_capitals": not shouting_capitals and repeat_in_capitals,
        }
