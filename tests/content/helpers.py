"""Copies of the real Rasa project to plant mistakes in, and where each one was planted."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import PROJECT_ROOT

# What `bot check` reads: the Rasa project, the policy, and the code naming responses.
PROJECT_FILES = ("domain.yml", "config.yml", "escalation.yml")
PROJECT_FOLDERS = ("data", "actions")


def copy_project(target: Path) -> Path:
    """The real project's content under `target` (bot/constants.py too: actions send its names)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy(PROJECT_ROOT / name, target / name)
    for name in PROJECT_FOLDERS:
        shutil.copytree(
            PROJECT_ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    (target / "bot").mkdir()
    shutil.copy(PROJECT_ROOT / "bot" / "constants.py", target / "bot" / "constants.py")
    return target


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line after line `after` that contains `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number > after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
