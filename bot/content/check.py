"""`bot check`: every mistake in the content, as ``path:line: message``, in one run.

Three parts, all run whatever the others find:

1. `rasa data validate --fail-on-warnings` on the project (bot/content/rasa_validate.py),
   its messages given the line they are about;
2. escalation.yml, through the loader the product itself starts with
   (bot/escalation/policy.py), plus the intents its priority rules name, which must
   be intents of the domain;
3. the content lint (bot/content/lint.py).

Exit status: 0 when nothing was found, 1 when something was, 2 when the project
cannot be read at all (no domain, no data folder, no `rasa` to run).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Sequence, TextIO

from bot.content.findings import Finding, sorted_findings, summary
from bot.content.lint import code_references, lint
from bot.content.project import Project, ProjectUnreadable, read_project
from bot.content.rasa_validate import (
    RasaRun,
    RasaUnavailable,
    findings_from_output,
    parse_output,
    run_rasa_validate,
)
from bot.escalation.policy import EscalationConfigError, load_policy
from bot.yaml_source import ConfigError, item_line, line_of, load_with_lines

ESCALATION_FILE = "escalation.yml"
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2
# Lines of Rasa's output shown when it failed and said nothing `bot check` could read.
RASA_TAIL_LINES = 5


@dataclass(frozen=True)
class CheckResult:
    """The sorted findings of a project and the `rasa data validate` run behind them."""

    findings: List[Finding]
    rasa: RasaRun

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.findings else EXIT_CLEAN


def run_check(project: Path) -> int:
    """`bot check [--project DIR]`: print the findings and a summary; the exit status."""
    return check_and_print(project, sys.stdout, sys.stderr)


def check_and_print(project: Path, out: TextIO, err: TextIO, rasa: RasaRun | None = None) -> int:
    """`run_check` with its streams (and, in tests, an earlier Rasa run) given."""
    try:
        result = check_project(project, rasa)
    except (ProjectUnreadable, RasaUnavailable) as problem:
        print(f"bot check: {problem}", file=err)
        return EXIT_UNREADABLE
    for finding in result.findings:
        print(finding, file=out)
    print(
        f"{summary(result.findings)} (rasa data validate took {result.rasa.seconds:.1f} s)",
        file=out,
    )
    return result.exit_code


def check_project(root: Path, rasa: RasaRun | None = None) -> CheckResult:
    """Check the project in `root`.

    Args:
        root: The project folder (domain.yml, config.yml, data/, escalation.yml).
        rasa: An earlier `rasa data validate` run of the same files, so tests can read
            its output more than once; run now when not given.

    Raises:
        ProjectUnreadable: not a project.
        RasaUnavailable: `rasa` cannot be run.
    """
    root = root.resolve()
    project = read_project(root)
    if rasa is None:
        rasa = run_rasa_validate(root)
    code = code_references(root)
    findings: List[Finding] = list(project.problems)
    from_rasa = findings_from_output(rasa.output, project, code.mentions)
    if rasa.returncode != 0 and not parse_output(rasa.output) and not project.problems:
        # Rasa failed and said nothing we could read: show its last words.
        tail = [line for line in rasa.output.strip().splitlines() if line.strip()]
        said = " / ".join(tail[-RASA_TAIL_LINES:]) or "no output"
        from_rasa.append(
            Finding("config.yml", 1, f"rasa data validate failed (exit {rasa.returncode}): {said}")
        )
    findings += from_rasa
    findings += escalation_findings(project)
    findings += lint(project)
    return CheckResult(sorted_findings(findings), rasa)


def escalation_findings(project: Project) -> List[Finding]:
    """The mistakes in escalation.yml, and the priority-rule intents the domain lacks."""
    path = project.root / ESCALATION_FILE
    if not path.exists():
        return []  # the product then runs on its built-in policy; nothing to check
    try:
        load_policy(path)
    except EscalationConfigError as error:
        return [
            Finding(ESCALATION_FILE, problem.line or 1, problem.message)
            for problem in error.problems
        ]
    return unknown_rule_intents(path, project)


def unknown_rule_intents(path: Path, project: Project) -> List[Finding]:
    """Priority rules of escalation.yml that name an intent the bot cannot recognise."""
    try:
        document = load_with_lines(path.read_text(encoding="utf-8"), ESCALATION_FILE)
    except (OSError, UnicodeDecodeError, ConfigError):
        return []  # load_policy read it a moment ago; a race with an editor is not ours
    rules = document.get("priority_rules") if isinstance(document, Mapping) else None
    known = set(project.intents) | set(project.nlu_intents)
    findings = []
    for rule in rules if isinstance(rules, Sequence) else ():
        intents = rule.get("intents") if isinstance(rule, Mapping) else None
        if isinstance(intents, str) or not isinstance(intents, Sequence):
            intents = [intents] if isinstance(intents, str) else []
        for index, intent in enumerate(intents):
            if str(intent) in known:
                continue
            line = item_line(intents, index, default=line_of(rule))
            findings.append(
                Finding(
                    ESCALATION_FILE,
                    line,
                    f"priority rule {rule.get('name')!r} names intent {str(intent)!r}, "
                    "which is not an intent of domain.yml; allowed: an intent of domain.yml",
                )
            )
    return findings
