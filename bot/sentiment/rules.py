"""What lexicon.yml's word lists find in one message: the cues and the evidence behind them.

`FrustrationRules(load_lexicon()).read(text)` returns a `RuleReading`: the cues an agent
sees (why a message reads as frustrated), every kind of evidence the lexicon weighs,
VADER's scores, and the lexicon's own weighted verdict. The frustrated verdict the
product uses is the learned one (classifier.py), which reads this evidence as features;
the cues stay here because they explain a verdict and drive the escalation rules.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Mapping, Pattern, Tuple

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.sentiment.lexicon import NEGATABLE_CUES, PHRASE_CUES, Lexicon
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

# The evidence of a negative_tone phrase (the cue is also given by the attitude score).
NEGATIVE_TONE_PHRASE = "negative_tone_phrase"

# Cues that show feeling in the message itself. When one of them is found, a message
# phrased as a calm question is no calmer for it.
_EMOTIONAL_EVIDENCE = frozenset({ABUSIVE, SARCASM, "shouting_capitals", "negative_tone_phrase"})
# Cues found from phrases: what the customer says, as opposed to how it is typed. A happy
# score does not take them back (polite exasperation scores positive).
_VERBAL_EVIDENCE = frozenset({*PHRASE_CUES, "negative_tone_phrase"}) - {NEGATIVE_TONE}
# Greetings and fillers that may come before a calm question ("Hi, is there an outage?").
# Separated by spaces only: after a comma a new clause starts, where the opener is looked
# for again, so "hi, how do i..." still matches; a lead-in that ran on across commas made
# every comma of "hi, hi, hi, ..." rescan the rest of the message (quadratic).
_QUESTION_LEAD_IN = r"(?:(?:hi|hello|hiya|hey|ok|okay|sorry|please|and|so|also|just|right)\s+)*"
# The ends of sentences, kept by `split` (the capturing group) to tell "?" from "." and "!".
_SENTENCE_END = re.compile(r"([.!?])")
# How far back (in characters) a negator is looked for: enough for two words.
_NEGATION_REACH = 30
_WORD = re.compile(r"\w+")
# A word of letters (wi-fi is one word), and a word with a digit in it.
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# The whole run of non-space characters around a digit. Tried only where a run starts, and
# up to its first digit without a digit in between, so no position is read twice per run:
# `\S*\d\S*` tried every position of a long run without digits against the rest of the
# run (2,000 characters: 40 ms; 10,000: 1.3 s).
_WITH_DIGIT = re.compile(r"(?<!\S)[^\s\d]*\d\S*")


@dataclass(frozen=True)
class RuleReading:
    """What the word lists found in one message."""

    # Every kind of evidence lexicon.yml weighs (lexicon.WEIGHTS), found or not.
    evidence: Mapping[str, bool]
    vader: float  # VADER's compound with Baton's word scores
    attitude: float  # the same without the words that only name the problem
    weight: float  # the evidence found, weighted by lexicon.yml
    frustrated: bool  # the lexicon's own verdict: weight at least its threshold
    cues: Tuple[str, ...]  # from CUES, sorted
    # Capital letters among the letters of words, acronyms and references left out.
    capital_share: float


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


class FrustrationRules:
    """Reads messages with lexicon.yml's word lists; build one and reuse it."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
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
        # An opener at the start of a clause (of a sentence that `_calm_question` has cut
        # out: `^` is the sentence's start).
        self._question_opening = re.compile(rf"(?:^|(?<=[,;:]))\s*{_QUESTION_LEAD_IN}(?:{openers})")
        self._repeat_words = lexicon.repeat_words_in_capitals
        run = lexicon.shouting.punctuation_run_at_least
        self._exclamations = re.compile(rf"!{{{run},}}")
        self._questions = re.compile(rf"\?{{{run},}}|\?!|!\?")

    def read(self, text: str) -> RuleReading:
        """The cues and evidence in one message (not empty; cut to length by the caller)."""
        vader = float(self._vader.polarity_scores(text)["compound"])
        plain = normalise(text)
        lexicon = self.lexicon

        evidence: Dict[str, bool] = {
            cue: patterns.found_in(plain) for cue, patterns in self._cues.items()
        }
        evidence["negative_tone_phrase"] = evidence.pop(NEGATIVE_TONE)
        evidence[SARCASM] = evidence[SARCASM] or self._sarcastic_praise(plain)
        shouting, capital_share = self._shouting(text)
        evidence.update(shouting)
        # Popped first: `or` would skip the pop when a phrase already matched.
        repeat_in_capitals = evidence.pop("repeat_in_capitals")
        evidence[REPEATED_ATTEMPT] = evidence[REPEATED_ATTEMPT] or repeat_in_capitals
        # Without a situation word in the message both VADERs read it alike.
        attitude = (
            float(self._attitude.polarity_scores(text)["compound"])
            if not lexicon.situation_words.isdisjoint(_WORD.findall(plain))
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
        evidence["calm_question"] = self._calm_question(plain) and not any(
            evidence[name] for name in _EMOTIONAL_EVIDENCE
        )
        weight = sum(lexicon.weights[name] for name, found in evidence.items() if found)

        cues = {cue for cue in PHRASE_CUES if evidence.get(cue)}
        if evidence["negative_tone_phrase"] or evidence["negative_tone_score"]:
            cues.add(NEGATIVE_TONE)
        if (
            evidence["shouting_capitals"]
            or evidence["shouting_punctuation"]
            or evidence["shouting_questions"]
        ):
            cues.add(SHOUTING)
        return RuleReading(
            evidence=evidence,
            vader=vader,
            attitude=attitude,
            weight=weight,
            frustrated=weight >= lexicon.threshold,
            cues=tuple(sorted(cues)),
            capital_share=capital_share,
        )

    def _calm_question(self, plain: str) -> bool:
        """A sentence that ends with "?" has a question opener at the start of a clause.

        Cut into sentences first: one pattern ending in `[^.!?]*\\?` scanned from every
        clause start to the end of its sentence, quadratic in the commas of a long one.
        """
        pieces = _SENTENCE_END.split(plain)  # sentence, end, sentence, end, ..., the rest
        return any(
            pieces[index + 1] == "?" and self._question_opening.search(pieces[index]) is not None
            for index in range(0, len(pieces) - 1, 2)
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

    def _shouting(self, text: str) -> Tuple[Dict[str, bool], float]:
        """Capitals over most of the message, one word in capitals, heavy punctuation;
        and the share of capitals among the letters counted."""
        rule = self.lexicon.shouting
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
        evidence = {
            "shouting_capitals": shouting_capitals,
            "shouting_punctuation": self._exclamations.search(text) is not None,
            "shouting_questions": self._questions.search(text) is not None,
            "capitalised_word": not shouting_capitals and capitalised_words > 0,
            # Only as emphasis: a message all in capitals says "AGAIN" like every other word.
            "repeat_in_capitals": not shouting_capitals and repeat_in_capitals,
        }
        return evidence, capitals / letters if letters else 0.0
