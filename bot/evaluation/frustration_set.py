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

from bot.yaml_source import ConfigError, item_line, key_line, line_of, load_with_lines

MESSAGES_KEY = "messages"
FIELDS = ("text", "category", "frustrated")


class FrustrationSetError(ConfigError):
    """A frustration set file that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class LabelledMessage:
    """One hand-labelled customer message."""

    text: str
    category: str
    frustrated: bool


def _line_at(line: int, item: Any, key: str) -> int:
    """The line of `key` when the message has it, else `line`, where its list item starts."""
    return key_line(item, key) if key in item else line


def _parse_message(item: Any, source: str, line: int, position: int) -> LabelledMessage:
    """One message of the list; `line` is where its list item starts."""
    if not isinstance(item, dict):
        raise FrustrationSetError.at(
            source, line, f"message {position + 1} is not a mapping", "{text, category, frustrated}"
        )
    message = f"message {position + 1}"

    unknown = sorted(set(item) - set(FIELDS), key=str)
    if unknown:
        raise FrustrationSetError.at(
            source,
            _line_at(line, item, unknown[0]),
            f"{message} has unknown keys {unknown}",
            ", ".join(FIELDS),
        )
    text, category, frustrated = item.get("text"), item.get("category"), item.get("frustrated")
    if not isinstance(text, str) or not text.strip():
        raise FrustrationSetError.at(
            source,
            _line_at(line, item, "text"),
            f"{message}: 'text' is missing or empty",
            "a non-empty string",
        )
    if not isinstance(category, str) or not category.strip():
        raise FrustrationSetError.at(
            source,
            _line_at(line, item, "category"),
            f"{message}: 'category' is missing or empty",
            "a non-empty string",
        )
    if not isinstance(frustrated, bool):
        raise FrustrationSetError.at(
            source,
            _line_at(line, item, "frustrated"),
            f"{message}: 'frustrated' is {frustrated!r}",
            "true, false",
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
    try:
        document = load_with_lines(content, source)
    except ConfigError as error:
        raise FrustrationSetError(error.problems) from None
    if not isinstance(document, dict) or not isinstance(document.get(MESSAGES_KEY), list):
        raise FrustrationSetError.at(
            source,
            line_of(document),
            f"no '{MESSAGES_KEY}' list",
            f"a mapping with '{MESSAGES_KEY}: [{{text, category, frustrated}}, ...]'",
        )
    messages = document[MESSAGES_KEY]
    result = [
        _parse_message(item, source, item_line(messages, position), position)
        for position, item in enumerate(messages)
    ]
    if not result:
        raise FrustrationSetError.at(
            source, key_line(document, MESSAGES_KEY), f"'{MESSAGES_KEY}' is empty"
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
