"""Telling people about SLA breaches: a structured log line, a webhook, or both.

A notifier never raises into the clock's sweep: a dead webhook must not stop
the escalations themselves (those are already committed when notifiers run).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Protocol, Sequence, Tuple

import requests

logger = logging.getLogger(__name__)

WEBHOOK_EVENT = "escalation.breach"
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class BreachNotice:
    """One breach the clock handled, and what it did about it."""

    ticket_id: int
    reference: str
    kind: str  # BreachKind value: first_response | resolution
    deadline: dt.datetime
    breach_key: str
    priority: str  # after the clock's actions
    team: str
    level: int
    tier: str
    actions: Tuple[str, ...]  # BreachAction values applied
    at: dt.datetime
    notes: Tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> Dict[str, Any]:
        """The webhook body: plain JSON types, timestamps in ISO 8601 UTC."""
        body = asdict(self)
        body["deadline"] = self.deadline.isoformat()
        body["at"] = self.at.isoformat()
        body["actions"] = list(self.actions)
        body["notes"] = list(self.notes)
        return {"event": WEBHOOK_EVENT, **body}


class Notifier(Protocol):
    """Something that tells a person about a breach."""

    def notify(self, notice: BreachNotice) -> None:
        """Deliver `notice`; log a failure, never raise it."""


class LogNotifier:
    """A structured log line per breach (the reference only: no customer data)."""

    def __init__(self, logger_name: str = __name__) -> None:
        self._logger = logging.getLogger(logger_name)

    def notify(self, notice: BreachNotice) -> None:
        self._logger.warning(
            "escalation.breach ticket=%s kind=%s priority=%s team=%s level=%d actions=%s key=%s",
            notice.reference,
            notice.kind,
            notice.priority,
            notice.team,
            notice.level,
            ",".join(notice.actions),
            notice.breach_key,
        )


class WebhookNotifier:
    """POSTs each notice as JSON to a URL (a chat-ops hook, a paging service).

    Args:
        url: where to post.
        timeout: seconds for connecting and for reading the answer.
        session: a `requests.Session` to reuse connections (one is made when None).
    """

    def __init__(
        self,
        url: str,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self._session = session or requests.Session()

    def notify(self, notice: BreachNotice) -> None:
        try:
            response = self._session.post(self.url, json=notice.as_json(), timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as error:
            # Logged, not raised: the breach is recorded in the ticket's history anyway.
            status = getattr(getattr(error, "response", None), "status_code", None)
            logger.warning(
                "escalation.webhook.failed ticket=%s error=%s status=%s",
                notice.reference,
                type(error).__name__,
                status,
            )


class CompositeNotifier:
    """Every notifier in turn; one failing does not keep the others from running."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = tuple(notifiers)

    def notify(self, notice: BreachNotice) -> None:
        for notifier in self._notifiers:
            try:
                notifier.notify(notice)
            except Exception:  # a third-party notifier broke its promise not to raise
                logger.exception(
                    "escalation.notifier.failed notifier=%s ticket=%s",
                    type(notifier).__name__,
                    notice.reference,
                )
