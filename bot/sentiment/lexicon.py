"""lexicon.yml as typed data, and the loader that checks it.

`load_lexicon()` reads the word lists shipped beside this module (or another file)
and either returns a `Lexicon` or raises `LexiconError` listing every problem found,
one per line, as ``lexicon.yml:LINE: what is wrong; allowed: …``. What the lists mean
is decided in `analyzer.py`; how a phrase is written, in `phrases.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Sequence, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.sentiment.phrases import check_phrase, normalise
from bot.yaml_source import ConfigError, ConfigProblem, entry_line, line_of, load_with_lines

LEXICON_FILE = "lexicon.yml"

# The cues whose evidence is a list of phrases (shouting is measured, not listed).
PHRASE_CUES: Tuple[str, ...] = (
    "abusive",
    "sarcasm",
    "repeated_attempt",
    "threat_to_leave",
    "complaint",
    "negative_tone",
)
# The cues whose phrases do not count right after a negator ("not frustrated").
NEGATABLE_CUES: Tuple[str, ...] = ("abusive", "negative_tone")
# The kinds of evidence the verdict weighs (lexicon.yml, frustration: weights).
WEIGHTS: Tuple[str, ...] = (
    "abusive",
    "sarcasm",
    "repeated_attempt",
    "threat_to_leave",
    "complaint",
    "shouting_capitals",
    "shouting_punctuation",
    "shouting_questions",
    "negative_tone_phrase",
    "negative_tone_score",
    "mildly_negative_score",
    "capitalised_word",
    "positive_score",
    "calm_question",
)
# VADER's word scores run from -4 to +4.
MAX_WORD_SCORE = 4.0

_TOP_LEVEL_KEYS = (
    "version",
    "lexicon",
    "situation_words",
    "placeholders",
    "cues",
    "negators",
    "frustration",
    "compound",
)
_SHOUTING_KEYS = (
    "capital_share_at_least",
    "capital_letters_at_least",
    "punctuation_run_at_least",
    "acronyms",
)
_SARCASM_KEYS = ("phrases", "praise", "problems", "sincere", "not_when")
_PHRASE_CUE_KEYS = ("phrases", "not_when")
_REPEATED_ATTEMPT_KEYS = ("phrases", "in_capitals", "not_when")
_NEGATIVE_TONE_KEYS = ("compound_at_most", "phrases", "not_when")
_FRUSTRATION_KEYS = (
    "threshold",
    "weights",
    "mildly_negative_compound_at_most",
    "positive_compound_at_least",
    "calm_question_openers",
)
_COMPOUND_KEYS = ("sarcasm_at_least_this_negative", "frustrated_at_most")


@dataclass(frozen=True)
class ShoutingRule:
    """When a message counts as shouting."""

    capital_share_at_least: float
    capital_letters_at_least: int
    punctuation_run_at_least: int
    # Lower-cased words that are written in capitals anyway (BT, TV, SIM).
    acronyms: FrozenSet[str]


@dataclass(frozen=True)
class Lexicon:
    """Everything lexicon.yml says, checked."""

    # Added to (or replacing) VADER's own word scores.
    word_scores: Mapping[str, float]
    # Left out of the attitude score: they say what went wrong, not how it feels.
    situation_words: FrozenSet[str]
    placeholders: Mapping[str, Tuple[str, ...]]
    shouting: ShoutingRule
    # Per cue in PHRASE_CUES: the phrases that show it, and spans taken out first.
    phrases: Mapping[str, Tuple[str, ...]]
    not_when: Mapping[str, Tuple[str, ...]]
    # A phrase of a NEGATABLE_CUES cue right after one of these does not count.
    negators: FrozenSet[str]
    sarcastic_praise: Tuple[str, ...]
    sarcastic_problems: Tuple[str, ...]
    sincere: Tuple[str, ...]
    negative_tone_compound_at_most: float
    # Words that show a repeated attempt when written in capitals among lower-case ones.
    repeat_words_in_capitals: FrozenSet[str]
    threshold: float
    weights: Mapping[str, float]
    mildly_negative_compound_at_most: float
    positive_compound_at_least: float
    calm_question_openers: Tuple[str, ...]
    sarcasm_at_least_this_negative: float
    frustrated_at_most: float


class LexiconError(ConfigError):
    """lexicon.yml has mistakes; the message lists them all, one per line."""


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Reads and checks lexicon.yml.

    Args:
        path: The file to read; by default the lexicon.yml shipped in this package.

    Raises:
        LexiconError: The file is not valid YAML or breaks a rule; every problem is listed.
    """
    if path is None:
        text = resources.files(__package__).joinpath(LEXICON_FILE).read_text(encoding="utf-8")
        return parse_lexicon(text, LEXICON_FILE)
    return parse_lexicon(Path(path).read_text(encoding="utf-8"), Path(path).name)


