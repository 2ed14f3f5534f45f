"""The hand-labelled frustration sets (`evaluation/frustration/test.yml`; the detector's
training files in bot/sentiment/labelled/ have the same format).

Format::

    version: 1
    messages:
      - text: "you lot are useless"
        category: angry          # a free label the report breaks results down by
        frustrated: true

A mistake in a file is reported as `path:line: what is wrong; allowed: ...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Union

MESSAGES_KEY = "messages"
FIELDS = ("text", "category", "frustrated")


class FrustrationSetError(ValueError):
    """A frustration set file that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class LabelledMessage:
    """One hand-labelled customer message."""

    text: str
    category: str
    frustrated: bool


def _line_of(node: Any, key: Any = None) -> int:
    """The 1-based line of a ruamel node (or of one of its keys), 0 if unknown."""
    position = getattr(node, "lc", None)
    if position is None:
        return 0
    try:
        line = position.key(key)[0] if key is not None else position.line
    except (KeyError, IndexError, TypeError):
        line = position.line
    return line + 1


def _where(source: str, line: int, item: Any, key: str, position: int) -> str:
    """`file:line: message N`, at the line of `key` when the message has it."""
    return f"{source}:{_line_of(item, key) if key in item else line}: message {position + 1}"


def _parse_message(item: Any, source: str, line: int, position: int) -> LabelledMessage:
    """One message of the list; `line` is where its list item starts."""
    if not isinstance(item, dict):
        raise FrustrationSetError(
            f"{source}:{line}: message {position + 1} is not a mapping; allowed: {{text, category, frustrated}}"
        )

    def at(key: str) -> str:
        return _where(source, line, item, key, position)

    unknown = sorted(set(item) - set(FIELDS), key=str)
    if unknown:
        raise FrustrationSetError(
            f"{at(unknown[0])} has unknown keys {unknown}; allowed: {', '.join(FIELDS)}"
        )
    text, category, frustrated = item.get("text"), item.get("category"), item.get("frustrated")
    if not isinstance(text, str) or not text.strip():
        raise FrustrationSetError(
            f"{at('text')}: 'text' is missing or empty; allowed: a non-empty string"
        )
    if not isinstance(category, str) or not category.strip():
        raise FrustrationSetError(
            f"{at('category')}: 'category' is missing or empty; allowed: a non-empty string"
        )
    if not isinstance(frustrated, bool):
        raise FrustrationSetError(
            f"{at('frustrated')}: 'frustrated' is {frustrated!r}; allowed: true, false"
        )
    return LabelledMessage(text=text, category=category.strip(), frustrated=frustrated)


def parse_frustration_set(content: str, source: str = "<string>") -> List[LabelledMessage]:
    """Reads the labelled messages of one frustration set from its YAML text.

    Args:
        content: The YAML text.
        source: The file name used in error messages.

    Returns:
        The messages in file order.

    Raises:
        FrustrationSetError: If the YAML is invalid or a message is malformed.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="rt").load(content)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise FrustrationSetError(
            f"{source}:{line}: not valid YAML ({error.__class__.__name__})"
        ) from error
    if not isinstance(document, dict) or not isinstance(document.get(MESSAGES_KEY), list):
        raise FrustrationSetError(
            f"{source}:{_line_of(document)}: no '{MESSAGES_KEY}' list; "
            f"allowed: a mapping with '{MESSAGES_KEY}: [{{text, category, frustrated}}, ...]'"
        )
    messages = document[MESSAGES_KEY]
    result = [
        _parse_message(item, source, _line_of(messages, position), position)
        for position, item in enumerate(messages)
    ]
    if not result:
        raise FrustrationSetError(
            f"{source}:{_line_of(document, MESSAGES_KEY)}: '{MESSAGES_KEY}' is empty"
        )
    return result


def load_frustration_set(path: Union[str, Path]) -> List[LabelledMessage]:
    """Reads the labelled messages of a frustration set file.

    Raises:
        FileNotFoundError: If the file does not exist.
        FrustrationSetError: If the file is malformed.
    """
    path = Path(path)
    return parse_frustration_set(path.read_text(encoding="utf-8"), source=str(path))
