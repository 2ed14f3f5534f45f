"""Content lint: the mistakes `rasa data validate` lets through.

Five checks on the project `read_project` read:

- an intent with too few examples to be learnt (`MIN_EXAMPLES`; the sub-intents of a
  retrieval intent such as `faq/returns` are counted one by one, since the
  ResponseSelector learns each of them);
- an FAQ (retrieval) sub-intent with no answer (`utter_faq/returns` missing);
- an answer the bot can never give: in no story or rule, not an action of the
  domain, not a form's question, not used by a Rasa default action, never named in
  the project's Python code, and for `utter_faq/x` no examples of `faq/x`;
- the same example under two intents, compared without case, spacing or punctuation;
- an FAQ answer without the question its "Did you mean…?" button sends, or with a
  question that is not one of its FAQ's examples (the click would not be understood
  as that question for sure).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from bot.constants import INTENT_FAQ
from bot.content.findings import Finding
from bot.content.project import Example, Project, normalise
from bot.faq_suggestions import QUESTION_KEY

# Fewer examples than this and the model learns the wording, not the meaning.
# Rasa's guidance is 10-15 per intent at the least (and more than 2 to train at all).
MIN_EXAMPLES = 10
RESPONSE_PREFIX = "utter_"
ASK_PREFIX = "utter_ask_"
RETRIEVAL_SEPARATOR = "/"
# Responses Rasa's own actions utter: action_default_fallback, the two-stage
# fallback's rephrase, action_restart, action_back.
RASA_DEFAULT_RESPONSES = frozenset(
    {"utter_default", "utter_ask_rephrase", "utter_restart", "utter_back"}
)
# Where the project's own code lives; bot/content is this checker itself.
CODE_FOLDERS = ("actions", "bot", "connectors")
IGNORED_CODE_FOLDERS = ("bot/content",)


def lint(project: Project) -> List[Finding]:
    """Every content finding of the project, unsorted."""
    findings: List[Finding] = []
    findings += too_few_examples(project)
    findings += unanswered_retrieval_intents(project)
    findings += unused_responses(project, code_references(project.root))
    findings += duplicate_examples(project)
    findings += faq_answer_questions(project)
    return findings


def too_few_examples(project: Project, minimum: int = MIN_EXAMPLES) -> List[Finding]:
    """Intents (and retrieval sub-intents) with some, but fewer than `minimum`, examples.

    An intent with no examples at all is triggered by buttons or code, never typed
    (`handoff_resolved`); `rasa data validate` is the one to mention it.
    """
    counts: Dict[str, int] = {}
    for example in project.examples:
        counts[example.intent] = counts.get(example.intent, 0) + 1
    findings = []
    for intent, count in counts.items():
        if count < minimum:
            where = project.nlu_intents[intent]
            findings.append(
                Finding(
                    where.path,
                    where.line,
                    f"intent '{intent}' has {count} example{'s' if count != 1 else ''}; "
                    f"give it at least {minimum}, worded as customers would",
                )
            )
    return findings


def unanswered_retrieval_intents(project: Project) -> List[Finding]:
    """`faq/x` examples with no `utter_faq/x` answer in the domain (or data/)."""
    findings = []
    for intent, where in project.nlu_intents.items():
        if RETRIEVAL_SEPARATOR in intent and f"{RESPONSE_PREFIX}{intent}" not in project.responses:
            findings.append(
                Finding(
                    where.path,
                    where.line,
                    f"'{intent}' has examples but no answer: add the response "
                    f"'{RESPONSE_PREFIX}{intent}' to domain.yml",
                )
            )
    return findings


def unused_responses(project: Project, code: CodeReferences) -> List[Finding]:
    """Responses the bot can never send."""
    used_actions = {step.name for step in project.story_actions}
    trained_intents = {example.intent for example in project.examples}
    asked_slots = set(project.slots)
    for slots in project.form_slots.values():
        asked_slots.update(slots)
    form_questions = {f"{ASK_PREFIX}{slot}" for slot in asked_slots} | {
        f"{ASK_PREFIX}{form}_{slot}" for form, slots in project.form_slots.items() for slot in slots
    }
    findings = []
    for name, where in project.responses.items():
        if RETRIEVAL_SEPARATOR in name:
            # utter_faq/returns is chosen by the ResponseSelector when faq/returns is recognised.
            intent = name[len(RESPONSE_PREFIX) :] if name.startswith(RESPONSE_PREFIX) else name
            if intent not in trained_intents:
                findings.append(
                    Finding(
                        where.path,
                        where.line,
                        f"answer '{name}' is never given: no examples of '{intent}' in data/nlu",
                    )
                )
            continue
        if (
            name in used_actions
            or name in project.actions
            or name in form_questions
            or name in RASA_DEFAULT_RESPONSES
            or code.mentions(name)
        ):
            continue
        findings.append(
            Finding(
                where.path,
                where.line,
                f"response '{name}' is never used: no story or rule has "
                f"'action: {name}' and no code names it (remove it, or add it to a rule)",
            )
        )
    return findings


def duplicate_examples(project: Project) -> List[Finding]:
    """The same example (ignoring case, spacing, punctuation) under two intents.

    Reported at each later copy, naming the first, so the fix is one line to move or delete.
    """
    first: Dict[str, Example] = {}
    findings = []
    for example in project.examples:
        key = normalise(example.plain_text)
        if not key:
            continue
        seen = first.setdefault(key, example)
        if seen is not example and seen.intent != example.intent:
            findings.append(
                Finding(
                    example.path,
                    example.line,
                    f"example '{example.plain_text}' of intent '{example.intent}' is also an "
                    f"example of '{seen.intent}' ({seen.path}:{seen.line}); keep it under one "
                    "intent",
                )
            )
    return findings


# --- Names in the project's Python code -------------------------------------------------


class CodeReferences:
    """The strings in the project's Python code that may name a response or an intent.

    Exact strings (`UTTER_CSAT_THANKS = "utter_csat_thanks"`) and the fixed start of
    a built name (`f"utter_handoff_{state}"` uses every response starting
    `utter_handoff_`).
    """

    def __init__(self, exact: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        self.exact: Set[str] = set(exact)
        # A bare "utter_" prefix would say nothing: every response starts so.
        self.prefixes: Tuple[str, ...] = tuple(
            sorted(prefix for prefix in set(prefixes) if len(prefix) > len(RESPONSE_PREFIX))
        )

    def mentions(self, name: str) -> bool:
        return name in self.exact or name.startswith(self.prefixes)


def code_references(root: Path) -> CodeReferences:
    """Read the string literals of the Python files under actions/, bot/ and connectors/."""
    exact: Set[str] = set()
    prefixes: Set[str] = set()
    for folder in CODE_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if any(relative.startswith(f"{ignored}/") for ignored in IGNORED_CODE_FOLDERS):
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                continue  # not our business here: the tests and ruff report broken code
            _collect_strings(tree, exact, prefixes)
    return CodeReferences(exact, prefixes)


def _collect_strings(tree: ast.AST, exact: Set[str], prefixes: Set[str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            if parts and isinstance(parts[0], ast.Constant) and isinstance(parts[0].value, str):
                if parts[0].value.startswith(RESPONSE_PREFIX) and len(parts) > 1:
                    prefixes.add(parts[0].value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            # "utter_handoff_" + state
            left = node.left
            if isinstance(left, ast.Constant) and isinstance(left.value, str):
                if left.value.startswith(RESPONSE_PREFIX):
                    prefixes.add(left.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # Every string, not only responses: intents the code triggers count too.
            exact.add(node.value)


def faq_answer_questions(project: Project) -> List[Finding]:
    """FAQ answers whose "Did you mean…?" question is missing or not one of their examples."""
    prefix = f"{RESPONSE_PREFIX}{INTENT_FAQ}{RETRIEVAL_SEPARATOR}"
    examples: Dict[str, Set[str]] = {}
    for example in project.examples:
        examples.setdefault(example.intent, set()).add(normalise(example.plain_text))
    findings = []
    for name, where in project.responses.items():
        if not name.startswith(prefix):
            continue
        intent = name[len(RESPONSE_PREFIX) :]
        question = project.response_questions.get(name)
        if question is None:
            findings.append(
                Finding(
                    where.path,
                    where.line,
                    f"answer '{name}' names no question to suggest when the bot is unsure: "
                    f'add `metadata: {{{QUESTION_KEY}: "..."}}` under its text, worded as a '
                    "customer asks it",
                )
            )
        elif normalise(question.name) not in examples.get(intent, set()):
            findings.append(
                Finding(
                    question.path,
                    question.line,
                    f"the question '{question.name}' of '{name}' is not one of the examples of "
                    f"'{intent}': add it to them in data/nlu, so that choosing it gets this answer",
                )
            )
    return findings
