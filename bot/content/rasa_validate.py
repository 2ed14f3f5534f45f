"""`rasa data validate`, run on a project, its messages turned into findings with a line.

Rasa prints its warnings as Python warnings (``.../rasa/shared/utils/io.py:100:
UserWarning: The intent 'x' ...``), its story conflicts as log lines, and a broken
file as an exception naming the file and line. Most messages name no line, but
they name an intent, a response, an action, a form or a story: `locate` looks it
up in the project that `read_project` read, and points at where it is written.

Three of Rasa's warnings are left out because `bot check` says the same better, or
because they are not mistakes (and Rasa itself does not fail on them):

- "The utterance 'x' is not used in any story or rule": Rasa does not see the
  responses our actions send; the content lint checks that with the code in view.
- "The example 'x' was found labeled with multiple different intents": the lint
  finds these too, also when only case or punctuation differ, with both lines.
- "duplicated intents ... across multiple domain files: faq, chitchat": Rasa adds a
  retrieval intent to the domain again from its answers; only retrieval intents
  named this way are left out.

"The intent 'x' is listed in the domain file, but is not found in the NLU training
data" is left out only for an intent the project's code names, since code triggers
those (`handoff_resolved`); for any other intent it is a finding.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Tuple

from bot.content.findings import Finding
from bot.content.project import CONFIG_FILE, DATA_FOLDER, DOMAIN_FILE, Located, Project, yaml_files

# Rasa loads TensorFlow to validate: a cold run takes about 10 s on 2 cores.
VALIDATE_TIMEOUT_SECONDS = 600

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# /…/rasa/shared/utils/io.py:100: UserWarning: message
_RASA_WARNING = re.compile(r"^.*rasa/shared/utils/io\.py:\d+: (?:\w+Warning): (?P<message>.*)$")
_LOG_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (?P<level>[A-Z]+)\s+(?P<logger>\S+)\s+- (?P<message>.*)$"
)
_EXCEPTION = re.compile(r"^(?P<kind>[A-Z]\w*(?:Exception|Error)): (?P<message>.*)$")
_VALIDATION_WHERE = re.compile(r"^\s*in (?P<path>.+?):(?P<line>\d+):\s*$")
_LINE_MENTION = re.compile(r"line:? (\d+)")
_QUOTED = re.compile(r"'([^']+)'")
_DOCS_LINE = re.compile(r"^\s*More info at ")
_CONTENT_LOGGERS = ("rasa.validator", "rasa.core.training", "rasa.shared.core", "rasa.shared.nlu")

_UNUSED_UTTERANCE = "is not used in any story or rule."
_MULTIPLE_INTENTS = "was found labeled with multiple different intents"
_DUPLICATED_DOMAIN_INTENTS = "duplicated intents have been found across multiple domain files:"
_NOT_IN_NLU = "is listed in the domain file, but is not found in the NLU training data"


class RasaUnavailable(Exception):
    """`rasa` could not be run at all."""


@dataclass(frozen=True)
class RasaRun:
    """What one `rasa data validate` printed, and how long it took."""

    returncode: int
    output: str
    seconds: float


def run_rasa_validate(project_root: Path) -> RasaRun:
    """Run `rasa data validate --fail-on-warnings` in the project folder.

    The `rasa` beside the running Python is used (the project's virtual env), else
    the one on PATH.

    Raises:
        RasaUnavailable: no `rasa` to run, or it did not finish in time.
    """
    beside = Path(sys.executable).with_name("rasa")
    rasa = str(beside) if beside.exists() else "rasa"
    command = [
        rasa,
        "data",
        "validate",
        "--domain",
        DOMAIN_FILE if (project_root / DOMAIN_FILE).exists() else "domain",
        "--data",
        DATA_FOLDER,
        "--config",
        CONFIG_FILE,
        "--fail-on-warnings",
    ]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    started = time.monotonic()
    try:
        completed = subprocess.run(  # noqa: S603 — the venv's rasa (else PATH's) with fixed arguments, no outside input
            command,
            cwd=project_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=VALIDATE_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as error:
        raise RasaUnavailable(
            f"cannot run rasa ({error.strerror}): is the virtual env active?"
        ) from None
    except subprocess.TimeoutExpired:
        raise RasaUnavailable(
            f"rasa data validate did not finish in {VALIDATE_TIMEOUT_SECONDS} s"
        ) from None
    return RasaRun(completed.returncode, completed.stdout, time.monotonic() - started)


# --- Reading the output -----------------------------------------------------------------


@dataclass(frozen=True)
class RasaMessage:
    """One warning, conflict or error, its lines joined."""

    kind: str  # "warning", "conflict", "error"
    text: str


def parse_output(output: str) -> List[RasaMessage]:
    """The warnings, story conflicts and errors in what `rasa data validate` printed."""
    messages: List[RasaMessage] = []
    current: List[str] | None = None
    kind = ""

    def close() -> None:
        nonlocal current
        if current is not None:
            messages.append(RasaMessage(kind, "\n".join(current).strip()))
        current = None

    for raw in _ANSI.sub("", output).replace("\r", "\n").split("\n"):
        warning = _RASA_WARNING.match(raw)
        log = _LOG_LINE.match(raw)
        error = _EXCEPTION.match(raw)
        if warning:
            close()
            kind, current = "warning", [warning.group("message")]
        elif log:
            close()
            level, source = log.group("level"), log.group("logger")
            if level in ("ERROR", "CRITICAL") and source.startswith("rasa"):
                kind, current = "error", [log.group("message")]
            elif level == "WARNING" and source.startswith(_CONTENT_LOGGERS):
                # Story conflicts, and the warnings of Rasa's data readers. Other loggers
                # warn about the machine (threads, GPUs), not about the content.
                kind = "conflict" if "Story structure" in raw else "warning"
                current = [log.group("message")]
        elif error:
            close()
            kind, current = "error", [f"{error.group('kind')}: {error.group('message')}"]
        elif current is not None:
            if not raw.strip() or _DOCS_LINE.match(raw):
                if kind != "error":
                    close()
                continue
            if kind == "warning" and not raw.startswith(" "):
                # A Python warning's source line or another program's output.
                close()
                continue
            current.append(raw.rstrip())
    close()
    return messages


def findings_from_output(
    output: str, project: Project, code_mentions: Callable[[str], bool]
) -> List[Finding]:
    """Findings, with lines, for what Rasa printed; `code_mentions(name)` says code uses a name."""
    retrieval = {name.split("/", 1)[0] for name in project.nlu_intents if "/" in name}
    findings: List[Finding] = []
    for message in parse_output(output):
        text = message.text
        if _UNUSED_UTTERANCE in text and text.startswith("The utterance"):
            continue
        if _MULTIPLE_INTENTS in text:
            continue
        if _DUPLICATED_DOMAIN_INTENTS in text:
            named = {name.strip() for name in text.split(":", 1)[1].split("\n")[0].split(",")}
            if named <= retrieval:
                continue
        if _NOT_IN_NLU in text:
            names = _QUOTED.findall(text)
            if names and code_mentions(names[0]):
                continue
        if message.kind == "error" and text.startswith("YamlValidationException"):
            findings += _validation_errors(text, project)
            continue
        if message.kind == "error" and text.startswith("YamlSyntaxException"):
            path, line = _syntax_error_place(text, project)
            if any(problem.path == path for problem in project.problems):
                continue  # the YAML reader of `bot check` reported it with its line
            findings.append(Finding(path, line, _one_line(text)))
            continue
        path, line = locate(text, project)
        findings.append(Finding(path, line, _one_line(text)))
    return findings


def _one_line(text: str) -> str:
    joined = ""
    for line in (line.strip() for line in text.splitlines()):
        if line:
            joined += (" " if not joined or joined.endswith(":") else "; ") + line
    return joined.strip()


def _validation_errors(text: str, project: Project) -> List[Finding]:
    """`in data/nlu/x.yml:3:` followed by what is wrong there, for each error."""
    findings = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        where = _VALIDATION_WHERE.match(line)
        if where and index + 1 < len(lines):
            what = lines[index + 1].strip()
            findings.append(
                Finding(_project_path(where.group("path"), project), int(where.group("line")), what)
            )
    if not findings:
        path, line_number = locate(text, project)
        findings.append(Finding(path, line_number, _one_line(text)))
    return findings


def _syntax_error_place(text: str, project: Project) -> Tuple[str, int]:
    quoted = [name for name in _QUOTED.findall(text) if name.endswith((".yml", ".yaml"))]
    path = _project_path(quoted[0], project) if quoted else DOMAIN_FILE
    mentions = _LINE_MENTION.findall(text)
    return path, int(mentions[-1]) if mentions else 1


def _project_path(path: str, project: Project) -> str:
    """A path Rasa printed (relative to the project, or absolute), relative to the project."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(project.root).as_posix()
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()


# --- Finding the line a message is about ------------------------------------------------


def locate(text: str, project: Project) -> Tuple[str, int]:
    """The file and line a Rasa message is about, from the names it quotes."""
    names = _QUOTED.findall(text)
    first = names[0] if names else ""
    if text.startswith("The intent") and "listed in the domain file" in text:
        return _place(project.intents.get(first))
    if "labeled with intent" in text:
        return _place(project.nlu_intents.get(first))
    if text.startswith("The intent") and "used in your stories" in text:
        return _place(_first(project.story_intents, first))
    if text.startswith("The intent") and "not used in any story or rule" in text:
        return _place(project.intents.get(first))
    if text.startswith("The action") and "used in the stories" in text:
        return _place(_first(project.story_actions, first))
    if text.startswith("The form slot"):
        form = names[1] if len(names) > 1 else first
        return _place(project.forms.get(form))
    if text.startswith("Slot "):
        return _place(project.slots.get(first))
    if text.startswith("The config file"):
        return CONFIG_FILE, 1
    if text.startswith("Story structure conflict"):
        # "utter_a predicted in 'story one'": the first story named is where to look.
        for name in names[1:] + names[:1]:
            found = _search(project, name, quoted_block=True)
            if found:
                return found
    for name in names:
        located = (
            project.intents.get(name)
            or project.responses.get(name)
            or project.actions.get(name)
            or project.forms.get(name)
            or project.slots.get(name)
            or project.nlu_intents.get(name)
            or _first(project.story_actions, name)
            or _first(project.story_intents, name)
        )
        if located:
            return _place(located)
        found = _search(project, name)
        if found:
            return found
    return DOMAIN_FILE, 1


def _first(items: Iterable[Located], name: str) -> Located | None:
    return next((item for item in items if item.name == name), None)


def _place(located: Located | None) -> Tuple[str, int]:
    return (located.path, located.line) if located else (DOMAIN_FILE, 1)


def _search(project: Project, name: str, quoted_block: bool = False) -> Tuple[str, int] | None:
    """The first line of the domain or data files where `name` is written."""
    pattern = (
        re.compile(r"-\s*(?:story|rule):\s*['\"]?" + re.escape(name) + r"['\"]?\s*$")
        if quoted_block
        else re.compile(r"(?<![\w/])" + re.escape(name) + r"(?![\w/])")
    )
    candidates: Sequence[Path] = [
        path for path in [project.root / DOMAIN_FILE] if path.exists()
    ] + yaml_files(project.root / DATA_FOLDER)
    for path in candidates:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                return path.relative_to(project.root).as_posix(), number
    return None
