"""YAML that remembers where each thing was written, for the checkers of files people edit.

escalation.yml, the content project (`bot check`), the sentiment lexicon, the labelled
messages and the frustration sets are read with `load_with_lines`: ruamel.yaml's
round-trip loader, which keeps the line of every key, value and list item. A mistake is
a `ConfigProblem`, printed ``path:line: what is wrong; allowed: what would do``, and a
loader raises them, every one it found, as a `ConfigError` (or a subclass of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence, Tuple, Type, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

# What a file that is not YAML at all should be.
YAML_SYNTAX = "YAML syntax: check indentation, colons, brackets and quotes"

_Error = TypeVar("_Error", bound="ConfigError")


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in a file: where it is, what is wrong and, when said, what is allowed.

    `line` is 1-based; None for a problem of no line (a folder without files).
    """

    path: str
    line: int | None
    what: str
    allowed: str | None = None

    @property
    def message(self) -> str:
        """What is wrong and what is allowed, without the place."""
        return f"{self.what}; allowed: {self.allowed}" if self.allowed else self.what

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(ValueError):
    """Mistakes in a file people edit; `problems` lists them all, `str()` one per line."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: Tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def at(
        cls: Type[_Error], path: str, line: int | None, what: str, allowed: str | None = None
    ) -> _Error:
        """The error of one problem: ``path:line: what; allowed: allowed``."""
        return cls([ConfigProblem(path, line, what, allowed)])


def load_with_lines(text: str, path: str) -> Any:
    """The YAML document of `text`, its mappings and lists knowing their lines.

    Args:
        text: The file's text.
        path: The file as error messages name it.

    Raises:
        ConfigError: `text` is not valid YAML; the line is where the parser stopped.
    """
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        raise ConfigError.at(path, line, f"not valid YAML: {problem}", YAML_SYNTAX) from None
    except YAMLError as error:
        raise ConfigError.at(path, 1, f"not valid YAML: {error}", YAML_SYNTAX) from None


def line_of(node: Any, default: int = 1) -> int:
    """The 1-based line where a mapping or list starts; `default` for a value of no line."""
    position = getattr(node, "lc", None)
    if position is None or position.line is None:
        return default
    return int(position.line) + 1


def key_line(mapping: Any, key: Any, default: int | None = None) -> int:
    """The line of a mapping's key; else `default`, or where the mapping starts."""
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return line_of(mapping) if default is None else default


def value_line(mapping: Any, key: Any, default: int | None = None) -> int:
    """The line of the value of a mapping's key (a value may start below its key); else as
    `key_line`."""
    try:
        return int(mapping.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return key_line(mapping, key, default)


def item_line(sequence: Any, index: int, default: int | None = None) -> int:
    """The line of a list's item; else `default`, or where the list starts."""
    try:
        return int(sequence.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return line_of(sequence) if default is None else default


def entry_line(node: Any, key: Any) -> int:
    """The line of a mapping's key or of a list's item, whichever `node` is."""
    return key_line(node, key) if isinstance(node, dict) else item_line(node, key)


def items_with_lines(sequence: Any) -> Iterator[Tuple[int, Any]]:
    """(line, item) of each entry of a YAML list; nothing when it is not a list."""
    if isinstance(sequence, Sequence) and not isinstance(sequence, str):
        for index, item in enumerate(sequence):
            yield item_line(sequence, index), item