def parse_lexicon(text: str, source: str = LEXICON_FILE) -> Lexicon:
    """Checks the text of a lexicon file and returns it as a `Lexicon`."""
    # The C-based safe loader reads the file twenty times faster than the round-trip one,
    # which keeps building an analyzer quick; only the round-trip loader knows the line
    # of every key, so a file with a mistake is read again with it to name the lines.
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError:
        document = None
    else:
        reader = _Reader(source)
        lexicon = reader.lexicon(document)
        if not reader.problems and lexicon is not None:
            return lexicon
    try:
        document = load_with_lines(text, source)
    except ConfigError as error:
        raise LexiconError(error.problems) from None
    reader = _Reader(source)
    lexicon = reader.lexicon(document)
    if reader.problems or lexicon is None:
        raise LexiconError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    return lexicon


class _Reader:
    """Walks the document, collecting every problem instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: List[ConfigProblem] = []

    def add(self, line: int, what: str, allowed: str) -> None:
        self.problems.append(ConfigProblem(self.source, line, what, allowed))

    def lexicon(self, document: Any) -> Lexicon | None:
        if not isinstance(document, dict):
            self.add(1, "the file is not a mapping", "the sections " + ", ".join(_TOP_LEVEL_KEYS))
            return None
        self.keys(document, _TOP_LEVEL_KEYS, "the file", required=_TOP_LEVEL_KEYS)
        word_scores = self.word_scores(document.get("lexicon"), entry_line(document, "lexicon"))
        placeholders = self.placeholders(
            document.get("placeholders"), entry_line(document, "placeholders")
        )
        cues = self.mapping(document, "cues")
        frustration = self.mapping(document, "frustration")
        compound = self.mapping(document, "compound")
        self.keys(cues, ("shouting", *PHRASE_CUES), "cues", required=("shouting", *PHRASE_CUES))
        self.keys(frustration, _FRUSTRATION_KEYS, "frustration", required=_FRUSTRATION_KEYS)
        self.keys(compound, _COMPOUND_KEYS, "compound", required=_COMPOUND_KEYS)

        shouting = self.mapping(cues, "shouting")
        self.keys(shouting, _SHOUTING_KEYS, "cues: shouting", required=_SHOUTING_KEYS)
        shouting_rule = ShoutingRule(
            capital_share_at_least=self.number(shouting, "capital_share_at_least", 0.0, 1.0),
            capital_letters_at_least=int(
                self.number(shouting, "capital_letters_at_least", 1, 1000)
            ),
            punctuation_run_at_least=int(self.number(shouting, "punctuation_run_at_least", 2, 100)),
            acronyms=frozenset(word.lower() for word in self.words(shouting, "acronyms")),
        )

        phrases: Dict[str, Tuple[str, ...]] = {}
        not_when: Dict[str, Tuple[str, ...]] = {}
        for cue in PHRASE_CUES:
            section = self.mapping(cues, cue)
            allowed = {
                "sarcasm": _SARCASM_KEYS,
                "negative_tone": _NEGATIVE_TONE_KEYS,
                "repeated_attempt": _REPEATED_ATTEMPT_KEYS,
            }.get(cue, _PHRASE_CUE_KEYS)
            self.keys(section, allowed, f"cues: {cue}", required=("phrases",))
            phrases[cue] = self.phrases(section, "phrases", placeholders)
            not_when[cue] = self.phrases(section, "not_when", placeholders)
        sarcasm = self.mapping(cues, "sarcasm")
        negative_tone = self.mapping(cues, "negative_tone")

        weights_node = self.mapping(frustration, "weights")
        self.keys(weights_node, WEIGHTS, "frustration: weights", required=WEIGHTS)
        weights = {name: self.number(weights_node, name, -10.0, 10.0) for name in WEIGHTS}

        return Lexicon(
            word_scores=word_scores,
            situation_words=frozenset(
                word.lower() for word in self.words(document, "situation_words")
            ),
            placeholders=placeholders,
            shouting=shouting_rule,
            phrases=phrases,
            not_when=not_when,
            negators=frozenset(normalise(word) for word in self.words(document, "negators")),
            sarcastic_praise=self.phrases(sarcasm, "praise", placeholders),
            sarcastic_problems=self.phrases(sarcasm, "problems", placeholders),
            sincere=self.phrases(sarcasm, "sincere", placeholders),
            repeat_words_in_capitals=frozenset(
                word.lower()
                for word in self.words(self.mapping(cues, "repeated_attempt"), "in_capitals")
            ),
            negative_tone_compound_at_most=self.number(
                negative_tone, "compound_at_most", -1.0, 1.0
            ),
            threshold=self.number(frustration, "threshold", 0.0, 10.0),
            weights=weights,
            mildly_negative_compound_at_most=self.number(
                frustration, "mildly_negative_compound_at_most", -1.0, 1.0
            ),
            positive_compound_at_least=self.number(
                frustration, "positive_compound_at_least", -1.0, 1.0
            ),
            calm_question_openers=self.phrases(frustration, "calm_question_openers", placeholders),
            sarcasm_at_least_this_negative=self.number(
                compound, "sarcasm_at_least_this_negative", 0.0, 1.0
            ),
            frustrated_at_most=self.number(compound, "frustrated_at_most", -1.0, 1.0),
        )

    def keys(
        self, node: Any, allowed: Sequence[str], where: str, required: Sequence[str] = ()
    ) -> None:
        if not isinstance(node, dict):
            return
        for key in node:
            if key not in allowed:
                self.add(
                    entry_line(node, key), f"unknown key '{key}' in {where}", ", ".join(allowed)
                )
        for key in required:
            if key not in node:
                self.add(line_of(node), f"{where} has no '{key}'", ", ".join(allowed))

    def mapping(self, parent: Any, key: str) -> Dict[str, Any]:
        if not isinstance(parent, dict) or key not in parent:
            return {}
        value = parent[key]
        if not isinstance(value, dict):
            self.add(
                entry_line(parent, key),
                f"'{key}' must be a mapping",
                "indented 'name: value' lines",
            )
            return {}
        return value

    def number(self, parent: Any, key: str, low: float, high: float) -> float:
        if not isinstance(parent, dict) or key not in parent:
            return 0.0
        value = parent[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            self.add(
                entry_line(parent, key), f"'{key}' is {value!r}", f"a number from {low} to {high}"
            )
            return 0.0
        return float(value)

    def words(self, parent: Any, key: str) -> Tuple[str, ...]:
        if not isinstance(parent, dict) or key not in parent:
            return ()
        value = parent[key]
        if not isinstance(value, list):
            self.add(entry_line(parent, key), f"'{key}' must be a list", "'- item' lines or [a, b]")
            return ()
        result: List[str] = []
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
                self.add(
                    entry_line(value, index), f"item {item!r} of '{key}' is not a word", "text"
                )
            else:
                result.append(str(item).strip())
        return tuple(result)

    def phrases(
        self, parent: Any, key: str, placeholders: Mapping[str, Tuple[str, ...]]
    ) -> Tuple[str, ...]:
        phrases = self.words(parent, key)
        value = parent.get(key) if isinstance(parent, dict) else None
        for index, phrase in enumerate(phrases):
            problem = check_phrase(phrase, placeholders)
            if problem:
                self.add(
                    entry_line(value, index),
                    f"phrase '{phrase}': {problem}",
                    "the phrase syntax at the top of the file",
                )
        return phrases

    def word_scores(self, node: Any, line: int) -> Dict[str, float]:
        if not isinstance(node, dict):
            self.add(
                line, "'lexicon' must be a mapping of 'word: score' lines", "e.g. 'shambles: -2.5'"
            )
            return {}
        scores: Dict[str, float] = {}
        for word, score in node.items():
            text = str(word).strip().lower()
            if not text or " " in text:
                self.add(entry_line(node, word), f"'{word}' is not one word", "one word, no spaces")
            elif (
                isinstance(score, bool)
                or not isinstance(score, (int, float))
                or abs(score) > MAX_WORD_SCORE
            ):
                self.add(
                    entry_line(node, word),
                    f"the score of '{word}' is {score!r}",
                    "a number from -4 to 4",
                )
            else:
                scores[text] = float(score)
        return scores

    def placeholders(self, node: Any, line: int) -> Dict[str, Tuple[str, ...]]:
        if not isinstance(node, dict):
            self.add(
                line,
                "'placeholders' must be a mapping of 'name: [words]' lines",
                "e.g. 'us: [you, you lot]'",
            )
            return {}
        result: Dict[str, Tuple[str, ...]] = {}
        for name in node:
            if not str(name).replace("_", "").isalpha() or str(name) != str(name).lower():
                self.add(
                    entry_line(node, name), f"placeholder name '{name}'", "lower-case letters and _"
                )
                continue
            result[str(name)] = self.words(node, name)
        return result
