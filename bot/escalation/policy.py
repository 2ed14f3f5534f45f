"""escalation.yml as typed data: the dataclasses of the policy, and the loader that checks it.

`load_policy(path)` reads the file a support manager edits and either returns an
`EscalationConfig` or raises `EscalationConfigError` listing *every* problem found,
one per line, in the form ``escalation.yml:LINE: what is wrong; allowed: …``.
Line numbers come from ruamel.yaml's round-trip loader, which remembers where each
key and value was written. The decisions made from the config live in `engine.py`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Tuple

from bot.constants import CASE_CATEGORIES, CASE_URGENCIES
from bot.escalation import signals
from bot.escalation.types import PRIORITIES, BreachAction, BreachKind
from bot.yaml_source import (
    ConfigError,
    ConfigProblem,
    item_line,
    key_line,
    line_of,
    load_with_lines,
    value_line,
)

WEEKDAYS: Tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# The word a team's next hop uses to say "nobody above us".
TOP_OF_MATRIX = "top"
# Business hours of a team that never closes.
ALWAYS_OPEN = "always"
CLOSED = "closed"
MINUTES_PER_DAY = 24 * 60
# A raise of more than three steps would turn P4 past P1: it is always a typo.
MAX_PRIORITY_STEPS = len(PRIORITIES) - 1

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_DURATION_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_RANGE_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")

_TOP_LEVEL_KEYS = (
    "teams",
    "routing",
    "default_priority",
    "priority_rules",
    "tier_bumps",
    "sla",
    "signals",
    "declined_offer_cooldown_turns",
    "customer_initiated",
)
_REQUIRED_TOP_LEVEL = ("teams", "routing", "default_priority", "sla")
_TEAM_KEYS = (
    "key",
    "name",
    "categories",
    "skills",
    "languages",
    "tiers",
    "business_hours",
    "timezone",
)
_REQUIRED_TEAM_KEYS = ("key", "name", "languages", "tiers", "business_hours", "timezone")
_ROUTING_KEYS = ("default_team", "categories", "next_hop")
_NEXT_HOP_KEYS = ("team", "tier")
_RULE_CONDITIONS = ("keywords", "intents", "categories", "urgency")
_RULE_KEYS = ("name", "description", *_RULE_CONDITIONS, "set")
_SLA_KEYS = ("first_response", "resolution", "business_hours_only", "on_breach")
_SIGNAL_COMMON_KEYS = ("name", "type", "description", "action", "raise_priority")
# Per signal type: the keys it may have, and those it must have.
_SIGNAL_TYPE_KEYS: Dict[str, Tuple[str, ...]] = {
    signals.FRUSTRATION: ("below", "frustrated_messages", "over_last_turns"),
    signals.ABUSIVE: ("messages", "over_last_turns"),
    signals.SHOUTING: ("messages", "over_last_turns"),
    signals.LEAVE_OR_COMPLAIN: ("messages", "over_last_turns"),
    signals.REPEATED_FALLBACK: ("fallbacks",),
    signals.REPEATED_QUESTION: ("times",),
}
_SIGNAL_REQUIRED_KEYS: Dict[str, Tuple[str, ...]] = {
    signals.FRUSTRATION: ("over_last_turns",),
    signals.REPEATED_FALLBACK: ("fallbacks",),
}
# How many customer messages a declined offer of a person holds back the next offer.
DEFAULT_DECLINED_OFFER_COOLDOWN_TURNS = 3
_CUSTOMER_INITIATED_KEYS = ("keywords", "start_level")

_DURATION_ALLOWED = "a whole number of days, hours and/or minutes such as 15m, 4h, 1h30m, 2d"
_RANGE_ALLOWED = (
    "'closed', or opening hours such as \"08:00-20:00\" (or a list of them), start before end"
)


# --- The policy as data -------------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    """Opening hours within one day, in minutes after local midnight (end may be 1440)."""

    start: int
    end: int

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


@dataclass(frozen=True)
class BusinessHours:
    """A team's weekly opening hours; `days[0]` is Monday, as in `date.weekday()`."""

    days: Tuple[Tuple[TimeRange, ...], ...]
    always_open: bool = False

    @classmethod
    def twenty_four_seven(cls) -> BusinessHours:
        return cls(days=tuple((TimeRange(0, MINUTES_PER_DAY),) for _ in WEEKDAYS), always_open=True)


@dataclass(frozen=True)
class Team:
    """A group of people who take escalated cases, and the tiers they escalate through."""

    key: str
    name: str
    categories: Tuple[str, ...]
    skills: Tuple[str, ...]
    languages: Tuple[str, ...]
    tiers: Tuple[str, ...]  # lowest first: level 0 is tiers[0]
    business_hours: BusinessHours
    timezone: str  # IANA name, e.g. Europe/London

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        # ZoneInfo caches instances itself, so this is cheap after the first call.
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def top_level(self) -> int:
        return len(self.tiers) - 1


@dataclass(frozen=True)
class NextHop:
    """Where a case goes when it has outgrown a team's top tier."""

    team: str
    tier: str


