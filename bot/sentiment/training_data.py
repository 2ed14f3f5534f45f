"""The hand-labelled messages the frustration classifier learns from (labelled/*.yml).

Each file is one writer's messages, in the format of the evaluation sets::

    version: 1
    messages:
      - text: "you lot are useless"
        category: angry          # a free label, for reading results by kind of message
        frustrated: true

The files ship inside the package (pyproject.toml package-data), so an installed bot
trains the same model as a checkout. A mistake in a file is reported as
``path:line: what is wrong; allowed: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, List, Sequence, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.yaml_source import ConfigError, item_line, key_line, line_of, load_with_lines

LABELLED_DIRECTORY = "labelled"
MESSAGES_KEY = "messages"
FIELDS = ("text", "category", "frustrated")


class LabelledDataError(ConfigError):
    """A labelled file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class LabelledMessage:
    """One hand-labelled customer message, and who wrote it (the file's name)."""

    text: str
    category: str
    frustrated: bool
    writer: str


def load_labelled(directory: Path | None = None) -> List[LabelledMessage]:
    """Every labelled message, file by file in name order, each file in its own order.

    Args:
        directory: Where the `*.yml` files are; by default the package's labelled/.

    Raises:
        LabelledDataError: A file is malformed, or there is no file at all.
    """
    if directory is None:
        folder = resources.files(__package__).joinpath(LABELLED_DIRECTORY)
        files: Sequence[Tuple[str, str]] = [
            (entry.name, entry.read_text(encoding="utf-8"))
            for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
            if entry.name.endswith(".yml")
        ]
        where = f"bot/sentiment/{LABELLED_DIRECTORY}"
    else:
        files = [
            (path.name, path.read_text(encoding="utf-8"))
            for path in sorted(Path(directory).glob("*.yml"))
        ]
        where = str(directory)
    if not files:
        raise LabelledDataError.at(where, None, "no labelled *.yml files", "one file per writer")
    messages: List[LabelledMessage] = []
    for name, text in files:
        messages += parse_labelled(text, writer=Path(name).stem, source=f"{where}/{name}")
    return messages


def parse_labelled(text: str, writer: str, source: str = "<string>") -> List[LabelledMessage]:
    """The messages of one labelled file.

    Args:
        text: The file's YAML text.
        writer: Who wrote the messages (the file's name without .yml).
        source: The file named in error messages.

    Raises:
        LabelledDataError: The YAML is invalid or a message is malformed.
    """
    # The C-based safe loader is quick; a file with a mistake is read again with the
    # round-trip loader, which knows the line of every message, to say where it is.
    try:
        document = YAML(typ="safe").load(text)
        return _messages(document, writer, source)
    except (YAMLError, LabelledDataError):
        pass
    try:
        document = load_with_lines(text, source)
    except ConfigError as error:
        raise LabelledDataError(error.problems) from None
    return _messages(document, writer, source)


def _messages(document: Any, writer: str, source: str) -> List[LabelledMessage]:
    if not isinstance(document, dict) or not isinstance(document.get(MESSAGES_KEY), list):
        raise LabelledDataError.at(
            source,
            line_of(document),
            f"no '{MESSAGES_KEY}' list",
            f"'{MESSAGES_KEY}:' with items of {', '.join(FIELDS)}",
        )
    items = document[MESSAGES_KEY]
    if not items:
        raise LabelledDataError.at(
            source,
            key_line(document, MESSAGES_KEY),
            f"'{MESSAGES_KEY}' is empty",
            "a list of labelled messages",
        )
    result = []
    for index, item in enumerate(items):
        line, message = item_line(items, index), f"message {index + 1}"
        if not isinstance(item, dict):
            raise LabelledDataError.at(
                source, line, f"{message} is not a mapping", ", ".join(FIELDS)
            )
        unknown = sorted(str(key) for key in item if key not in FIELDS)
        if unknown:
            raise LabelledDataError.at(
                source, line, f"{message} has unknown keys {unknown}", ", ".join(FIELDS)
            )
        text, category, frustrated = (item.get(field) for field in FIELDS)
        if not isinstance(text, str) or not text.strip():
            raise LabelledDataError.at(source, line, f"{message}: 'text' is {text!r}", "text")
        if not isinstance(category, str) or not category.strip():
            raise LabelledDataError.at(
                source, line, f"{message}: 'category' is {category!r}", "a word"
            )
        if not isinstance(frustrated, bool):
            raise LabelledDataError.at(
                source, line, f"{message}: 'frustrated' is {frustrated!r}", "true, false"
            )
        result.append(LabelledMessage(text, category.strip(), frustrated, writer))
    return result
