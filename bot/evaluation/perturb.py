"""A seeded, reviewable noise generator: the held-out split as customers might type it.

`make eval` scores the held-out split a second time, perturbed (docs/quality.md,
"Robustness"): the same messages with the slips real people make. Each message gets
one or two of these families, drawn with a seeded random generator, so the copy is
the same on every run and can be printed and read (`perturbed_examples`):

- `typos`: a few words of four letters or more get one slip each: two letters
  swapped, one dropped, one doubled, or a neighbouring key on a QWERTY keyboard;
- `no_apostrophes`: "don't" becomes "dont", "I'm" "Im";
- `compound`: a sentence of context in front ("I've been with you for years and this
  month's bill is higher."), as people explain before they ask; a request for a person
  stays one, at the end of a longer message (not for short replies such as "yes", whose
  meaning the context would change);
- `casing`: all lower case without the final punctuation, or all capitals;
- `filler`: a trailing "pls", "thanks", "??" or "asap".

`casing` and `filler` are never used to make training data (EVALUATION_ONLY): one
family at least must measure what the model never saw. The evaluation's seed is
EVALUATION_SEED; data generated for training must use another.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

from bot.evaluation.examples import NluExample

EVALUATION_SEED = 20261207
FAMILIES = ("typos", "no_apostrophes", "compound", "casing", "filler")
EVALUATION_ONLY = frozenset({"casing", "filler"})
# The share of eligible words (four letters or more) a `typos` perturbation changes,
# at least one.
TYPO_RATE = 0.15

# Context people give before the question; neutral, about nobody's request.
CONTEXT_SENTENCES = (
    "I've been with you for years and this month's bill is higher.",
    "So I moved house last week.",
    "Hi, I got a new phone on Saturday.",
    "My router has been acting up since the storm.",
    "I'm writing on behalf of my dad, it's his account.",
    "I tried the app already but it kept logging me out.",
    "Quick one before my lunch break ends.",
    "I ordered something on Tuesday and paid by card.",
    "Sorry if this is the wrong place to ask.",
    "The signal at my place is fine otherwise.",
)
# Replies whose meaning a sentence in front would change ("So I moved house. yes").
NOT_COMPOUNDED = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "stop", "inform", "rate_support"}
)
FILLERS = (" pls", " thanks", "??", " asap", " please", " cheers", " thx")

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_APOSTROPHES = re.compile(r"['’]")
_WORD = re.compile(r"[A-Za-z]{4,}")


def _keyboard_neighbours() -> Dict[str, str]:
    neighbours: Dict[str, str] = {}
    for row_index, row in enumerate(_QWERTY_ROWS):
        for column, letter in enumerate(row):
            near = [row[c] for c in (column - 1, column + 1) if 0 <= c < len(row)]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(_QWERTY_ROWS):
                    near += [
                        _QWERTY_ROWS[other][c]
                        for c in (column - 1, column, column + 1)
                        if 0 <= c < len(_QWERTY_ROWS[other])
                    ]
            neighbours[letter] = "".join(near)
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def _slip(word: str, rng: random.Random) -> str:
    """One typing slip inside a word (never its first letter: people see that one)."""
    position = rng.randrange(1, len(word) - 1)
    slip = rng.choice(("swap", "drop", "double", "neighbour"))
    if slip == "swap":
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if slip == "drop":
        return word[:position] + word[position + 1 :]
    if slip == "double":
        return word[: position + 1] + word[position] + word[position + 1 :]
    letter = word[position]
    near = _NEIGHBOURS.get(letter.lower())
    if not near:
        return word[:position] + word[position + 1 :]
    replacement = rng.choice(near)
    if letter.isupper():
        replacement = replacement.upper()
    return word[:position] + replacement + word[position + 1 :]


def typos(text: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    count = max(1, round(len(words) * TYPO_RATE))
    chosen = sorted(rng.sample(words, min(count, len(words))), key=lambda m: m.start())
    pieces, last = [], 0
    for match in chosen:
        pieces += [text[last : match.start()], _slip(match.group(), rng)]
        last = match.end()
    return "".join(pieces) + text[last:]


def no_apostrophes(text: str, rng: random.Random) -> str:
    return _APOSTROPHES.sub("", text)


def compound(text: str, rng: random.Random) -> str:
    return f"{rng.choice(CONTEXT_SENTENCES)} {text}"


def casing(text: str, rng: random.Random) -> str:
    if rng.random() < 0.7:
        return text.lower().rstrip(".!?")
    return text.upper()


def filler(text: str, rng: random.Random) -> str:
    return text.rstrip(".") + rng.choice(FILLERS)


PERTURBATIONS: Dict[str, Callable[[str, random.Random], str]] = {
    "typos": typos,
    "no_apostrophes": no_apostrophes,
    "compound": compound,
    "casing": casing,
    "filler": filler,
}
# Applied in this order when a message draws several: context first, then how it is typed.
_ORDER = ("compound", "no_apostrophes", "typos", "filler", "casing")


@dataclass(frozen=True)
class PerturbedExample:
    """A message as perturbed, the families applied, and the original."""

    example: NluExample
    families: Tuple[str, ...]
    original: str


def perturb(text: str, families: Sequence[str], rng: random.Random) -> str:
    """`text` with each of `families` applied in a fixed order."""
    unknown = set(families) - set(PERTURBATIONS)
    if unknown:
        raise ValueError(f"unknown perturbation(s): {', '.join(sorted(unknown))}")
    for family in _ORDER:
        if family in families:
            text = PERTURBATIONS[family](text, rng)
    return text


def perturbed_examples(
    examples: Sequence[NluExample],
    seed: int = EVALUATION_SEED,
    families: Sequence[str] = FAMILIES,
) -> List[PerturbedExample]:
    """Each example with one or two of `families`, drawn from `seed`; labels unchanged."""
    rng = random.Random(seed)  # noqa: S311 — reproducible noise, not a secret
    perturbed = []
    for example in examples:
        allowed = [
            family
            for family in families
            if family != "compound" or example.base_intent not in NOT_COMPOUNDED
        ]
        drawn = tuple(sorted(rng.sample(allowed, min(len(allowed), rng.choice((1, 2))))))
        text = perturb(example.text, drawn, rng)
        perturbed.append(
            PerturbedExample(NluExample(text=text, intent=example.intent), drawn, example.text)
        )
    return perturbed
