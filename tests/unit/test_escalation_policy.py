"""escalation.yml is checked as a whole: the shipped file loads, and every mistake is named
with its line and what would be allowed instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.escalation.policy import (
    EscalationConfigError,
    TimeRange,
    load_policy,
    parse_duration,
    parse_time_range,
)
from bot.escalation.types import PRIORITIES, BreachAction, BreachKind
from bot.settings import PROJECT_ROOT

# A small, complete policy; each broken variant below changes one line of it.
BASE = """\
teams:
  - key: billing
    name: Billing
    categories: [billing]
    languages: [en]
    tiers: [agent, specialist, supervisor]
    timezone: Europe/London
    business_hours:
      monday: "08:00-20:00"
      saturday: "08:00-20:00"
      sunday: closed
  - key: care
    name: Customer Care
    categories: [account, other]
    languages: [en]
    tiers: [agent, supervisor]
    timezone: Europe/London
    business_hours: always
routing:
  default_team: care
  categories:
    billing: billing
    account: care
  next_hop:
    billing: {team: care, tier: supervisor}
    care: top
default_priority: P3
priority_rules:
  - name: outage
    keywords: [outage]
    set: P1
  - name: low
    urgency: [low]
    set: P4
tier_bumps:
  business: 1
sla:
  P1:
    first_response: 15m
    resolution: 4h
    business_hours_only: false
    on_breach:
      first_response: [escalate, notify]
      resolution: [escalate]
  P2:
    first_response: 1h
    resolution: 8h
    business_hours_only: true
    on_breach:
      first_response: [escalate]
      resolution: [escalate]
  P3:
    first_response: 4h
    resolution: 2d
    business_hours_only: true
    on_breach:
      first_response: [notify]
      resolution: [raise_priority]
  P4:
    first_response: 1d
    resolution: 5d
    business_hours_only: true
    on_breach:
      first_response: [notify]
      resolution: [notify]
signals:
  - name: frustration
    type: frustration
    below: -0.5
    over_last_turns: 3
    action: handoff
    raise_priority: 1
  - name: fallbacks
    type: repeated_fallback
    fallbacks: 3
    action: offer
