"""The phrase syntax of lexicon.yml, turned into regular expressions.

A phrase is written the way a person would type it ("fed up", "<ordinal> time",
"keep|kept asking", "taking [this] to"); `compile_phrases` turns a list of them into one
compiled pattern that is searched in `normalise`d text. The syntax is described at the
top of lexicon.yml, for the people who edit it.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Mapping, Pattern, Sequence, Tuple

# A * on its own stands for any one word ("sort your * out").
ANY_WORD = "*"
# The asterisks of a masked swear word, written \* in a phrase ("f\*ing", "sh\*t").
MASKED = "\\*"
# The end of a sentence: punctuation that closes a clause, or the end of the message.
END = "<end>"
_END_PATTERN = r"(?=\s*(?:[.!?,;:)]|$))"
# What may stand between two words of a phrase: spaces, and the commas or colons people
# scatter between them ("oh, great"). Never a full stop: a phrase stays in its sentence.
_SEPARATOR = r"[\s,;:]+"
# Apostrophes are dropped from both text and phrases, so "i've", "ive" and "i’ve" match.
_APOSTROPHES = re.compile(r"['’‘`´]")
_SPACES = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"^<([a-z_]+)>$")
_WORD_START = r"(?<!\w)"
# What never matches anything: used for an empty phrase list.
_NEVER = re.compile(r"(?!x)x")


class PhraseError(ValueError):
    """A phrase that does not follow lexicon.yml's phrase syntax."""


def normalise(text: str) -> str:
    """The form of a text that phrases are searched in.

    Lower case, apostrophes dropped, every run of white space made one space.
    """
    return _SPACES.sub(" ", _APOSTROPHES.sub("", text.lower())).strip()


def check_phrase(phrase: str, placeholder_names: Iterable[str]) -> str | None:
    """What is wrong with one phrase, or None when it is well formed."""
    try:
        _phrase_pattern(phrase, {name: ("x",) for name in placeholder_names})
    except PhraseError as error:
        return str(error)
    return None


def compile_phrases(
    phrases: Sequence[str], placeholders: Mapping[str, Sequence[str]]
) -> Pattern[str]:
    """One pattern that finds any of `phrases` in normalised text.

    Args:
        phrases: Phrases in lexicon.yml's syntax.
        placeholders: The word lists that `<name>` in a phrase stands for.

    Raises:
        PhraseError: A phrase is malformed or names an unknown placeholder.
    """
    if not phrases:
        return _NEVER
    at_word_start: List[str] = []
    anywhere: List[str] = []
    for phrase in phrases:
        pattern = _phrase_pattern(phrase, placeholders)
        if pattern.startswith(_WORD_START):
            at_word_start.append(pattern[len(_WORD_START) :])
        else:
            anywhere.append(pattern)
    # The word-start test is made once, not once per phrase: at the positions inside a
    # word the search moves on at once, which keeps a long list fast.
    branches: List[str] = []
    if at_word_start:
        branches.append(_WORD_START + _alternation(at_word_start, group=True))
    if anywhere:
        branches.append(_alternation(anywhere, group=True))
    return re.compile("|".join(branches))


def _phrase_pattern(phrase: str, placeholders: Mapping[str, Sequence[str]]) -> str:
    tokens = normalise(phrase).split(" ")
    if tokens == [""]:
        raise PhraseError("the phrase is empty")
    parts: List[Tuple[str, bool]] = []
    for token in tokens:
        optional = token.startswith("[") and token.endswith("]")
        if optional:
            token = token[1:-1]
            if not token or token == END:
                raise PhraseError(f"'[{token}]' has nothing that could be left out")
        if token == END:
            parts.append((_END_PATTERN, False))
        else:
            parts.append((_token_pattern(token, placeholders), optional))
    if all(optional for _, optional in parts) or parts[0][0] == _END_PATTERN:
        raise PhraseError("a phrase needs a word that must be there before <end>")
    if _END_PATTERN in (pattern for pattern, _ in parts[:-1]):
        raise PhraseError("<end> can only be the last word of a phrase")
    return (
        _word_boundary(tokens[0], before=True)
        + _join(parts)
        + _word_boundary(tokens[-1], before=False)
    )


def _join(parts: Sequence[Tuple[str, bool]]) -> str:
    """The parts in order, a separator between words, optional parts wrapped with theirs."""
    last_required = max(index for index, (_, optional) in enumerate(parts) if not optional)
    pieces: List[str] = []
    for index, (pattern, optional) in enumerate(parts):
        if index > last_required:
            # Optional words at the end carry the separator in front of them.
            pieces.append(f"(?:{_SEPARATOR}{pattern})?")
            continue
        following = parts[index + 1][0] if index + 1 < len(parts) else None
        separator = _SEPARATOR if index < last_required and following != _END_PATTERN else ""
        piece = pattern + separator
        pieces.append(f"(?:{piece})?" if optional else piece)
    return "".join(pieces)


def _token_pattern(token: str, placeholders: Mapping[str, Sequence[str]]) -> str:
    placeholder = _PLACEHOLDER.match(token)
    if placeholder:
        name = placeholder.group(1)
        if name not in placeholders:
            known = ", ".join(f"<{known}>" for known in sorted(placeholders)) or "none"
            raise PhraseError(f"unknown placeholder <{name}>; known: {known}, <end>")
        values = [normalise(value) for value in placeholders[name]]
        alternatives = [
            _SEPARATOR.join(_word_pattern(word) for word in value.split(" "))
            for value in values
            if value
        ]
        return _alternation(alternatives)
    if token == ANY_WORD:
        return r"[\w-]+"
    if "<" in token or ">" in token:
        raise PhraseError(f"'{token}': a placeholder is written <name> as a word of its own")
    words = [word.strip(",") or word for word in token.split("|")]
    if any(not word for word in words):
        raise PhraseError(f"'{token}': '|' needs a word on both sides")
    return _alternation([_word_pattern(word) for word in words])


def _alternation(alternatives: Sequence[str], group: bool = False) -> str:
    """Either of the alternatives, the longest first (where two match, the longer wins)."""
    ordered = sorted(set(alternatives), key=lambda alternative: (-len(alternative), alternative))
    if len(ordered) == 1 and not group:
        return ordered[0]
    return "(?:" + "|".join(ordered) + ")"


def _word_pattern(word: str) -> str:
    pieces: List[str] = []
    # \* stands for the asterisks people type to mask a swear word ("f***ing", "sh*t"):
    # one or more of them, however many letters they hide.
    for character in word.replace(MASKED, "\0"):
        if character == "\0":
            pieces.append(r"\*+")
        elif character == "*":
            pieces.append(r"\w*")
        elif character == "#":
            pieces.append(r"\d+")
        elif character == "-":
            pieces.append(r"[-\s]?")
        else:
            pieces.append(re.escape(character))
    return "".join(pieces)


def _word_boundary(token: str, before: bool) -> str:
    """A phrase that starts (or ends) with a word must not start (end) inside another."""
    token = token.strip("[]")
    if token == END:
        return ""
    edge = token[0] if before else token[-1]
    if edge.isalnum() or edge in "*#<>_":
        return _WORD_START if before else r"(?!\w)"
    return ""
