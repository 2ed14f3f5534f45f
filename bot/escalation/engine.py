"""The escalation decisions escalation.yml describes: `YamlEscalationPolicy`.

It implements `bot.escalation.types.EscalationPolicy`: where a new case goes and how
urgent it is (`route`), when it is due (`deadlines`), and what a missed deadline does
(`on_breach`). Every decision is explained by `EscalationReason`s naming the rule in
escalation.yml, so an agent (or a support manager) can see why a case landed where it did.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Dict, List, Mapping, Pattern, Sequence, Tuple

from bot.escalation import business_hours
from bot.escalation.policy import (
    EscalationConfig,
    PriorityRule,
    SlaTerms,
    Team,
    load_policy,
)
from bot.escalation.signals import SignalEvaluator, SignalMatch
from bot.escalation.types import (
    PRIORITIES,
    BreachAction,
    BreachKind,
    BreachOutcome,
    CaseSignals,
    EscalationReason,
    EscalationType,
    NextLevel,
    RoutingDecision,
)
from bot.settings import ESCALATION_FILE_ENV as ESCALATION_FILE_ENV  # where tests name it
from bot.settings import PROJECT_ROOT, escalation_file

DEFAULT_ESCALATION_FILE = "escalation.yml"
UTC = dt.timezone.utc


def load_default_policy(env: Mapping[str, str] | None = None) -> YamlEscalationPolicy:
    """The policy in the project's escalation.yml, or the file `BATON_ESCALATION_FILE` names.

    Raises:
        EscalationConfigError: the file has mistakes (all of them are listed).
    """
    path = escalation_file(env) or PROJECT_ROOT / DEFAULT_ESCALATION_FILE
    return YamlEscalationPolicy(load_policy(path))


def compile_keyword(keyword: str) -> Pattern[str]:
    """A case-insensitive pattern for a keyword or phrase, matched as whole words.

    Spaces match any run of whitespace; a trailing `*` matches any word ending, so
    "hack*" matches "hacked" and "hacking" but "card" does not match "discarded".
    """
    words = keyword.strip().lower().split()
    parts = [
        re.escape(word[:-1]) + r"\w*" if word.endswith("*") else re.escape(word) for word in words
    ]
    # Curly apostrophes from phones should match the straight ones people type in YAML.
    body = r"\s+".join(parts).replace("'", "['’]")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def raise_priority(priority: str, steps: int) -> str:
    """`priority` moved `steps` towards P1, never past it."""
    return PRIORITIES[max(0, PRIORITIES.index(priority) - steps)]


class YamlEscalationPolicy:
    """The `EscalationPolicy` an `EscalationConfig` (escalation.yml) describes."""

    def __init__(self, config: EscalationConfig) -> None:
        self.config = config
        self.signal_evaluator = SignalEvaluator(
            config.signals, config.declined_offer_cooldown_turns
        )
        # Compiled once per policy, not at import, and reused for every case.
        self._patterns: Dict[str, Pattern[str]] = {}
        for keyword in self._all_keywords():
            self._patterns.setdefault(keyword, compile_keyword(keyword))

    def _all_keywords(self) -> List[str]:
        keywords = [k for rule in self.config.priority_rules for k in rule.keywords]
        return keywords + list(self.config.customer_initiated.keywords)

    # --- EscalationPolicy ---------------------------------------------------------

    def route(self, signals: CaseSignals, now: dt.datetime) -> RoutingDecision:
        """Team, level, priority, reasons and SLA deadlines for a new escalation.

        Args:
            signals: What the bot knows about the case.
            now: When the case is raised (timezone-aware).

        Returns:
            The decision; its reasons always start with the functional one (category → team).
        """
        _require_aware(now)
        team, functional = self._choose_team(signals)
        reasons: List[EscalationReason] = [functional]

        priority, rule_names, priority_reasons = self._rule_priority(signals)
        reasons.extend(priority_reasons)

        steps = self.config.tier_bumps.get((signals.customer_tier or "").strip().lower(), 0)
        if steps and priority != PRIORITIES[0]:
            bumped = raise_priority(priority, steps)
            name = f"tier_bumps.{signals.customer_tier}"
            reasons.append(
                EscalationReason(
                    EscalationType.PRIORITY,
                    name,
                    f"{signals.customer_tier} customer: {priority} → {bumped}",
                )
            )
            rule_names.append(name)
            priority = bumped

        for match in self.check_signals(signals):
            detail = match.detail
            if match.rule.raise_priority and priority != PRIORITIES[0]:
                raised = raise_priority(priority, match.rule.raise_priority)
                detail = f"{detail}; priority {priority} → {raised}"
                rule_names.append(match.rule.name)
                priority = raised
            kind = EscalationType.SENTIMENT if match.mood else EscalationType.AUTOMATIC
            reasons.append(EscalationReason(kind, match.rule.name, detail))

        level = 0
        if signals.customer_requested:
            level, initiated = self._customer_level(signals, team)
            reasons.append(initiated)

        first_response_due, resolution_due = self.deadlines(priority, team.key, now)
        return RoutingDecision(
            team=team.key,
            level=level,
            tier=team.tiers[level],
            priority=priority,
            priority_rules=tuple(dict.fromkeys(rule_names)),
            reasons=tuple(reasons),
            first_response_due=first_response_due,
            resolution_due=resolution_due,
        )

    def deadlines(
        self, priority: str, team: str, start: dt.datetime
    ) -> Tuple[dt.datetime, dt.datetime]:
        """First-response and resolution deadlines (UTC) for a case raised at `start`.

        When the priority's SLA counts business hours only, the clock runs only while
        `team` is open, in the team's time zone, and whole days ("2d") are working days:
        the same time of day two open days later. Otherwise the clock runs 24/7.

        Raises:
            ValueError: unknown priority or team, or a naive `start`.
        """
        _require_aware(start)
        terms = self._sla(priority)
        if not terms.business_hours_only:
            start_utc = start.astimezone(UTC)
            return start_utc + terms.first_response, start_utc + terms.resolution
        hours_team = self._team(team)
        return (
            self._business_deadline(start, terms.first_response, hours_team),
            self._business_deadline(start, terms.resolution, hours_team),
        )

    def on_breach(self, kind: BreachKind, priority: str, team: str, level: int) -> BreachOutcome:
        """What to do when a ticket of `priority`, at `team` and `level`, breaches `kind`.

        Escalating goes one tier up the team, or past its top tier to the matrix's next
        hop. At the very top there is nowhere to go: the escalation is dropped but the
        breach is still notified. Raising priority stops at P1.

        Raises:
            ValueError: unknown priority, team or level.
        """
        terms = self._sla(priority)
        current = self._team(team)
        if not 0 <= level <= current.top_level:
            raise ValueError(
                f"level {level} is not a tier of team {team!r}; allowed: 0 to {current.top_level}"
            )
        wanted = terms.on_breach.get(BreachKind(kind), (BreachAction.NOTIFY,))
        actions: List[BreachAction] = []
        notes: List[str] = []
        next_level: NextLevel | None = None
        new_priority: str | None = None
        for action in wanted:
            if action is BreachAction.ESCALATE:
                next_level = self.next_level(team, level)
                if next_level is None:
                    notes.append(
                        f"{current.name} {current.tiers[level]} is the top of the escalation "
                        "matrix: nobody to escalate to, notifying instead"
                    )
                    continue
            elif action is BreachAction.RAISE_PRIORITY:
                if priority == PRIORITIES[0]:
                    notes.append(f"already {PRIORITIES[0]}: priority cannot go higher")
                    continue
                new_priority = raise_priority(priority, 1)
            actions.append(action)
        if BreachAction.NOTIFY not in actions and len(actions) < len(wanted):
            # Something the manager asked for could not happen: someone must still hear of it.
            actions.append(BreachAction.NOTIFY)
        return BreachOutcome(
            actions=tuple(actions),
            next_level=next_level,
            new_priority=new_priority,
            notes=tuple(notes),
        )

    # --- Beyond the protocol: the matrix and the signals --------------------------

    def next_level(self, team: str, level: int) -> NextLevel | None:
        """Who is next above `level` of `team`: its next tier, the next hop, or None at the top."""
        current = self._team(team)
        if level < current.top_level:
            return NextLevel(team, level + 1, current.tiers[level + 1])
        hop = self.config.routing.next_hop.get(team)
        if hop is None:
            return None
        target = self._team(hop.team)
        return NextLevel(hop.team, target.tiers.index(hop.tier), hop.tier)

    def ladder(self, team: str, level: int = 0) -> Tuple[NextLevel, ...]:
        """Every step from `level` of `team` to the top of the matrix, starting with itself."""
        current = self._team(team)
        steps = [NextLevel(team, level, current.tiers[level])]
        step = self.next_level(team, level)
        while step is not None:
            steps.append(step)
            step = self.next_level(step.team, step.level)
        return tuple(steps)

    def check_signals(self, signals: CaseSignals) -> Tuple[SignalMatch, ...]:
        """The signal rules (frustration, abuse, repeated fallbacks, ...) the case triggers."""
        return self.signal_evaluator.matching_signals(signals.turns)

    def matching_rules(self, signals: CaseSignals) -> Tuple[Tuple[PriorityRule, str], ...]:
        """Each priority rule that matches, with a description of what matched."""
        return tuple(
            (rule, detail)
            for rule in self.config.priority_rules
            if (detail := self._match_rule(rule, signals)) is not None
        )

    # --- internals ------------------------------------------------------------------

    def _team(self, key: str) -> Team:
        try:
            return self.config.team(key)
        except KeyError as error:
            raise ValueError(error.args[0]) from None

    def _sla(self, priority: str) -> SlaTerms:
        if priority not in self.config.sla:
            raise ValueError(f"unknown priority {priority!r}; allowed: {', '.join(PRIORITIES)}")
        return self.config.sla[priority]

    def _choose_team(self, signals: CaseSignals) -> Tuple[Team, EscalationReason]:
        routing = self.config.routing
        category = (signals.category or "").strip().lower()
        if category in routing.categories:
            team = self._team(routing.categories[category])
            rule, detail = f"routing.categories.{category}", f"{category} → {team.name}"
        else:
            team = self._team(routing.default_team)
            rule = "routing.default_team"
            detail = f"{'category ' + repr(category) if category else 'no category'} → {team.name}"
        language = signals.language.strip().lower()
        if language not in team.languages:
            speaker = next(
                (
                    other
                    for other in self.config.teams
                    if language in other.languages and category and category in other.categories
                ),
                None,
            )
            if speaker is not None:
                detail += f"; {team.name} does not speak {language!r}, so {speaker.name}"
                team = speaker
            else:
                detail += f"; no team for this category speaks {language!r}"
        return team, EscalationReason(EscalationType.FUNCTIONAL, rule, detail)

    def _rule_priority(self, signals: CaseSignals) -> Tuple[str, List[str], List[EscalationReason]]:
        """The highest priority any rule sets (or the default), the winning rules, and reasons."""
        matches = self.matching_rules(signals)
        if not matches:
            return self.config.default_priority, [], []
        best = min(PRIORITIES.index(rule.priority) for rule, _ in matches)
        priority = PRIORITIES[best]
        winners = [rule.name for rule, _ in matches if rule.priority == priority]
        reasons = [
            EscalationReason(EscalationType.PRIORITY, rule.name, f"{detail} → {rule.priority}")
            for rule, detail in matches
        ]
        return priority, winners, reasons

    def _match_rule(self, rule: PriorityRule, signals: CaseSignals) -> str | None:
        """What matched, when every condition the rule lists matches; else None."""
        found: List[str] = []
        if rule.keywords:
            keyword = self._first_keyword(rule.keywords, signals.texts)
            if keyword is None:
                return None
            found.append(f"said {keyword!r}")
        if rule.intents:
            intent = next((i for i in signals.intents if i in rule.intents), None)
            if intent is None:
                return None
            found.append(f"intent {intent}")
        if rule.categories:
            if signals.category not in rule.categories:
                return None
            found.append(f"category {signals.category}")
        if rule.urgency:
            if signals.urgency not in rule.urgency:
                return None
            found.append(f"urgency {signals.urgency}")
        return ", ".join(found)

    def _first_keyword(self, keywords: Sequence[str], texts: Sequence[str]) -> str | None:
        """The words the customer actually wrote that match the first matching keyword."""
        for keyword in keywords:
            pattern = self._patterns.get(keyword) or compile_keyword(keyword)
            for text in texts:
                found = pattern.search(text)
                if found:
                    return found.group(0)
        return None

    def _customer_level(self, signals: CaseSignals, team: Team) -> Tuple[int, EscalationReason]:
        settings = self.config.customer_initiated
        keyword = self._first_keyword(settings.keywords, signals.texts)
        if keyword is None:
            return 0, EscalationReason(
                EscalationType.CUSTOMER_INITIATED,
                "customer_initiated",
                "the customer asked for a person",
            )
        # A team with fewer tiers starts at its top one.
        level = min(settings.start_level, team.top_level)
        return level, EscalationReason(
            EscalationType.CUSTOMER_INITIATED,
            "customer_initiated",
            f"the customer asked for a person and said {keyword!r} → {team.tiers[level]}",
        )

    def _business_deadline(
        self, start: dt.datetime, duration: dt.timedelta, team: Team
    ) -> dt.datetime:
        hours, zone = team.business_hours, team.zone
        if hours.always_open:
            return start.astimezone(UTC) + duration
        # The clock starts when the team next opens (now, if it is open).
        moment = business_hours.add_open_time(start, dt.timedelta(0), hours, zone)
        moment = business_hours.add_working_days(moment, duration.days, hours, zone)
        remainder = duration - dt.timedelta(days=duration.days)
        if remainder:
            # Not for whole days: a deadline at a closing time would roll to the next opening.
            moment = business_hours.add_open_time(moment, remainder, hours, zone)
        return moment.astimezone(UTC)


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
