"""A finding: one mistake in the content, where it is, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, printed as ``path:line: message``.

    `path` is relative to the project folder (``data/nlu/faq.yml``), with forward
    slashes on every system, so the output reads the same for everyone. The field
    order is the sort order: by file, then line, then message.
    """

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def sorted_findings(findings: Iterable[Finding]) -> List[Finding]:
    """The findings by file and line, each reported once."""
    return sorted(set(findings))


def summary(findings: List[Finding]) -> str:
    """The one-line verdict printed after the findings."""
    if not findings:
        return "bot check: no problems found"
    files = len({finding.path for finding in findings})
    noun = "problem" if len(findings) == 1 else "problems"
    where = "1 file" if files == 1 else f"{files} files"
    return f"bot check: {len(findings)} {noun} in {where}"