@dataclass(frozen=True)
class Routing:
    """The escalation matrix: category → team, and each team's next hop upwards."""

    default_team: str
    categories: Mapping[str, str]
    # team key → its next hop, or None when the team is the top of the matrix.
    next_hop: Mapping[str, NextHop | None]


@dataclass(frozen=True)
class PriorityRule:
    """A named rule: when every condition it lists matches, the case gets `priority`."""

    name: str
    priority: str
    keywords: Tuple[str, ...] = ()
    intents: Tuple[str, ...] = ()
    categories: Tuple[str, ...] = ()
    urgency: Tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class SlaTerms:
    """How quickly cases of one priority must be answered and resolved, and what a miss does."""

    priority: str
    first_response: dt.timedelta
    resolution: dt.timedelta
    business_hours_only: bool
    on_breach: Mapping[BreachKind, Tuple[BreachAction, ...]]


@dataclass(frozen=True)
class SignalRule:
    """A conversation signal (bot/escalation/signals.py) that calls for a person."""

    name: str
    type: str  # one of signals.SIGNAL_TYPES
    action: str  # one of signals.SIGNAL_ACTIONS: offer a person, or hand off straight away
    raise_priority: int = 0
    below: float | None = None  # frustration: average sentiment below this…
    frustrated_messages: int | None = None  # …or this many frustrated messages…
    over_last_turns: int | None = None  # …over the customer's last N messages
    messages: int | None = None  # abusive, shouting, leave_or_complain: this many in the window
    fallbacks: int | None = None  # repeated_fallback: this many fallbacks or more
    times: int | None = None  # repeated_question: the same question this many times in a row
    description: str = ""


@dataclass(frozen=True)
class CustomerInitiated:
    """Words that mean "someone senior", lifting a customer's request to `start_level`."""

    keywords: Tuple[str, ...] = ()
    start_level: int = 1


@dataclass(frozen=True)
class EscalationConfig:
    """Everything escalation.yml says, checked."""

    teams: Tuple[Team, ...]
    routing: Routing
    default_priority: str
    priority_rules: Tuple[PriorityRule, ...]
    tier_bumps: Mapping[str, int]
    sla: Mapping[str, SlaTerms]
    signals: Tuple[SignalRule, ...] = ()
    declined_offer_cooldown_turns: int = DEFAULT_DECLINED_OFFER_COOLDOWN_TURNS
    customer_initiated: CustomerInitiated = field(default_factory=CustomerInitiated)
    source: str = "escalation.yml"

    def team(self, key: str) -> Team:
        """The team called `key`.

        Raises:
            KeyError: no team has that key.
        """
        for team in self.teams:
            if team.key == key:
                return team
        raise KeyError(f"no team {key!r} in {self.source}; allowed: {', '.join(self.team_keys)}")

    @property
    def team_keys(self) -> Tuple[str, ...]:
        return tuple(team.key for team in self.teams)


# --- Errors --------------------------------------------------------------------------


class EscalationConfigError(ConfigError):
    """escalation.yml has mistakes; `problems` lists them all, `str()` one per line."""


# --- Small parsers, public because the engine and tests use them ---------------------


def parse_duration(text: str) -> dt.timedelta:
    """Read "15m", "4h", "1h30m" or "2d" as a duration.

    Raises:
        ValueError: the text is not such a duration, or is zero.
    """
    match = _DURATION_PATTERN.match(text.strip().replace(" ", ""))
    if not match or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r}")
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    duration = dt.timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= dt.timedelta(0):
        raise ValueError(f"a duration must be longer than zero: {text!r}")
    return duration


def parse_time_range(text: str) -> TimeRange:
    """Read "08:00-20:00" as opening hours; "24:00" is allowed as an end.

    Raises:
        ValueError: not a range, an impossible time, or the end is not after the start.
    """
    match = _RANGE_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"not a time range: {text!r}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"not a time of day: {text!r}")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end <= start:
        # Overnight shifts are written as two ranges on consecutive days.
        raise ValueError(f"the end is not after the start: {text!r}")
    return TimeRange(start, end)


# --- Loading ---------------------------------------------------------------------------


