"""The Rasa project as the content team wrote it, with the line of everything in it.

`read_project(root)` reads domain.yml (or a domain/ folder) and every YAML file
under data/ with ruamel.yaml's round-trip loader, which remembers where each key,
list item and value was written, and returns a `Project`: the intents, responses,
actions, forms and slots of the domain, the questions responses name in their
metadata, the NLU examples, and the intents and
actions the stories and rules use, each with its file and line. A file that is not
valid YAML becomes a `Finding`, so one typo does not hide every other problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from bot.content.findings import Finding
from bot.faq_suggestions import QUESTION_KEY, variation_question
from bot.yaml_source import ConfigError, items_with_lines, key_line, load_with_lines, value_line

DOMAIN_FILE = "domain.yml"
DOMAIN_FOLDER = "domain"
DATA_FOLDER = "data"
CONFIG_FILE = "config.yml"
YAML_SUFFIXES = (".yml", ".yaml")

# Rasa's NLU markup: [text](entity), [text](entity:value), [text]{"entity": ...}, [text][{...}].
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+?)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


class ProjectUnreadable(Exception):
    """The folder is not a Rasa project that can be read at all (no domain, no data)."""


@dataclass(frozen=True)
class Located:
    """A name in a file: an intent, a response, an action used in a story..."""

    name: str
    path: str
    line: int


@dataclass(frozen=True)
class Example:
    """One NLU training example: `text` as written, markup included."""

    intent: str
    text: str
    path: str
    line: int

    @property
    def plain_text(self) -> str:
        """The text a customer would type: entity markup replaced by its words."""
        return _ANNOTATION.sub(lambda match: match.group("text"), self.text)


@dataclass
class Project:
    """Everything `bot check` looks at, each with where it was written."""

    root: Path
    intents: Dict[str, Located] = field(default_factory=dict)
    responses: Dict[str, Located] = field(default_factory=dict)
    # The question a response names in its metadata, by response name; `name` is
    # the question ("Did you mean…?" buttons, bot.faq_suggestions).
    response_questions: Dict[str, Located] = field(default_factory=dict)
    actions: Dict[str, Located] = field(default_factory=dict)
    forms: Dict[str, Located] = field(default_factory=dict)
    slots: Dict[str, Located] = field(default_factory=dict)
    # The slots each form asks for, by form name.
    form_slots: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    examples: List[Example] = field(default_factory=list)
    # Where each intent's examples start (its first `- intent:` line).
    nlu_intents: Dict[str, Located] = field(default_factory=dict)
    # Every `action:` and `intent:` step of the stories and rules.
    story_actions: List[Located] = field(default_factory=list)
    story_intents: List[Located] = field(default_factory=list)
    # Files that are not valid YAML, or not shaped as Rasa expects.
    problems: List[Finding] = field(default_factory=list)


def normalise(text: str) -> str:
    """Text compared for duplicates: lower case, no punctuation, single spaces."""
    return _SPACES.sub(" ", _PUNCTUATION.sub("", text.lower())).strip()


def read_project(root: Path) -> Project:
    """Read the domain and the training data of the Rasa project in `root`.

    Raises:
        ProjectUnreadable: `root` is not a folder, or has no domain or no data folder.
    """
    if not root.is_dir():
        raise ProjectUnreadable(f"{root}: not a folder")
    domain_paths = _domain_paths(root)
    if not domain_paths:
        raise ProjectUnreadable(f"{root}: no {DOMAIN_FILE} (nor a {DOMAIN_FOLDER}/ folder)")
    if not (root / DATA_FOLDER).is_dir():
        raise ProjectUnreadable(f"{root}: no {DATA_FOLDER}/ folder")
    project = Project(root=root)
    for path in domain_paths:
        document = _load(project, path)
        if isinstance(document, Mapping):
            _read_domain(project, _relative(root, path), document)
    for path in yaml_files(root / DATA_FOLDER):
        document = _load(project, path)
        if isinstance(document, Mapping):
            _read_data(project, _relative(root, path), document)
    return project


def yaml_files(folder: Path) -> List[Path]:
    """The YAML files under a folder, at any depth, in a stable order."""
    return sorted(
        path for path in folder.rglob("*") if path.is_file() and path.suffix in YAML_SUFFIXES
    )


def _domain_paths(root: Path) -> List[Path]:
    if (root / DOMAIN_FILE).is_file():
        return [root / DOMAIN_FILE]
    if (root / DOMAIN_FOLDER).is_dir():
        return yaml_files(root / DOMAIN_FOLDER)
    return []


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _load(project: Project, path: Path) -> Any:
    where = _relative(project.root, path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        project.problems.append(Finding(where, 1, f"cannot be read ({error})"))
        return None
    try:
        return load_with_lines(text, where)
    except ConfigError as error:
        project.problems += [
            Finding(problem.path, problem.line or 1, problem.message) for problem in error.problems
        ]
    return None


# --- The domain -----------------------------------------------------------------------


def _read_domain(project: Project, where: str, document: Mapping[str, Any]) -> None:
    for line, item in items_with_lines(document.get("intents")):
        # `- greet` or `- greet: {use_entities: [...]}`
        for name in [item] if isinstance(item, str) else list(item or {}):
            project.intents.setdefault(str(name), Located(str(name), where, line))
    _read_responses(project, where, document)
    for line, item in items_with_lines(document.get("actions")):
        for name in [item] if isinstance(item, str) else list(item or {}):
            project.actions.setdefault(str(name), Located(str(name), where, line))
    slots = document.get("slots")
    if isinstance(slots, Mapping):
        for name in slots:
            project.slots.setdefault(str(name), Located(str(name), where, key_line(slots, name)))
    forms = document.get("forms")
    if isinstance(forms, Mapping):
        for name, spec in forms.items():
            project.forms.setdefault(str(name), Located(str(name), where, key_line(forms, name)))
            required = spec.get("required_slots") if isinstance(spec, Mapping) else None
            # Rasa 3 lists the slots; old domains mapped each slot to its mappings.
            names = list(required or ()) if required is not None else []
            project.form_slots[str(name)] = tuple(str(slot) for slot in names)


def _read_responses(project: Project, where: str, document: Mapping[str, Any]) -> None:
    responses = document.get("responses")
    if isinstance(responses, Mapping):
        for name, variations in responses.items():
            project.responses.setdefault(
                str(name), Located(str(name), where, key_line(responses, name))
            )
            _read_response_question(project, where, str(name), variations)


def _read_response_question(project: Project, where: str, name: str, variations: Any) -> None:
    for _line_number, variation in items_with_lines(variations):
        question = variation_question(variation)
        if question:
            line = key_line(variation["metadata"], QUESTION_KEY)
            project.response_questions.setdefault(name, Located(question, where, line))
            return


# --- Training data ----------------------------------------------------------------------


def _read_data(project: Project, where: str, document: Mapping[str, Any]) -> None:
    _read_responses(project, where, document)
    for line, item in items_with_lines(document.get("nlu")):
        if isinstance(item, Mapping) and "intent" in item:
            _read_intent_examples(project, where, line, item)
    for key in ("stories", "rules"):
        for _line_number, item in items_with_lines(document.get(key)):
            if isinstance(item, Mapping):
                _read_steps(project, where, item.get("steps"))
                # A rule's `condition:` holds no intents or actions that run.


def _read_intent_examples(project: Project, where: str, line: int, item: Mapping[str, Any]) -> None:
    intent = str(item["intent"])
    project.nlu_intents.setdefault(intent, Located(intent, where, line))
    examples = item.get("examples")
    if isinstance(examples, str):
        # A block `examples: |`: its text starts on the line after the key, one
        # example per `- ` line; blank and comment-like lines keep their place.
        first = value_line(item, "examples", default=line) + 1
        for offset, raw in enumerate(examples.split("\n")):
            text = raw.strip()
            if text.startswith("- "):
                project.examples.append(Example(intent, text[2:].strip(), where, first + offset))
    else:
        # The long form: `examples:` as a list of `- text: ...` (with metadata).
        for example_line, entry in items_with_lines(examples):
            written = entry.get("text") if isinstance(entry, Mapping) else entry
            if isinstance(written, str):
                project.examples.append(Example(intent, written.strip(), where, example_line))


def _read_steps(project: Project, where: str, steps: Any) -> None:
    for line, step in items_with_lines(steps):
        if not isinstance(step, Mapping):
            continue
        if "action" in step and step["action"] is not None:
            project.story_actions.append(Located(str(step["action"]), where, line))
        if "intent" in step and step["intent"] is not None:
            project.story_intents.append(Located(str(step["intent"]), where, line))
        if "or" in step:
            _read_steps(project, where, step["or"])
