"""The escalation vocabulary shared by the policy, the ticket store and the SLA clock.

The five escalation types of the source article, plus `sentiment` (signals issue):
functional (category → team), hierarchical (next level up), priority (severity → P1),
automatic (rules and timers), customer_initiated ("I want a human / your manager").
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Protocol, Tuple

from bot.escalation.signals import CustomerTurn


class EscalationType(str, enum.Enum):
    FUNCTIONAL = "functional"
    HIERARCHICAL = "hierarchical"
    PRIORITY = "priority"
    AUTOMATIC = "automatic"
    CUSTOMER_INITIATED = "customer_initiated"
    SENTIMENT = "sentiment"


# P1 is the most urgent. Stored as these strings.
PRIORITIES: Tuple[str, ...] = ("P1", "P2", "P3", "P4")


class BreachKind(str, enum.Enum):
    FIRST_RESPONSE = "first_response"  # nobody picked the ticket up in time
    RESOLUTION = "resolution"  # not resolved in time


class BreachAction(str, enum.Enum):
    ESCALATE = "escalate"  # one level up the team's tiers (hierarchical)
    NOTIFY = "notify"  # log + webhook
    RAISE_PRIORITY = "raise_priority"  # one step towards P1


@dataclass(frozen=True)
class EscalationReason:
    type: EscalationType
    rule: str  # the name of the rule in escalation.yml (or a built-in one)
    detail: str  # human-readable: what matched


# Which of an escalation's reasons says why it happened, most telling first: every
# decision starts with the functional one (category → team), so the cause is the
# signal, the customer's request or the severity rule that came with it, if any.
CAUSE_PRECEDENCE: Tuple[EscalationType, ...] = (
    EscalationType.SENTIMENT,
    EscalationType.AUTOMATIC,
    EscalationType.CUSTOMER_INITIATED,
    EscalationType.PRIORITY,
    EscalationType.HIERARCHICAL,
    EscalationType.FUNCTIONAL,
)


def primary_reason(reasons: Tuple[EscalationReason, ...]) -> EscalationReason | None:
    """The reason the metrics file an escalation under (see `CAUSE_PRECEDENCE`)."""
    for kind in CAUSE_PRECEDENCE:
        for reason in reasons:
            if reason.type == kind:
                return reason
    return reasons[0] if reasons else None


@dataclass(frozen=True)
class CaseSignals:
    """What the bot knows about a case when it escalates."""

    texts: Tuple[str, ...]  # the customer's messages, oldest first
    intents: Tuple[str, ...]  # the intent of each customer message
    category: str | None = None  # from the case form: billing, technical, orders, account, other
    urgency: str | None = None  # from the case form: low, normal, high, critical
    customer_tier: str | None = None  # "standard", "business"; None when not verified
    customer_requested: bool = False  # the customer asked for a person
    # The customer's turns since the bot last took the conversation, with their
    # sentiment: what the `signals:` rules read.
    turns: Tuple[CustomerTurn, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class RoutingDecision:
    team: str
    level: int  # 0 = the team's first tier
    tier: str  # the name of that tier (agent, specialist, supervisor)
    priority: str  # P1..P4
    priority_rules: Tuple[str, ...]  # the rules that set or bumped the priority
    reasons: Tuple[EscalationReason, ...]
    first_response_due: dt.datetime
    resolution_due: dt.datetime


@dataclass(frozen=True)
class NextLevel:
    team: str
    level: int
    tier: str


@dataclass(frozen=True)
class BreachOutcome:
    actions: Tuple[BreachAction, ...]
    # Filled when `actions` escalates or raises priority and there is somewhere to go.
    next_level: NextLevel | None = None
    new_priority: str | None = None
    notes: Tuple[str, ...] = field(default_factory=tuple)


class EscalationPolicy(Protocol):
    """What the ticket store and the clock need from escalation.yml."""

    def route(self, signals: CaseSignals, now: dt.datetime) -> RoutingDecision:
        """Team, level, priority, reasons and SLA deadlines for a new escalation."""

    def deadlines(
        self, priority: str, team: str, start: dt.datetime
    ) -> Tuple[dt.datetime, dt.datetime]:
        """First-response and resolution deadlines from `start`, in the team's business hours."""

    def on_breach(self, kind: BreachKind, priority: str, team: str, level: int) -> BreachOutcome:
        """What to do when a ticket of this priority, at this team and level, breaches `kind`."""