def load_policy(path: str | Path) -> EscalationConfig:
    """Read and check an escalation.yml.

    Args:
        path: The file to read.

    Returns:
        The checked policy.

    Raises:
        EscalationConfigError: the file is missing, is not valid YAML, or breaks any rule;
            every problem found is listed, not just the first.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise EscalationConfigError(
            [
                ConfigProblem(
                    path.name,
                    1,
                    f"cannot read the file ({error.strerror})",
                    "a readable UTF-8 YAML file",
                )
            ]
        ) from None
    return parse_policy(text, source=path.name)


def parse_policy(text: str, source: str = "escalation.yml") -> EscalationConfig:
    """Check the text of an escalation.yml; `source` names the file in error messages.

    Raises:
        EscalationConfigError: as for `load_policy`.
    """
    try:
        document = load_with_lines(text, source)
    except ConfigError as error:
        raise EscalationConfigError(error.problems) from None
    checker = _Checker(source)
    config = checker.check_document(document)
    if checker.problems or config is None:
        raise EscalationConfigError(sorted(checker.problems, key=lambda problem: problem.line or 0))
    return config


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _names(choices: Iterable[str]) -> str:
    return ", ".join(choices)


# --- The checker -------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    # YAML `true` loads as bool, which Python counts as an int: refuse it.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Checker:
    """Walks the loaded YAML, collecting every problem and building the dataclasses."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: List[ConfigProblem] = []

    def add(self, line: int, what: str, allowed: str) -> None:
        self.problems.append(ConfigProblem(self.source, line, what, allowed))

    # --- generic shapes --------------------------------------------------------------

    def keys(
        self, mapping: Any, allowed: Sequence[str], required: Sequence[str], where: str
    ) -> None:
        """Report unknown and missing keys of `mapping`."""
        for key in mapping:
            if key not in allowed:
                self.add(
                    key_line(mapping, key),
                    f"unknown key {key!r} in {where}{_did_you_mean(key, allowed)}",
                    _names(allowed),
                )
        for key in required:
            if key not in mapping:
                self.add(
                    line_of(mapping),
                    f"{where} is missing {key!r}",
                    f"{where} with {_names(required)}",
                )

    def mapping(self, parent: Any, key: str, where: str) -> Any | None:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.add(
                key_line(parent, key),
                f"{where} must be a mapping of 'name: value' lines, not {_kind(value)}",
                "a mapping (indented 'name: value' lines)",
            )
            return None
        return value

    def sequence(self, parent: Any, key: str, where: str) -> Any | None:
        value = parent.get(key)
        if not isinstance(value, list):
            self.add(
                key_line(parent, key),
                f"{where} must be a list, not {_kind(value)}",
                "a list ('- item' lines or [a, b])",
            )
            return None
        return value

    def string(self, parent: Any, key: str, where: str) -> str | None:
        value = parent.get(key)
        if not isinstance(value, str) or not value.strip():
            self.add(
                value_line(parent, key),
                f"{where} must be text, not {_kind(value)}",
                "non-empty text",
            )
            return None
        return value.strip()

    def strings(
        self,
        parent: Any,
        key: str,
        where: str,
        choices: Sequence[str] | None = None,
        normalise: Callable[[str], str] = str.strip,
        noun: str = "value",
    ) -> Tuple[str, ...] | None:
        """A list of text items, each one of `choices` when given; a single item is accepted too."""
        value = parent.get(key)
        if isinstance(value, str):
            # `categories: billing` is a natural shorthand for a one-item list.
            items: List[Tuple[Any, int]] = [(value, value_line(parent, key))]
        elif isinstance(value, list):
            items = [(item, item_line(value, index)) for index, item in enumerate(value)]
        else:
            self.add(
                key_line(parent, key),
                f"{where} must be a list of text, not {_kind(value)}",
                "a list such as [a, b]" if choices is None else f"a list of: {_names(choices)}",
            )
            return None
        result: List[str] = []
        ok = True
        for item, line in items:
            if not isinstance(item, str) or not item.strip():
                self.add(
                    line,
                    f"{where} has an item that is not text: {item!r}",
                    "non-empty text" if choices is None else _names(choices),
                )
                ok = False
                continue
            text = normalise(item)
            if choices is not None and text not in choices:
                self.add(
                    line,
                    f"unknown {noun} {text!r} in {where}{_did_you_mean(text, choices)}",
                    _names(choices),
                )
                ok = False
                continue
            result.append(text)
        return tuple(result) if ok else None

    def integer(self, parent: Any, key: str, where: str, low: int, high: int | None) -> int | None:
        value = parent.get(key)
        allowed = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
        if not _is_int(value) or value < low or (high is not None and value > high):
            self.add(
                value_line(parent, key),
                f"{where} must be a whole number, not {value!r}"
                if not _is_int(value)
                else f"{where} is {value}, out of range",
                allowed,
            )
            return None
        return int(value)

    def priority(self, parent: Any, key: str, where: str) -> str | None:
        value = parent.get(key)
        text = value.strip().upper() if isinstance(value, str) else value
        if text not in PRIORITIES:
            self.add(
                value_line(parent, key),
                f"unknown priority {value!r} in "
                f"{where}{_did_you_mean(str(value).upper(), PRIORITIES)}",
                f"{_names(PRIORITIES)} (P1 is the most urgent)",
            )
            return None
        return str(text)

    def duration(self, parent: Any, key: str, where: str) -> dt.timedelta | None:
        value = parent.get(key)
        try:
            if not isinstance(value, str):
                raise ValueError
            return parse_duration(value)
        except ValueError:
            self.add(
                value_line(parent, key), f"bad duration {value!r} in {where}", _DURATION_ALLOWED
            )
            return None

    # --- the document ----------------------------------------------------------------

    def check_document(self, document: Any) -> EscalationConfig | None:
        if not isinstance(document, dict):
            self.add(
                line_of(document) if document is not None else 1,
                f"the file must be a mapping of sections, not {_kind(document)}",
                f"sections {_names(_TOP_LEVEL_KEYS)}",
            )
            return None
        self.keys(document, _TOP_LEVEL_KEYS, _REQUIRED_TOP_LEVEL, "the file")

        teams = self.check_teams(document) if "teams" in document else None
        team_map = {team.key: team for team in teams or ()}
        routing = (
            self.check_routing(document, team_map, teams is not None)
            if "routing" in document
            else None
        )
        default_priority = (
            self.priority(document, "default_priority", "default_priority")
            if "default_priority" in document
            else None
        )
        rules = self.check_priority_rules(document) if "priority_rules" in document else ()
        bumps = self.check_tier_bumps(document) if "tier_bumps" in document else {}
        sla = self.check_sla(document) if "sla" in document else None
        signal_rules = self.check_signals(document) if "signals" in document else ()
        cooldown = (
            self.integer(
                document, "declined_offer_cooldown_turns", "declined_offer_cooldown_turns", 0, None
            )
            if "declined_offer_cooldown_turns" in document
            else DEFAULT_DECLINED_OFFER_COOLDOWN_TURNS
        )
        initiated = (
            self.check_customer_initiated(document)
            if "customer_initiated" in document
            else CustomerInitiated()
        )
        if (
            self.problems
            or teams is None
            or routing is None
            or default_priority is None
            or sla is None
            or rules is None
            or bumps is None
            or signal_rules is None
            or cooldown is None
            or initiated is None
        ):
            return None
        return EscalationConfig(
            teams=teams,
            routing=routing,
            default_priority=default_priority,
            priority_rules=rules,
            tier_bumps=bumps,
            sla=sla,
            signals=signal_rules,
            declined_offer_cooldown_turns=cooldown,
            customer_initiated=initiated,
            source=self.source,
        )

    # --- teams -------------------------------------------------------------------------

    def check_teams(self, document: Any) -> Tuple[Team, ...] | None:
        entries = self.sequence(document, "teams", "teams")
        if entries is None:
            return None
        if not entries:
            self.add(key_line(document, "teams"), "teams is empty", "at least one team")
            return None
        teams: List[Team] = []
        first_line: Dict[str, int] = {}
        ok = True
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.add(
                    item_line(entries, index),
                    f"a team must be a mapping, not {_kind(entry)}",
                    f"a team with {_names(_REQUIRED_TEAM_KEYS)}",
                )
                ok = False
                continue
            key = entry.get("key")
            if isinstance(key, str) and key in first_line:
                self.add(
                    value_line(entry, "key"),
                    f"duplicate team key {key!r}",
                    f"a key no other team uses (first used on line {first_line[key]})",
                )
                ok = False
            elif isinstance(key, str):
                first_line[key] = value_line(entry, "key")
            team = self.check_team(entry)
            if team is None:
                ok = False
            else:
                teams.append(team)
        return tuple(teams) if ok else None

    def check_team(self, entry: Any) -> Team | None:
        before = len(self.problems)
        label = f"team {entry.get('key')!r}" if isinstance(entry.get("key"), str) else "a team"
        self.keys(entry, _TEAM_KEYS, _REQUIRED_TEAM_KEYS, label)
        key = self.string(entry, "key", f"{label}: key") if "key" in entry else None
        if key is not None and not _KEY_PATTERN.match(key):
            self.add(
                value_line(entry, "key"),
                f"team key {key!r} is not a plain lowercase name",
                "lowercase letters, digits and _ starting with a letter, e.g. billing",
            )
        name = self.string(entry, "name", f"{label}: name") if "name" in entry else None
        categories = (
            self.strings(
                entry, "categories", f"{label}: categories", CASE_CATEGORIES, _lower, "category"
            )
            if "categories" in entry
            else ()
        )
        skills = self.strings(entry, "skills", f"{label}: skills") if "skills" in entry else ()
        if "categories" not in entry and "skills" not in entry:
            self.add(
                line_of(entry),
                f"{label} lists neither categories nor skills",
                f"categories ({_names(CASE_CATEGORIES)}) and/or skills",
            )
        languages = None
        if "languages" in entry:
            languages = self.strings(entry, "languages", f"{label}: languages")
            if languages is not None and not languages:
                self.add(
                    key_line(entry, "languages"),
                    f"{label} speaks no languages",
                    "at least one language code, e.g. [en]",
                )
            for language in languages or ():
                if not _LANGUAGE_PATTERN.match(language):
                    self.add(
                        key_line(entry, "languages"),
                        f"{label}: {language!r} is not a language code",
                        "ISO 639 codes such as en, cy, fr, pt-BR",
                    )
        tiers = None
        if "tiers" in entry:
            tiers = self.strings(entry, "tiers", f"{label}: tiers")
            if tiers is not None and not tiers:
                self.add(
                    key_line(entry, "tiers"),
                    f"{label} has no tiers",
                    "at least one tier, lowest first, e.g. [agent, specialist, supervisor]",
                )
            for tier in {tier for tier in tiers or () if (tiers or ()).count(tier) > 1}:
                self.add(
                    key_line(entry, "tiers"),
                    f"{label} lists tier {tier!r} twice",
                    "each tier once, lowest first",
                )
        hours = self.check_business_hours(entry, label) if "business_hours" in entry else None
        timezone = self.check_timezone(entry, label) if "timezone" in entry else None
        if len(self.problems) > before:
            return None
        assert key and name and languages is not None and tiers and hours and timezone  # noqa: S101 — narrows types after the problems check above returned
        return Team(
            key=key,
            name=name,
            categories=categories or (),
            skills=skills or (),
            languages=languages,
            tiers=tiers,
            business_hours=hours,
            timezone=timezone,
        )

    def check_business_hours(self, entry: Any, label: str) -> BusinessHours | None:
        value = entry.get("business_hours")
        if isinstance(value, str) and value.strip().lower() == ALWAYS_OPEN:
            return BusinessHours.twenty_four_seven()
        if not isinstance(value, dict):
            self.add(
                key_line(entry, "business_hours"),
                f"{label}: business_hours must list weekdays or be '{ALWAYS_OPEN}', not "
                f"{_kind(value)}",
                f"'{ALWAYS_OPEN}', or weekday lines ({_names(WEEKDAYS)}) with {_RANGE_ALLOWED}",
            )
            return None
        days: List[Tuple[TimeRange, ...]] = [() for _ in WEEKDAYS]
        ok = True
        for day, spec in value.items():
            line = key_line(value, day)
            day_name = str(day).strip().lower()
            if day_name not in WEEKDAYS:
                self.add(
                    line,
                    f"{label}: unknown weekday {day!r}{_did_you_mean(day_name, WEEKDAYS)}",
                    f"{_names(WEEKDAYS)} (a day left out is closed)",
                )
                ok = False
                continue
            ranges = self.check_day(spec, line, f"{label}: {day_name}")
            if ranges is None:
                ok = False
                continue
            days[WEEKDAYS.index(day_name)] = ranges
        if ok and not any(days):
            self.add(
                key_line(entry, "business_hours"),
                f"{label} is never open",
                "opening hours on at least one weekday",
            )
            ok = False
        return BusinessHours(days=tuple(days)) if ok else None

    def check_day(self, spec: Any, line: int, where: str) -> Tuple[TimeRange, ...] | None:
        if isinstance(spec, str) and spec.strip().lower() == CLOSED:
            return ()
        texts = [spec] if isinstance(spec, str) else spec if isinstance(spec, list) else None
        if texts is None:
            self.add(line, f"bad time range {spec!r} for {where}", _RANGE_ALLOWED)
            return None
        ranges: List[TimeRange] = []
        for text in texts:
            try:
                if not isinstance(text, str):
                    raise ValueError
                ranges.append(parse_time_range(text))
            except ValueError:
                self.add(line, f"bad time range {text!r} for {where}", _RANGE_ALLOWED)
                return None
        ranges.sort(key=lambda time_range: time_range.start)
        for earlier, later in itertools.pairwise(ranges):
            if later.start < earlier.end:
                self.add(
                    line,
                    f"opening hours {earlier} and {later} overlap on {where}",
                    "ranges that do not overlap",
                )
                return None
        return tuple(ranges)

    def check_timezone(self, entry: Any, label: str) -> str | None:
        value = entry.get("timezone")
        line = value_line(entry, "timezone")
        if not isinstance(value, str) or not value.strip():
            self.add(
                line,
                f"{label}: timezone must be text, not {_kind(value)}",
                "an IANA time zone such as Europe/London",
            )
            return None
        name = value.strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            # Only on error: listing every zone on disk is slow-ish.
            hint = _did_you_mean(name, zoneinfo.available_timezones())
            self.add(
                line,
                f"{label}: unknown time zone {name!r}{hint}",
                "an IANA time zone such as Europe/London, Europe/Dublin, America/New_York",
            )
            return None
        return name

    # --- routing -----------------------------------------------------------------------

    def check_routing(
        self, document: Any, teams: Mapping[str, Team], teams_ok: bool
    ) -> Routing | None:
        routing = self.mapping(document, "routing", "routing")
        if routing is None:
            return None
        before = len(self.problems)
        self.keys(routing, _ROUTING_KEYS, _ROUTING_KEYS, "routing")
        known = list(teams)

        def team_ref(parent: Any, key: str, where: str) -> str | None:
            value = parent.get(key)
            if not isinstance(value, str) or (teams_ok and value not in teams):
                self.add(
                    value_line(parent, key),
                    f"{where} routes to unknown team {value!r}{_did_you_mean(str(value), known)}",
                    f"a team key: {_names(known)}",
                )
                return None
            return value

        default_team = (
            team_ref(routing, "default_team", "routing.default_team")
            if "default_team" in routing
            else None
        )
        categories: Dict[str, str] = {}
        table = (
            self.mapping(routing, "categories", "routing.categories")
            if "categories" in routing
            else None
        )
        for category in table or {}:
            name = str(category).strip().lower()
            if name not in CASE_CATEGORIES:
                self.add(
                    key_line(table, category),
                    f"unknown category {category!r} in routing.categories"
                    f"{_did_you_mean(name, CASE_CATEGORIES)}",
                    _names(CASE_CATEGORIES),
                )
                continue
            target = team_ref(table, category, f"routing.categories.{name}")
            if target is None:
                continue
            if teams_ok and name not in teams[target].categories:
                # Keeps the team list and the routing table telling the same story.
                self.add(
                    value_line(table, category),
                    f"routing.categories.{name} sends {name} cases to team {target!r}, "
                    f"which does not list {name!r} in its categories",
                    f"add {name!r} to that team's categories, or route {name} to a team that "
                    "lists it",
                )
                continue
            categories[name] = target

        next_hop: Dict[str, NextHop | None] = {}
        hops: Any = (
            self.mapping(routing, "next_hop", "routing.next_hop") if "next_hop" in routing else None
        )
        for team_key in hops or {}:
            line = key_line(hops, team_key)
            if teams_ok and team_key not in teams:
                self.add(
                    line,
                    f"routing.next_hop names unknown team {team_key!r}"
                    f"{_did_you_mean(str(team_key), known)}",
                    f"a team key: {_names(known)}",
                )
                continue
            spec = hops[team_key]
            if isinstance(spec, str) and spec.strip().lower() == TOP_OF_MATRIX:
                next_hop[team_key] = None
                continue
            if not isinstance(spec, dict):
                self.add(
                    line,
                    f"routing.next_hop.{team_key} must be '{TOP_OF_MATRIX}' or a team and tier",
                    f"'{TOP_OF_MATRIX}', or {{team: <team key>, tier: <one of its tiers>}}",
                )
                continue
            self.keys(spec, _NEXT_HOP_KEYS, _NEXT_HOP_KEYS, f"routing.next_hop.{team_key}")
            target = (
                team_ref(spec, "team", f"routing.next_hop.{team_key}") if "team" in spec else None
            )
            tier = spec.get("tier")
            if target is not None and teams_ok and tier not in teams[target].tiers:
                self.add(
                    value_line(spec, "tier"),
                    f"unknown tier {tier!r} of team {target!r} in routing.next_hop.{team_key}"
                    f"{_did_you_mean(str(tier), teams[target].tiers)}",
                    f"a tier of {target}: {_names(teams[target].tiers)}",
                )
                continue
            if target is not None and isinstance(tier, str):
                next_hop[team_key] = NextHop(target, tier)
        if hops is not None and teams_ok:
            for team_key in teams:
                if team_key not in hops:
                    self.add(
                        key_line(routing, "next_hop"),
                        f"routing.next_hop does not say who is above team {team_key!r}",
                        f"a line '{team_key}: {{team: …, tier: …}}' or '{team_key}: "
                        f"{TOP_OF_MATRIX}'",
                    )
            self.check_hops_end(hops, next_hop)
        if len(self.problems) > before or default_team is None:
            return None
        return Routing(default_team=default_team, categories=categories, next_hop=next_hop)

    def check_hops_end(self, hops: Any, next_hop: Mapping[str, NextHop | None]) -> None:
        """Every chain of next hops must reach a team marked top, or escalation never ends."""
        for start in next_hop:
            seen = [start]
            hop = next_hop.get(start)
            while hop is not None and hop.team not in seen:
                seen.append(hop.team)
                hop = next_hop.get(hop.team)
            if hop is not None:
                self.add(
                    key_line(hops, start),
                    f"routing.next_hop goes round in a circle: {' → '.join([*seen, hop.team])}",
                    f"chains that end at a team marked '{TOP_OF_MATRIX}'",
                )
                return

    # --- priority --------------------------------------------------------------------

    def check_priority_rules(self, document: Any) -> Tuple[PriorityRule, ...] | None:
        entries = self.sequence(document, "priority_rules", "priority_rules")
        if entries is None:
            return None
        rules: List[PriorityRule] = []
        first_line: Dict[str, int] = {}
        ok = True
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.add(
                    item_line(entries, index),
                    f"a priority rule must be a mapping, not {_kind(entry)}",
                    "a rule with name, set and at least one of " + _names(_RULE_CONDITIONS),
                )
                ok = False
                continue
            before = len(self.problems)
            name = entry.get("name")
            label = f"priority rule {name!r}" if isinstance(name, str) else "a priority rule"
            self.keys(entry, _RULE_KEYS, ("name", "set"), label)
            if isinstance(name, str) and name in first_line:
                self.add(
                    value_line(entry, "name"),
                    f"duplicate rule name {name!r}",
                    f"a name no other rule uses (first used on line {first_line[name]})",
                )
            elif isinstance(name, str):
                first_line[name] = value_line(entry, "name")
            name = self.string(entry, "name", f"{label}: name") if "name" in entry else None
            priority = self.priority(entry, "set", label) if "set" in entry else None
            if not any(condition in entry for condition in _RULE_CONDITIONS):
                self.add(
                    line_of(entry),
                    f"{label} has nothing to match on",
                    f"at least one of {_names(_RULE_CONDITIONS)}",
                )
            keywords = (
                self.strings(entry, "keywords", f"{label}: keywords", None, _lower)
                if "keywords" in entry
                else ()
            )
            intents = (
                self.strings(entry, "intents", f"{label}: intents") if "intents" in entry else ()
            )
            categories = (
                self.strings(
                    entry, "categories", f"{label}: categories", CASE_CATEGORIES, _lower, "category"
                )
                if "categories" in entry
                else ()
            )
            urgency = (
                self.strings(
                    entry, "urgency", f"{label}: urgency", CASE_URGENCIES, _lower, "urgency"
                )
                if "urgency" in entry
                else ()
            )
            description = entry.get("description", "")
            if len(self.problems) > before:
                ok = False
                continue
            assert name and priority  # noqa: S101 — narrows types after the problems check above
            rules.append(
                PriorityRule(
                    name=name,
                    priority=priority,
                    keywords=keywords or (),
                    intents=intents or (),
                    categories=categories or (),
                    urgency=urgency or (),
                    description=str(description),
                )
            )
        return tuple(rules) if ok else None

    def check_tier_bumps(self, document: Any) -> Dict[str, int] | None:
        table = self.mapping(document, "tier_bumps", "tier_bumps")
        if table is None:
            return None
        bumps: Dict[str, int] = {}
        ok = True
        for tier in table:
            steps = self.integer(table, tier, f"tier_bumps.{tier}", 0, MAX_PRIORITY_STEPS)
            if steps is None:
                ok = False
            else:
                bumps[str(tier).strip().lower()] = steps
        return bumps if ok else None

    # --- SLA ---------------------------------------------------------------------------

    def check_sla(self, document: Any) -> Dict[str, SlaTerms] | None:
        table = self.mapping(document, "sla", "sla")
        if table is None:
            return None
        terms: Dict[str, SlaTerms] = {}
        ok = True
        for key in table:
            priority = str(key).strip().upper()
            if priority not in PRIORITIES:
                self.add(
                    key_line(table, key),
                    f"unknown priority {key!r} in sla{_did_you_mean(priority, PRIORITIES)}",
                    _names(PRIORITIES),
                )
                ok = False
                continue
            entry = self.mapping(table, key, f"sla.{priority}")
            sla = self.check_sla_entry(entry, priority) if entry is not None else None
            if sla is None:
                ok = False
            else:
                terms[priority] = sla
        for priority in PRIORITIES:
            if priority not in {str(key).strip().upper() for key in table}:
                self.add(
                    key_line(document, "sla"),
                    f"sla has no terms for {priority}",
                    f"terms for each of {_names(PRIORITIES)}",
                )
                ok = False
        return terms if ok else None

    def check_sla_entry(self, entry: Any, priority: str) -> SlaTerms | None:
        before = len(self.problems)
        where = f"sla.{priority}"
        self.keys(entry, _SLA_KEYS, _SLA_KEYS, where)
        first = (
            self.duration(entry, "first_response", f"{where}.first_response")
            if "first_response" in entry
            else None
        )
        resolution = (
            self.duration(entry, "resolution", f"{where}.resolution")
            if "resolution" in entry
            else None
        )
        if first and resolution and resolution < first:
            self.add(
                value_line(entry, "resolution"),
                f"{where}.resolution ({entry['resolution']}) is shorter than its first_response "
                f"({entry['first_response']})",
                "a resolution time at least as long as the first response",
            )
        hours_only = entry.get("business_hours_only")
        if "business_hours_only" in entry and not isinstance(hours_only, bool):
            self.add(
                value_line(entry, "business_hours_only"),
                f"{where}.business_hours_only must be true or false, not {hours_only!r}",
                "true (the clock stops outside the team's hours) or false (24/7)",
            )
        on_breach: Dict[BreachKind, Tuple[BreachAction, ...]] = {}
        table = (
            self.mapping(entry, "on_breach", f"{where}.on_breach") if "on_breach" in entry else None
        )
        kinds = [kind.value for kind in BreachKind]
        actions = [action.value for action in BreachAction]
        if table is not None:
            self.keys(table, kinds, kinds, f"{where}.on_breach")
            for kind in kinds:
                if kind not in table:
                    continue
                chosen = self.strings(
                    table, kind, f"{where}.on_breach.{kind}", actions, _lower, "breach action"
                )
                if chosen is not None and not chosen:
                    self.add(
                        key_line(table, kind),
                        f"{where}.on_breach.{kind} does nothing",
                        f"one or more of {_names(actions)}",
                    )
                elif chosen is not None:
                    on_breach[BreachKind(kind)] = tuple(
                        dict.fromkeys(BreachAction(a) for a in chosen)
                    )
        if len(self.problems) > before:
            return None
        assert first and resolution and isinstance(hours_only, bool)  # noqa: S101 — narrows types after the problems check above returned
        return SlaTerms(priority, first, resolution, hours_only, on_breach)

    # --- signals and customer-initiated ------------------------------------------

    def check_signals(self, document: Any) -> Tuple[SignalRule, ...] | None:
        entries = self.sequence(document, "signals", "signals")
        if entries is None:
            return None
        rules: List[SignalRule] = []
        first_line: Dict[str, int] = {}
        ok = True
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.add(
                    item_line(entries, index),
                    f"a signal must be a mapping, not {_kind(entry)}",
                    "a signal with name, type and action",
                )
                ok = False
                continue
            rule = self.check_signal(entry, first_line)
            if rule is None:
                ok = False
            else:
                rules.append(rule)
        return tuple(rules) if ok else None

    def check_signal(self, entry: Any, first_line: Dict[str, int]) -> SignalRule | None:
        before = len(self.problems)
        name = entry.get("name")
        label = f"signal {name!r}" if isinstance(name, str) else "a signal"
        if isinstance(name, str) and name in first_line:
            self.add(
                value_line(entry, "name"),
                f"duplicate signal name {name!r}",
                f"a name no other signal uses (first used on line {first_line[name]})",
            )
        elif isinstance(name, str):
            first_line[name] = value_line(entry, "name")
        kind = entry.get("type")
        if kind not in signals.SIGNAL_TYPES:
            self.add(
                value_line(entry, "type") if "type" in entry else line_of(entry),
                f"{label}: unknown signal type {kind!r}"
                f"{_did_you_mean(str(kind), signals.SIGNAL_TYPES)}",
                _names(signals.SIGNAL_TYPES),
            )
            self.keys(
                entry,
                (*_SIGNAL_COMMON_KEYS, *sum(_SIGNAL_TYPE_KEYS.values(), ())),
                ("name", "type", "action"),
                label,
            )
            return None
        own = _SIGNAL_TYPE_KEYS[kind]
        self.keys(
            entry,
            (*_SIGNAL_COMMON_KEYS, *own),
            ("name", "type", "action", *_SIGNAL_REQUIRED_KEYS.get(kind, ())),
            label,
        )
        name = self.string(entry, "name", f"{label}: name") if "name" in entry else None
        action = entry.get("action")
        if "action" in entry and action not in signals.SIGNAL_ACTIONS:
            self.add(
                value_line(entry, "action"),
                f"{label}: unknown action {action!r}"
                f"{_did_you_mean(str(action), signals.SIGNAL_ACTIONS)}",
                "offer (ask if they want a person) or handoff (pass them on straight away)",
            )
        raise_priority = (
            self.integer(entry, "raise_priority", f"{label}: raise_priority", 0, MAX_PRIORITY_STEPS)
            if "raise_priority" in entry
            else 0
        )
        below = entry.get("below")
        if "below" in entry and (not _is_number(below) or not -1 <= below <= 1):
            self.add(
                value_line(entry, "below"),
                f"{label}: below must be a sentiment score, not {below!r}",
                "a number from -1 (furious) to 1 (delighted), e.g. -0.5",
            )
        over = (
            self.integer(entry, "over_last_turns", f"{label}: over_last_turns", 1, None)
            if "over_last_turns" in entry
            else None
        )
        counts: Dict[str, Any] = {
            key: self.integer(entry, key, f"{label}: {key}", 1, None) if key in entry else None
            for key in ("fallbacks", "frustrated_messages", "messages", "times")
        }
        if (
            kind == signals.FRUSTRATION
            and "below" not in entry
            and "frustrated_messages" not in entry
        ):
            self.add(
                line_of(entry),
                f"{label} says neither when the mood is too low (below) "
                "nor how many messages must be frustrated (frustrated_messages)",
                "below: -0.5 and/or frustrated_messages: 2",
            )
        for key in ("frustrated_messages", "messages"):
            if over is not None and counts[key] is not None and counts[key] > over:
                self.add(
                    value_line(entry, key),
                    f"{label}: {key} is {counts[key]} but only the last {over} messages "
                    "are read (over_last_turns), so it can never fire",
                    f"a number from 1 to {over}",
                )
        if len(self.problems) > before:
            return None
        assert name and isinstance(action, str)  # noqa: S101 — narrows types after the problems check above returned
        return SignalRule(
            name=name,
            type=kind,
            action=action,
            raise_priority=raise_priority or 0,
            below=float(below) if below is not None else None,
            frustrated_messages=counts["frustrated_messages"],
            over_last_turns=over,
            messages=counts["messages"],
            fallbacks=counts["fallbacks"],
            times=counts["times"],
            description=str(entry.get("description", "")),
        )

    def check_customer_initiated(self, document: Any) -> CustomerInitiated | None:
        table = self.mapping(document, "customer_initiated", "customer_initiated")
        if table is None:
            return None
        before = len(self.problems)
        self.keys(table, _CUSTOMER_INITIATED_KEYS, ("keywords",), "customer_initiated")
        keywords = (
            self.strings(table, "keywords", "customer_initiated: keywords", None, _lower)
            if "keywords" in table
            else None
        )
        level = (
            self.integer(table, "start_level", "customer_initiated.start_level", 0, None)
            if "start_level" in table
            else 1
        )
        if len(self.problems) > before or keywords is None or level is None:
            return None
        return CustomerInitiated(keywords=keywords, start_level=level)


def _lower(text: str) -> str:
    return text.strip().lower()


def _kind(value: Any) -> str:
    """How a wrong value looks to a person reading the file."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return repr(value)
