"""The decisions escalation.yml describes: each escalation type acting, and SLA deadlines
counted in the team's business hours and time zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.escalation.engine import (
    ESCALATION_FILE_ENV,
    YamlEscalationPolicy,
    compile_keyword,
    load_default_policy,
)
from bot.escalation.policy import EscalationConfigError, parse_policy
from bot.escalation.signals import CustomerTurn
from bot.escalation.types import (
    BreachAction,
    BreachKind,
    CaseSignals,
    EscalationPolicy,
    EscalationType,
    NextLevel,
)

UTC = dt.timezone.utc
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
# A Tuesday inside the billing team's hours.
TUESDAY_NOON = dt.datetime(2025, 6, 10, 11, 0, tzinfo=UTC)

# Stable hours for the deadline tests, whatever the shipped file says.
CLOCK_POLICY = """\
teams:
  - key: store
    name: Store
    categories: [orders]
    languages: [en]
    tiers: [agent, supervisor]
    timezone: Europe/London
    business_hours:
      monday: "08:00-20:00"
      tuesday: "08:00-20:00"
      wednesday: "08:00-20:00"
      thursday: "08:00-20:00"
      friday: "08:00-20:00"
      saturday: "08:00-20:00"
  - key: shop
    name: Shop
    categories: [billing]
    languages: [en]
    tiers: [agent]
    timezone: Europe/London
    business_hours:
      monday: "09:00-18:00"
      tuesday: "09:00-18:00"
      wednesday: "09:00-18:00"
      thursday: "09:00-18:00"
      friday: "09:00-18:00"
      saturday: "10:00-16:00"
  - key: nyc
    name: New York desk
    categories: [other]
    languages: [en, es]
    tiers: [agent]
    timezone: America/New_York
    business_hours:
      monday: "09:00-17:00"
      tuesday: "09:00-17:00"
      wednesday: "09:00-17:00"
      thursday: "09:00-17:00"
      friday: ["09:00-12:00", "13:00-17:00"]
routing:
  default_team: store
  categories: {orders: store, billing: shop, other: nyc}
  next_hop: {store: top, shop: top, nyc: top}
default_priority: P3
sla:
  P1: {first_response: 15m, resolution: 4h, business_hours_only: false,
       on_breach: {first_response: [raise_priority], resolution: [raise_priority, escalate]}}
  P2: {first_response: 1h, resolution: 8h, business_hours_only: true,
       on_breach: {first_response: [escalate], resolution: [escalate]}}
  P3: {first_response: 4h, resolution: 2d, business_hours_only: true,
       on_breach: {first_response: [notify], resolution: [raise_priority]}}
  P4: {first_response: 1d, resolution: 1d2h, business_hours_only: true,
       on_breach: {first_response: [notify], resolution: [notify]}}
