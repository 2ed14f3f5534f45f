"""`bot check` on the real project (clean) and on a copy with one mistake of each kind planted.

`rasa data validate` takes about 10 s, so it runs once per project (module-scoped
fixtures); the other tests read those runs again through `check_project(rasa=...)`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from bot.cli import main
from bot.content.check import (
    EXIT_FINDINGS,
    EXIT_UNREADABLE,
    CheckResult,
    check_and_print,
    check_project,
    escalation_findings,
)
from bot.content.findings import Finding
from bot.content.lint import MIN_EXAMPLES
from bot.content.project import read_project
from bot.content.rasa_validate import RasaRun
from bot.settings import PROJECT_ROOT
from tests.content.helpers import append, copy_project, line_of, replace_once

# Its module fixtures run Rasa over a copy of the project (about 10 s each): one worker
# computes them once, instead of each xdist worker computing its own.
pytestmark = pytest.mark.xdist_group("content_check")

NO_RASA = RasaRun(returncode=0, output="", seconds=0.0)

PARKING_EXAMPLES = [
    "is there parking at the leeds store",
    "where can I park near your shop",
    "does the store have a car park",
    "parking near brightwave manchester",
    "can I park outside the shop",
    "is parking free at your stores",
    "disabled parking at the shop?",
    "how far is the nearest car park from the store",
    "do you validate parking tickets",
    "bike racks at the store",
]
GIFT_CARD_EXAMPLES = [
    "do you sell gift cards",
    "can I buy a gift card for my son",
    "how do I use a gift card online",
    "where can I get a brightwave gift card",
    "can gift cards be used in store",
    "do gift cards expire",
    "how do i check my gift card balance",
    "can I pay for a phone with a gift card",
    "gift card help",
    "is there a gift voucher I can buy",
]


def _plant(root: Path) -> Dict[str, Tuple[str, int]]:
    """One mistake of each kind; returns where each is, as `bot check` should report it."""
    where: Dict[str, Tuple[str, int]] = {}
    domain = root / "domain.yml"
    replace_once(
        domain,
        "  - ask_ticket_status\n",
        "  - ask_ticket_status\n  - ask_student_discount\n  - ask_loyalty_points\n",
    )
    replace_once(
        domain,
        "responses:\n",
        "responses:\n"
        '  utter_never_said:\n    - text: "Nobody ever says this."\n\n'
        '  utter_faq/gift_vouchers:\n    - text: "Gift vouchers are sold in our stores."\n\n',
    )
    where["orphan_intent"] = ("domain.yml", line_of(domain, "  - ask_loyalty_points"))
    where["unused_response"] = ("domain.yml", line_of(domain, "utter_never_said:"))
    where["answer_without_examples"] = ("domain.yml", line_of(domain, "utter_faq/gift_vouchers:"))
    replace_once(
        domain,
        'question: "How do I return something?"',
        'question: "Can I swap it for another colour?"',
    )
    where["question_not_an_example"] = (
        "domain.yml",
        line_of(domain, "Can I swap it for another colour?"),
    )

    basics = root / "data" / "nlu" / "basics.yml"
    parking = "".join(f"    - {text}\n" for text in PARKING_EXAMPLES)
    append(
        basics,
        "\n- intent: ask_store_parking\n  examples: |\n"
        + parking
        # Greet has "Hello there!" and "good morning": one differs only in punctuation.
        + "    - Hello there!!\n    - good morning\n"
        "\n- intent: ask_student_discount\n  examples: |\n"
        "    - is there a student discount\n    - student deals\n    - discount for students?\n",
    )
    where["intent_not_in_domain"] = (
        "data/nlu/basics.yml",
        line_of(basics, "- intent: ask_store_parking"),
    )
    parking_line = where["intent_not_in_domain"][1]
    where["near_duplicate"] = (
        "data/nlu/basics.yml",
        line_of(basics, "- Hello there!!", after=parking_line),
    )
    where["exact_duplicate"] = (
        "data/nlu/basics.yml",
        line_of(basics, "- good morning", after=parking_line),
    )
    where["few_examples"] = (
        "data/nlu/basics.yml",
        line_of(basics, "- intent: ask_student_discount"),
    )

    faq = root / "data" / "nlu" / "faq.yml"
    append(
        faq,
        "\n- intent: faq/gift_cards\n  examples: |\n"
        + "".join(f"    - {t}\n" for t in GIFT_CARD_EXAMPLES),
    )
    where["unanswered_faq"] = ("data/nlu/faq.yml", line_of(faq, "- intent: faq/gift_cards"))

    rules = root / "data" / "rules" / "basics.yml"
    append(
        rules,
        "\n  - rule: Student discount\n    steps:\n      - intent: ask_student_discount\n"
        "      - action: utter_anything_else\n"
        "\n  - rule: A goodbye with an answer nobody wrote\n    steps:\n      - intent: goodbye\n"
        "      - action: utter_see_you_soon\n",
    )
    where["missing_response"] = (
        "data/rules/basics.yml",
        line_of(rules, "- action: utter_see_you_soon"),
    )

    stories = root / "data" / "stories" / "planted.yml"
    stories.write_text(
        'version: "3.1"\n\nstories:\n'
        "  - story: Planted thanks one\n    steps:\n      - intent: thank\n"
        "      - action: utter_you_are_welcome\n"
        "  - story: Planted thanks two\n    steps:\n      - intent: thank\n"
        "      - action: utter_goodbye\n",
        encoding="utf-8",
    )
    where["story_conflict"] = (
        "data/stories/planted.yml",
        line_of(stories, "- story: Planted thanks"),
    )

    escalation = root / "escalation.yml"
    replace_once(escalation, '      tuesday: "08:00-20:00"', '      tusday: "08:00-20:00"')
    where["escalation_typo"] = ("escalation.yml", line_of(escalation, "tusday"))
    return where


@pytest.fixture(scope="module")
def broken(
    tmp_path_factory: pytest.TempPathFactory,
) -> Tuple[Path, Dict[str, Tuple[str, int]], CheckResult]:
    root = copy_project(tmp_path_factory.mktemp("broken") / "project")
    where = _plant(root)
    return root, where, check_project(root)


@pytest.fixture(scope="module")
def real_project() -> CheckResult:
    return check_project(PROJECT_ROOT)


def test_the_real_project_is_clean(real_project: CheckResult) -> None:
    assert real_project.rasa.returncode == 0, real_project.rasa.output[-2000:]
    assert [str(finding) for finding in real_project.findings] == []
    assert real_project.exit_code == 0


# Each planted mistake: what the message says about it.
EXPECTED: List[Tuple[str, str]] = [
    (
        "orphan_intent",
        "The intent 'ask_loyalty_points' is listed in the domain file, but is not found in the NLU",
    ),
    ("orphan_intent", "The intent 'ask_loyalty_points' is not used in any story or rule"),
    ("unused_response", "response 'utter_never_said' is never used"),
    (
        "answer_without_examples",
        "answer 'utter_faq/gift_vouchers' is never given: no examples of 'faq/gift_vouchers'",
    ),
    ("answer_without_examples", "answer 'utter_faq/gift_vouchers' names no question to suggest"),
    (
        "question_not_an_example",
        "the question 'Can I swap it for another colour?' of 'utter_faq/returns' is not one of "
        "the examples of 'faq/returns'",
    ),
    (
        "intent_not_in_domain",
        "labeled with intent 'ask_store_parking'. This intent is not listed in your domain",
    ),
    (
        "near_duplicate",
        "example 'Hello there!!' of intent 'ask_store_parking' is also an example of 'greet'",
    ),
    (
        "exact_duplicate",
        "example 'good morning' of intent 'ask_store_parking' is also an example of 'greet'",
    ),
    (
        "few_examples",
        f"intent 'ask_student_discount' has 3 examples; give it at least {MIN_EXAMPLES}",
    ),
    (
        "unanswered_faq",
        "'faq/gift_cards' has examples but no answer: add the response 'utter_faq/gift_cards'",
    ),
    (
        "missing_response",
        "The action 'utter_see_you_soon' is used in the stories, but is not a valid utterance "
        "action",
    ),
    ("story_conflict", "Story structure conflict after intent 'thank'"),
    ("escalation_typo", "unknown weekday 'tusday'"),
]


@pytest.mark.parametrize(
    ("mistake", "says"), EXPECTED, ids=[f"{m}-{i}" for i, (m, _) in enumerate(EXPECTED)]
)
def test_each_planted_mistake_is_reported_at_its_line(broken, mistake: str, says: str) -> None:
    _root, where, result = broken
    path, line = where[mistake]
    at_line = [
        finding.message
        for finding in result.findings
        if (finding.path, finding.line) == (path, line)
    ]
    assert any(says in message for message in at_line), (
        f"nothing at {path}:{line} says {says!r}; there: {at_line}; all:\n"
        + "\n".join(map(str, result.findings))
    )


def test_nothing_but_the_planted_mistakes_is_reported(broken) -> None:
    _root, where, result = broken
    expected = {where[mistake] for mistake, _ in EXPECTED}
    # The story conflict names both stories; it is reported once, at the first.
    unexpected = [str(f) for f in result.findings if (f.path, f.line) not in expected]
    assert unexpected == []
    assert len(result.findings) == len(EXPECTED)
    assert result.exit_code == EXIT_FINDINGS


@pytest.mark.parametrize(
    "name",
    # Sent by actions through bot/constants.py, asked by forms, Rasa's own default,
    # and an intent only the desk triggers: none of them is a mistake.
    [
        "utter_handoff_queued",
        "utter_ask_case_category",
        "utter_ask_csat_comment",
        "utter_default",
        "handoff_resolved",
    ],
)
def test_names_used_by_code_forms_and_rasa_are_not_reported(broken, name: str) -> None:
    _root, _where, result = broken
    assert [str(f) for f in result.findings if f"'{name}'" in f.message] == []


def test_the_output_is_sorted_lines_then_a_summary_and_exit_1(broken) -> None:
    root, _where, result = broken
    out, err = io.StringIO(), io.StringIO()
    code = check_and_print(root, out, err, rasa=result.rasa)
    lines = out.getvalue().splitlines()
    assert code == EXIT_FINDINGS
    assert lines[:-1] == [str(finding) for finding in result.findings]
    assert lines[:-1] == [str(f) for f in sorted(result.findings)]
    assert all(line.split(":")[1].isdigit() for line in lines[:-1])
    assert lines[-1].startswith(f"bot check: {len(EXPECTED)} problems in 6 files")
    assert err.getvalue() == ""


def test_a_response_only_code_sends_is_unused_once_the_code_stops_naming_it(
    broken, tmp_path: Path
) -> None:
    root = copy_project(tmp_path / "project")
    constants = root / "bot" / "constants.py"
    replace_once(
        constants, 'UTTER_HANDOFF_FAILED = "utter_handoff_failed"', 'UTTER_HANDOFF_FAILED = "x"'
    )
    findings = check_project(root, rasa=NO_RASA).findings
    assert [str(f) for f in findings] == [
        f"domain.yml:{line_of(root / 'domain.yml', 'utter_handoff_failed:')}: response "
        "'utter_handoff_failed' is never used: no story or rule has 'action: utter_handoff_failed' "
        "and no code names it (remove it, or add it to a rule)"
    ]


def test_a_response_built_from_a_prefix_in_code_counts_as_used(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    constants = root / "bot" / "constants.py"
    replace_once(
        constants,
        'UTTER_HANDOFF_FAILED = "utter_handoff_failed"',
        'UTTER_HANDOFF_FAILED = f"utter_handoff_{1}"',
    )
    assert check_project(root, rasa=NO_RASA).findings == []


def test_a_priority_rule_naming_an_unknown_intent_is_reported(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    escalation = root / "escalation.yml"
    replace_once(
        escalation,
        "  # An example using intents (uncomment to use):\n",
        "  - name: cancellation_threat\n    intents: [report_problem, faq/cancel_contract, "
        "cancel_contract]\n    set: P2\n",
    )
    line = line_of(escalation, "intents: [report_problem")
    assert escalation_findings(read_project(root)) == [
        Finding(
            "escalation.yml",
            line,
            "priority rule 'cancellation_threat' names intent 'cancel_contract', which is not an "
            "intent of domain.yml; allowed: an intent of domain.yml",
        )
    ]


def test_a_file_that_is_not_yaml_is_reported_at_its_line(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    (root / "data" / "nlu" / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - x: [\n',
        encoding="utf-8",
    )
    rasa_said = (
        "\x1b[91mYamlSyntaxException: Failed to read 'data/nlu/extra.yml'. while parsing a block "
        "mapping\n"
        '  in "data/nlu/extra.yml", line 3, column 3:\n'
        "expected <block end>, but found '-'\n"
        '  in "data/nlu/extra.yml", line 6, column 3:\n\x1b[0m'
    )
    findings = check_project(root, rasa=RasaRun(1, rasa_said, 1.0)).findings
    assert [(f.path, f.line) for f in findings] == [("data/nlu/extra.yml", 6)]
    assert findings[0].message.startswith("not valid YAML")


def test_rasa_schema_errors_become_findings_with_their_lines(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    rasa_said = (
        "\x1b[91mYamlValidationException: Failed to validate 'data/nlu/extra.yml'. Please make "
        "sure "
        "the file is correct. Here are the errors found during validation:\n"
        "  in data/nlu/extra.yml:3:\n      Key 'exampels' was not defined. Path: '/nlu/0'\n\x1b[0m"
    )
    findings = check_project(root, rasa=RasaRun(1, rasa_said, 1.0)).findings
    assert [str(f) for f in findings] == [
        "data/nlu/extra.yml:3: Key 'exampels' was not defined. Path: '/nlu/0'"
    ]


def test_a_failed_rasa_run_is_never_clean(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    findings = check_project(
        root, rasa=RasaRun(1, "Traceback ...\nSomething odd happened\n", 1.0)
    ).findings
    assert len(findings) == 1
    assert "rasa data validate failed (exit 1)" in findings[0].message
    assert "Something odd happened" in findings[0].message


@pytest.mark.parametrize("missing", ["folder", "domain", "data"])
def test_a_folder_that_is_no_project_exits_2(tmp_path: Path, missing: str, capsys) -> None:
    root = tmp_path / "project"
    if missing != "folder":
        copy_project(root)
        target = root / ("domain.yml" if missing == "domain" else "data")
        if target.is_dir():
            import shutil

            shutil.rmtree(target)
        else:
            target.unlink()
    assert main(["check", "--project", str(root)]) == EXIT_UNREADABLE
    assert "bot check:" in capsys.readouterr().err


def test_a_rasa_failure_the_lint_explains_adds_no_vague_finding(tmp_path: Path) -> None:
    # Rasa fails on an exact duplicate; `bot check` leaves its warning out and reports the lint's.
    root = copy_project(tmp_path / "project")
    basics = root / "data" / "nlu" / "basics.yml"
    replace_once(basics, "    - hiya\n", "    - hiya\n    - when will my order arrive\n")
    rasa_said = (
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The example 'when will my order "
        "arrive' was found "
        "labeled with multiple different intents in the training data. Each annotated message "
        "should "
        "only appear with one intent. You should fix that conflict The example is labeled with: "
        "ask_order_status, greet.\n\x1b[0m\x1b[91mProject validation completed with "
        "errors.\x1b[0m\n"
    )
    findings = check_project(root, rasa=RasaRun(1, rasa_said, 1.0)).findings
    # account.yml is read before basics.yml: the copy under greet is the later one.
    assert [str(f) for f in findings] == [
        f"data/nlu/basics.yml:{line_of(basics, '- when will my order arrive')}: example 'when "
        "will my "
        "order arrive' of intent 'greet' is also an example of 'ask_order_status' "
        "(data/nlu/account.yml:"
        f"{line_of(root / 'data' / 'nlu' / 'account.yml', '- when will my order arrive')}); keep "
        "it under one intent"
    ]


def test_warnings_about_the_machine_are_not_findings(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    rasa_said = (
        "2026-11-27 23:44:47 WARNING  rasa.utils.common  - Limiting the number of threads to 2\n"
        "2026-11-27 23:44:47 WARNING  tensorflow  - No GPU found\n"
        "2026-11-27 23:44:47 INFO     rasa.validator  - Validating intents...\n"
    )
    assert check_project(root, rasa=RasaRun(0, rasa_said, 1.0)).findings == []
