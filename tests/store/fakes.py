"""A test double of the escalation policy (another component), implementing its Protocol.

Fixed team and deadlines; a breach escalates and notifies until level 2, then
only notifies. `raise_on_resolution` makes resolution breaches raise priority.
"""

from __future__ import annotations

import datetime as dt
from typing import List, Tuple

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

TIERS = ("agent", "specialist", "supervisor")
TOP_LEVEL = len(TIERS) - 1
FIRST_RESPONSE = dt.timedelta(minutes=15)
RESOLUTION = dt.timedelta(hours=4)


class FakePolicy:
    def __init__(self, team: str = "billing", raise_on_resolution: bool = False) -> None:
        self.team = team
        self.raise_on_resolution = raise_on_resolution
        self.breaches: List[Tuple[BreachKind, str, str, int]] = []

    def route(self, signals: CaseSignals, now: dt.datetime) -> RoutingDecision:
        first, resolution = self.deadlines("P3", self.team, now)
        return RoutingDecision(
            team=self.team,
            level=0,
            tier=TIERS[0],
            priority="P3",
            priority_rules=(),
            reasons=(
                EscalationReason(EscalationType.FUNCTIONAL, "category_billing", "category billing"),
            ),
            first_response_due=first,
            resolution_due=resolution,
        )

    def deadlines(
        self, priority: str, team: str, start: dt.datetime
    ) -> Tuple[dt.datetime, dt.datetime]:
        return start + FIRST_RESPONSE, start + RESOLUTION

    def on_breach(self, kind: BreachKind, priority: str, team: str, level: int) -> BreachOutcome:
        self.breaches.append((kind, priority, team, level))
        if kind is BreachKind.RESOLUTION and self.raise_on_resolution:
            index = PRIORITIES.index(priority)
            return BreachOutcome(
                actions=(BreachAction.RAISE_PRIORITY, BreachAction.NOTIFY),
                new_priority=PRIORITIES[max(index - 1, 0)],
            )
        if level < TOP_LEVEL:
            return BreachOutcome(
                actions=(BreachAction.ESCALATE, BreachAction.NOTIFY),
                next_level=NextLevel(team, level + 1, TIERS[level + 1]),
            )
        return BreachOutcome(actions=(BreachAction.NOTIFY,), notes=("top of the ladder",))


class CollectingNotifier:
    """Keeps every notice (a real in-memory implementation of the Notifier protocol)."""

    def __init__(self) -> None:
        self.notices: list = []

    def notify(self, notice: object) -> None:
        self.notices.append(notice)