"""


@pytest.fixture(scope="module")
def shipped() -> YamlEscalationPolicy:
    return load_default_policy({})


@pytest.fixture(scope="module")
def clock() -> YamlEscalationPolicy:
    return YamlEscalationPolicy(parse_policy(CLOCK_POLICY))


def case(*texts: str, **fields) -> CaseSignals:
    return CaseSignals(texts=texts, intents=tuple("inform" for _ in texts), **fields)


def reasons_of(decision, kind: EscalationType):
    return [reason for reason in decision.reasons if reason.type is kind]


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON).astimezone(UTC)


def test_the_policy_satisfies_the_protocol(shipped):
    policy: EscalationPolicy = shipped
    decision = policy.route(case("hello"), TUESDAY_NOON)
    assert decision.first_response_due.tzinfo is UTC


# --- functional -----------------------------------------------------------------


@pytest.mark.parametrize(
    "category, team",
    [
        ("billing", "billing"),
        ("technical", "technical"),
        ("orders", "shop"),
        ("account", "customer_care"),
        ("other", "customer_care"),
        (None, "customer_care"),
    ],
)
def test_functional_category_goes_to_its_team(shipped, category, team):
    decision = shipped.route(case("help please", category=category), TUESDAY_NOON)
    assert (decision.team, decision.level, decision.tier) == (team, 0, "agent")
    functional = reasons_of(decision, EscalationType.FUNCTIONAL)
    assert len(functional) == 1 and decision.reasons[0] == functional[0]


def test_a_team_that_speaks_the_language_is_preferred(clock):
    config = parse_policy(
        CLOCK_POLICY.replace("categories: [other]", "categories: [other, orders]")
    )
    decision = YamlEscalationPolicy(config).route(
        case("hola", category="orders", language="es"), TUESDAY_NOON
    )
    assert decision.team == "nyc"
    assert "does not speak 'es'" in decision.reasons[0].detail
    kept = clock.route(case("bonjour", category="orders", language="fr"), TUESDAY_NOON)
    assert kept.team == "store"


# --- priority -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "signals, priority, rules",
    [
        (case("there's an outage in my whole street", category="technical"), "P1", ("outage",)),
        (case("someone used my card, fraud", category="billing"), "P1", ("security_or_fraud",)),
        (case("My account was HACKED!"), "P1", ("security_or_fraud",)),
        (case("I will go to the ombudsman", category="billing"), "P2", ("legal_or_regulator",)),
        (case("no wifi", category="technical", urgency="high"), "P2", ("urgent_fault",)),
        (case("question about my bill", category="billing", urgency="low"), "P4", ("low_urgency",)),
        (case("question about my bill", category="billing", urgency="normal"), "P3", ()),
        # Whole words only: "illegally" is not "legal", "discarded" is not "card".
        (case("I discarded the box, was that illegally done?"), "P3", ()),
        # The most urgent match wins over a low-urgency answer.
        (case("outage again", category="technical", urgency="low"), "P1", ("outage",)),
    ],
)
def test_priority_rules(shipped, signals, priority, rules):
    decision = shipped.route(signals, TUESDAY_NOON)
    assert decision.priority == priority
    assert decision.priority_rules == rules
    assert {r.rule for r in reasons_of(decision, EscalationType.PRIORITY)} >= set(rules)


def test_business_customers_are_bumped_one_step(shipped):
    decision = shipped.route(
        case("my invoice", category="billing", customer_tier="business"), TUESDAY_NOON
    )
    assert decision.priority == "P2"
    assert decision.priority_rules == ("tier_bumps.business",)
    (reason,) = reasons_of(decision, EscalationType.PRIORITY)
    assert reason.detail == "business customer: P3 → P2"


def test_a_bump_stops_at_p1(shipped):
    decision = shipped.route(case("fraud!", customer_tier="business"), TUESDAY_NOON)
    assert decision.priority == "P1"
    assert decision.priority_rules == ("security_or_fraud",)


@pytest.mark.parametrize(
    "keyword, text, matches",
    [
        ("hack*", "they are hacking me", True),
        ("hack*", "whack", False),
        ("whole street", "my whole\n street", True),
        ("there's", "there’s a fault", True),
        ("card", "discarded", False),
    ],
)
def test_keywords_match_whole_words(keyword, text, matches):
    assert bool(compile_keyword(keyword).search(text)) is matches


# --- customer-initiated -------------------------------------------------------------


def test_asking_for_the_manager_starts_one_tier_up(shipped):
    decision = shipped.route(case("get me your manager", customer_requested=True), TUESDAY_NOON)
    assert (decision.team, decision.level, decision.tier) == ("customer_care", 1, "supervisor")
    (reason,) = reasons_of(decision, EscalationType.CUSTOMER_INITIATED)
    assert "'manager'" in reason.detail


def test_asking_for_a_person_without_manager_words_starts_at_the_first_tier(shipped):
    decision = shipped.route(case("can I talk to a human", customer_requested=True), TUESDAY_NOON)
    assert (decision.level, decision.tier) == (0, "agent")
    assert len(reasons_of(decision, EscalationType.CUSTOMER_INITIATED)) == 1


def test_manager_words_alone_do_not_lift_a_case_the_customer_did_not_ask_for(shipped):
    decision = shipped.route(case("my manager pays the bill", category="billing"), TUESDAY_NOON)
    assert decision.level == 0
    assert not reasons_of(decision, EscalationType.CUSTOMER_INITIATED)


# --- sentiment and automatic signals --------------------------------------------------


def turn(
    compound: float = 0.0, intent: str = "inform", frustrated: bool = False, cues=()
) -> CustomerTurn:
    return CustomerTurn(
        text="...",
        intent=intent,
        compound=compound,
        frustrated=frustrated,
        cues=frozenset(cues),
        answered=True,
    )


def test_falling_sentiment_raises_priority(shipped):
    scores = (0.3, -0.4, -0.6, -0.8)
    signals = case(
        "hmm",
        "this is bad",
        "useless",
        "awful",
        category="billing",
        turns=tuple(turn(score) for score in scores),
    )
    decision = shipped.route(signals, TUESDAY_NOON)
    (reason,) = reasons_of(decision, EscalationType.SENTIMENT)
    assert reason.rule == "frustration"
    assert "P3 → P2" in reason.detail
    assert decision.priority == "P2"
    assert "frustration" in decision.priority_rules
    (match,) = shipped.check_signals(signals)
    assert match.rule.action == "offer"


def test_frustrated_messages_raise_priority_before_the_average_would(shipped):
    turns = (turn(0.2), turn(-0.1, frustrated=True), turn(0.3, frustrated=True))
    decision = shipped.route(case("a", "b", "c", turns=turns), TUESDAY_NOON)
    (reason,) = reasons_of(decision, EscalationType.SENTIMENT)
    assert "2 of the last 3 messages frustrated" in reason.detail
    assert decision.priority == "P2"


def test_abuse_is_a_sentiment_escalation(shipped):
    turns = (turn(-0.8, frustrated=True, cues=("abusive",)),)
    decision = shipped.route(case("you useless idiots", turns=turns), TUESDAY_NOON)
    assert [r.rule for r in reasons_of(decision, EscalationType.SENTIMENT)] == ["abusive"]


@pytest.mark.parametrize("scores", [(), (-0.9, -0.9), (0.5, -0.6, -0.6, -0.2)])
def test_too_few_or_mild_scores_do_not_trigger(shipped, scores):
    decision = shipped.route(case("hm", turns=tuple(turn(s) for s in scores)), TUESDAY_NOON)
    assert not reasons_of(decision, EscalationType.SENTIMENT)
    assert decision.priority == "P3"


@pytest.mark.parametrize("fallbacks, triggered", [(0, False), (1, False), (2, True), (3, True)])
def test_repeated_fallbacks_are_an_automatic_escalation(shipped, fallbacks, triggered):
    turns = (turn(intent="greet"),) + tuple(turn(intent="nlu_fallback") for _ in range(fallbacks))
    decision = shipped.route(case("asdf", turns=turns), TUESDAY_NOON)
    automatic = reasons_of(decision, EscalationType.AUTOMATIC)
    assert [r.rule for r in automatic] == (["repeated_fallback"] if triggered else [])
    assert decision.priority == "P3"  # the shipped rule offers a person but does not raise


# --- hierarchical: on_breach walks up the matrix ------------------------------------


@pytest.mark.parametrize(
    "team, level, next_level",
    [
        ("billing", 0, NextLevel("billing", 1, "specialist")),
        ("billing", 1, NextLevel("billing", 2, "supervisor")),
        ("billing", 2, NextLevel("care_managers", 0, "duty_manager")),
        ("care_managers", 0, NextLevel("care_managers", 1, "head_of_customer_care")),
    ],
)
def test_a_missed_deadline_escalates_one_level(shipped, team, level, next_level):
    outcome = shipped.on_breach(BreachKind.FIRST_RESPONSE, "P2", team, level)
    assert outcome.actions == (BreachAction.ESCALATE, BreachAction.NOTIFY)
    assert outcome.next_level == next_level


def test_at_the_top_there_is_no_next_level_but_still_a_notification(shipped):
    outcome = shipped.on_breach(BreachKind.RESOLUTION, "P1", "care_managers", 1)
    assert outcome.actions == (BreachAction.NOTIFY,)
    assert outcome.next_level is None
    assert "top of the escalation matrix" in outcome.notes[0]


def test_the_ladder_lists_who_is_next_at_each_level(shipped):
    assert [(s.team, s.tier) for s in shipped.ladder("shop")] == [
        ("shop", "agent"),
        ("shop", "supervisor"),
        ("care_managers", "duty_manager"),
        ("care_managers", "head_of_customer_care"),
    ]


@pytest.mark.parametrize(
    "kind, priority, actions, new_priority",
    [
        (BreachKind.FIRST_RESPONSE, "P3", (BreachAction.NOTIFY,), None),
        (BreachKind.RESOLUTION, "P3", (BreachAction.RAISE_PRIORITY,), "P2"),
        # P1 cannot go higher: the raise is dropped, and someone is still told.
        (BreachKind.FIRST_RESPONSE, "P1", (BreachAction.NOTIFY,), None),
        (BreachKind.RESOLUTION, "P1", (BreachAction.ESCALATE, BreachAction.NOTIFY), None),
    ],
)
def test_raise_priority_stops_at_p1(clock, kind, priority, actions, new_priority):
    outcome = clock.on_breach(kind, priority, "store", 0)
    assert outcome.actions == actions
    assert outcome.new_priority == new_priority


@pytest.mark.parametrize(
    "priority, team, level",
    [("P9", "billing", 0), ("P2", "nobody", 0), ("P2", "billing", 3), ("P2", "billing", -1)],
)
def test_on_breach_refuses_unknown_names(shipped, priority, team, level):
    with pytest.raises(ValueError, match="allowed"):
        shipped.on_breach(BreachKind.FIRST_RESPONSE, priority, team, level)


# --- deadlines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "priority, team, start, first_response, resolution",
    [
        pytest.param(
            "P3",
            "store",
            london(2025, 6, 10, 9, 0),
            london(2025, 6, 10, 13, 0),
            london(2025, 6, 12, 9, 0),
            id="inside-hours",
        ),
        pytest.param(
            "P3",
            "store",
            london(2025, 6, 7, 19, 0),
            london(2025, 6, 9, 11, 0),
            london(2025, 6, 10, 19, 0),
            id="saturday-evening-to-monday",
        ),
        pytest.param(
            "P2",
            "store",
            london(2025, 6, 10, 19, 30),
            london(2025, 6, 11, 8, 30),
            london(2025, 6, 11, 15, 30),
            id="overnight",
        ),
        pytest.param(
            "P2",
            "store",
            london(2025, 6, 11, 6, 0),
            london(2025, 6, 11, 9, 0),
            london(2025, 6, 11, 16, 0),
            id="before-opening",
        ),
        pytest.param(
            "P2",
            "store",
            london(2025, 6, 8, 12, 0),
            london(2025, 6, 9, 9, 0),
            london(2025, 6, 9, 16, 0),
            id="closed-sunday",
        ),
        pytest.param(
            "P3",
            "shop",
            london(2025, 6, 12, 17, 0),
            london(2025, 6, 13, 12, 0),
            london(2025, 6, 14, 16, 0),
            id="working-day-ends-at-saturday-close",
        ),
        pytest.param(
            "P4",
            "store",
            london(2025, 6, 13, 19, 0),
            london(2025, 6, 14, 19, 0),
            london(2025, 6, 16, 9, 0),
            id="days-and-hours",
        ),
        pytest.param(
            "P1",
            "store",
            dt.datetime(2025, 6, 7, 23, 50, tzinfo=UTC),
            dt.datetime(2025, 6, 8, 0, 5, tzinfo=UTC),
            dt.datetime(2025, 6, 8, 3, 50, tzinfo=UTC),
            id="p1-runs-24-7",
        ),
        pytest.param(
            "P3",
            "store",
            london(2025, 3, 29, 19, 0),
            london(2025, 3, 31, 11, 0),
            london(2025, 4, 1, 19, 0),
            id="dst-spring-forward",
        ),
        pytest.param(
            "P3",
            "store",
            london(2025, 10, 25, 19, 0),
            london(2025, 10, 27, 11, 0),
            london(2025, 10, 28, 19, 0),
            id="dst-fall-back",
        ),
        pytest.param(
            "P3",
            "nyc",
            dt.datetime(2025, 6, 6, 11, 0, tzinfo=NEW_YORK).astimezone(UTC),
            dt.datetime(2025, 6, 6, 16, 0, tzinfo=NEW_YORK).astimezone(UTC),
            dt.datetime(2025, 6, 10, 11, 0, tzinfo=NEW_YORK).astimezone(UTC),
            id="team-time-zone-and-lunch-break",
        ),
    ],
)
def test_deadlines(clock, priority, team, start, first_response, resolution):
    assert clock.deadlines(priority, team, start) == (first_response, resolution)
    due = clock.deadlines(priority, team, start)
    assert all(moment.tzinfo is UTC for moment in due)


def test_dst_is_real_time_not_wall_time(clock):
    # London 08:00 on Monday 31 March 2025 is 07:00 UTC (BST began on the Sunday).
    first_response, _ = clock.deadlines("P3", "store", london(2025, 3, 29, 19, 0))
    assert first_response == dt.datetime(2025, 3, 31, 10, 0, tzinfo=UTC)


def test_deadlines_accept_any_aware_time_and_refuse_naive_ones(clock):
    start = london(2025, 6, 10, 9, 0)
    assert clock.deadlines("P2", "store", start.astimezone(NEW_YORK)) == clock.deadlines(
        "P2", "store", start
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.deadlines("P2", "store", dt.datetime(2025, 6, 10, 9, 0))


def test_route_uses_the_deadlines_of_its_team_and_priority(shipped):
    start = london(2025, 6, 7, 19, 0)  # Saturday evening
    decision = shipped.route(case("my bill", category="billing"), start)
    assert decision.priority == "P3"
    assert (decision.first_response_due, decision.resolution_due) == shipped.deadlines(
        "P3", "billing", start
    )
    assert decision.first_response_due == london(2025, 6, 9, 11, 0)


# --- loading ----------------------------------------------------------------------------


def test_the_environment_can_point_at_another_file(tmp_path: Path):
    path = tmp_path / "other.yml"
    path.write_text(CLOCK_POLICY, encoding="utf-8")
    policy = load_default_policy({ESCALATION_FILE_ENV: str(path)})
    assert policy.config.team_keys == ("store", "shop", "nyc")
    path.write_text("teams: [", encoding="utf-8")
    with pytest.raises(EscalationConfigError, match=r"^other\.yml:1: not valid YAML"):
        load_default_policy({ESCALATION_FILE_ENV: str(path)})