customer_initiated:
  keywords: [manager]
  start_level: 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "escalation.yml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    """The 1-based line where `fragment` (which may span lines) first starts."""
    assert fragment in text, f"{fragment!r} is not in the text"
    return text[: text.index(fragment)].count("\n") + 1


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(EscalationConfigError) as caught:
        load_policy(write(tmp_path, text))
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return str(caught.value).splitlines()


def test_the_shipped_file_loads_cleanly():
    config = load_policy(PROJECT_ROOT / "escalation.yml")
    assert {"billing", "technical", "shop", "customer_care", "care_managers"} <= set(
        config.team_keys
    )
    assert set(config.sla) == set(PRIORITIES)
    assert config.default_priority == "P3"
    assert config.routing.next_hop["care_managers"] is None


def test_the_base_of_the_broken_variants_loads(tmp_path):
    config = load_policy(write(tmp_path, BASE))
    billing = config.team("billing")
    assert billing.tiers == ("agent", "specialist", "supervisor")
    assert billing.business_hours.days[0] == (TimeRange(8 * 60, 20 * 60),)
    assert billing.business_hours.days[1] == ()  # tuesday left out: closed
    assert config.team("care").business_hours.always_open
    assert config.sla["P1"].first_response == dt.timedelta(minutes=15)
    assert config.sla["P1"].on_breach[BreachKind.FIRST_RESPONSE] == (
        BreachAction.ESCALATE,
        BreachAction.NOTIFY,
    )
    assert config.tier_bumps == {"business": 1}
    assert config.customer_initiated.start_level == 1


# (what the variant replaces, with what, the line's marker in the variant, expected words)
MISTAKES = [
    pytest.param(
        "    name: Billing\n",
        "    nmae: Billing\n",
        "nmae:",
        "unknown key 'nmae' in team 'billing' (did you mean 'name'?); allowed: key, name",
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        "default_priority: P3",
        "default_priority: P5",
        "default_priority",
        "unknown priority 'P5' in default_priority; allowed: P1, P2, P3, P4",
        id="unknown-priority",
    ),
    pytest.param(
        "    set: P4",
        "    set: urgent",
        "set: urgent",
        "unknown priority 'urgent' in priority rule 'low'",
        id="unknown-rule-priority",
    ),
    pytest.param(
        "categories: [account, other]",
        "categories: [acount, other]",
        "acount",
        "unknown category 'acount' in team 'care': categories (did you mean 'account'?)",
        id="unknown-category",
    ),
    pytest.param(
        "    billing: billing\n",
        "    billing: bililng\n",
        "billing: bililng",
        "routing.categories.billing routes to unknown team 'bililng' (did you mean 'billing'?)",
        id="routing-to-unknown-team",
    ),
    pytest.param(
        "{team: care, tier: supervisor}",
        "{team: care, tier: boss}",
        "tier: boss",
        "unknown tier 'boss' of team 'care' in routing.next_hop.billing; allowed: a tier of care: "
        "agent, supervisor",
        id="unknown-tier",
    ),
    pytest.param(
        "resolution: 4h",
        "resolution: 4 hours",
        "4 hours",
        "bad duration '4 hours' in sla.P1.resolution; allowed: a whole number",
        id="bad-duration",
    ),
    pytest.param(
        "first_response: 1d",
        "first_response: 30",
        "first_response: 30",
        "bad duration 30 in sla.P4.first_response",
        id="duration-without-unit",
    ),
    pytest.param(
        'monday: "08:00-20:00"',
        'monday: "20:00-08:00"',
        "20:00-08:00",
        "bad time range '20:00-08:00' for team 'billing': monday",
        id="backwards-time-range",
    ),
    pytest.param(
        'saturday: "08:00-20:00"',
        'saturday: "8am-8pm"',
        "8am-8pm",
        "bad time range '8am-8pm' for team 'billing': saturday",
        id="bad-time-range",
    ),
    pytest.param(
        "      sunday: closed",
        "      sundy: closed",
        "sundy",
        "unknown weekday 'sundy' (did you mean 'sunday'?); allowed: monday, tuesday",
        id="unknown-weekday",
    ),
    pytest.param(
        "timezone: Europe/London\n    business_hours: always",
        "timezone: Europe/Londn\n    business_hours: always",
        "Londn",
        "team 'care': unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)",
        id="unknown-time-zone",
    ),
    pytest.param(
        "resolution: [raise_priority]",
        "resolution: [raise_prio]",
        "raise_prio",
        "unknown breach action 'raise_prio' in sla.P3.on_breach.resolution "
        "(did you mean 'raise_priority'?); allowed: escalate, notify, raise_priority",
        id="unknown-breach-action",
    ),
    pytest.param(
        "  - key: care\n",
        "  - key: billing\n",
        "key: billing\n    name: Customer",
        "duplicate team key 'billing'; allowed: a key no other team uses (first used on line 2)",
        id="duplicate-team-key",
    ),
    pytest.param(
        "  - name: low\n",
        "  - name: outage\n",
        "name: outage\n    urgency",
        "duplicate rule name 'outage'",
        id="duplicate-rule-name",
    ),
    pytest.param(
        "    keywords: [outage]",
        "    keywords: [outage",
        "    set: P1",
        "not valid YAML",
        id="yaml-syntax-error",
    ),
    pytest.param(
        "business_hours_only: false",
        "business_hours_only: no",
        "only: no",
        "sla.P1.business_hours_only must be true or false, not 'no'",
        id="wrong-type-bool",
    ),
    pytest.param(
        "  business: 1",
        "  business: lots",
        "business: lots",
        "tier_bumps.business must be a whole number, not 'lots'",
        id="wrong-type-int",
    ),
    pytest.param(
        "    type: repeated_fallback",
        "    type: fallback",
        "type: fallback",
        "signal 'fallbacks': unknown signal type 'fallback'",
        id="unknown-signal-type",
    ),
    pytest.param(
        "    action: offer",
        "    action: transfer",
        "action: transfer",
        "signal 'fallbacks': unknown action 'transfer'; allowed: offer",
        id="unknown-signal-action",
    ),
    pytest.param(
        "    below: -0.5",
        "    below: -5",
        "below: -5",
        "below must be a sentiment score, not -5",
        id="sentiment-out-of-range",
    ),
    pytest.param(
        "    fallbacks: 3\n",
        "    fallbacks: 3\n    over_last_turns: 2\n",
        "over_last_turns: 2",
        "unknown key 'over_last_turns' in signal 'fallbacks'",
        id="signal-key-of-another-type",
    ),
    pytest.param(
        "    below: -0.5\n",
        "    frustrated_messages: 4\n",
        "frustrated_messages: 4",
        "frustrated_messages is 4 but only the last 3 messages are read",
        id="signal-count-larger-than-window",
    ),
    pytest.param(
        "    below: -0.5\n",
        "",
        "  - name: frustration",
        "says neither when the mood is too low (below) nor how many messages",
        id="frustration-without-a-threshold",
    ),
    pytest.param(
        "customer_initiated:",
        "declined_offer_cooldown_turns: -1\ncustomer_initiated:",
        "declined_offer_cooldown_turns",
        "declined_offer_cooldown_turns is -1, out of range",
        id="negative-cooldown",
    ),
    pytest.param(
        "    categories: [billing]\n",
        "    categories: [account]\n",
        "billing: billing",
        "sends billing cases to team 'billing', which does not list 'billing' in its categories",
        id="routing-disagrees-with-team",
    ),
    pytest.param(
        "    care: top\n",
        "    care: {team: billing, tier: agent}\n",
        "billing: {team",
        "routing.next_hop goes round in a circle",
        id="next-hop-circle",
    ),
    pytest.param(
        "  P4:\n", "  P5:\n", "  P5:", "unknown priority 'P5' in sla", id="unknown-sla-priority"
    ),
    pytest.param(
        "customer_initiated:",
        "customer_initiatd:",
        "customer_initiatd",
        "unknown key 'customer_initiatd' in the file (did you mean 'customer_initiated'?)",
        id="unknown-section",
    ),
]


@pytest.mark.parametrize("old, new, marker, expected", MISTAKES)
def test_each_mistake_is_reported_on_its_line(tmp_path, old, new, marker, expected):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    line = line_of(text, marker)
    problems = problems_of(tmp_path, text)
    assert any(
        problem.startswith(f"escalation.yml:{line}: ") and expected in problem
        for problem in problems
    ), problems
    assert all("; allowed: " in problem for problem in problems)


def test_missing_required_sections_are_named(tmp_path):
    text = BASE.replace("default_priority: P3\n", "")
    text = text[: text.index("sla:")]
    problems = problems_of(tmp_path, text)
    assert "escalation.yml:1: the file is missing 'default_priority'" in "\n".join(problems)
    assert any("the file is missing 'sla'" in problem for problem in problems)


def test_a_team_without_a_next_hop_line_is_refused(tmp_path):
    text = BASE.replace("    care: top\n", "")
    problems = problems_of(tmp_path, text)
    assert problems == [
        f"escalation.yml:{line_of(text, 'next_hop:')}: routing.next_hop does not say who is above "
        "team 'care'; allowed: a line 'care: {team: …, tier: …}' or 'care: top'"
    ]


def test_every_problem_is_reported_at_once_in_line_order(tmp_path):
    text = (
        BASE.replace("    name: Billing\n", "    nmae: Billing\n")
        .replace("default_priority: P3", "default_priority: P9")
        .replace("resolution: 4h", "resolution: soon")
        .replace("      sunday: closed", "      funday: closed")
    )
    problems = problems_of(tmp_path, text)
    assert [problem.split(":")[1] for problem in problems] == [
        "2",  # the team that lost its name
        str(line_of(text, "nmae")),
        str(line_of(text, "funday")),
        str(line_of(text, "P9")),
        str(line_of(text, "soon")),
    ]


def test_a_duplicate_yaml_key_is_a_syntax_error_with_its_line(tmp_path):
    text = BASE.replace("default_priority: P3\n", "default_priority: P3\ndefault_priority: P2\n")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"escalation.yml:{line_of(text, 'default_priority: P2')}: not valid YAML"
    )


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(EscalationConfigError, match="cannot read the file"):
        load_policy(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("15m", dt.timedelta(minutes=15)),
        ("4h", dt.timedelta(hours=4)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("2d", dt.timedelta(days=2)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "4", "h", "1.5h", "4 hours", "-1h"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "text, expected",
    [("08:00-20:00", TimeRange(480, 1200)), ("0:00 - 24:00", TimeRange(0, 1440))],
)
def test_time_ranges(text, expected):
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    "text", ["20:00-08:00", "08:00-08:00", "25:00-26:00", "08:60-09:00", "24:30-24:45"]
)
def test_bad_time_ranges(text):
    with pytest.raises(ValueError):
        parse_time_range(text)
