"""The audit log: who did what security-relevant thing, from where, and how it ended.

The one writer of the `audit_log` table (append-only: the database refuses
UPDATE and DELETE). Sign-ins are its first use; agent changes and access to
customers' data will write here too. Entries never hold a password or a token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.store.models import AuditEntry

# Actions: stable dotted names, as the log lines use.
SIGNIN = "desk.signin"
SIGNOUT = "desk.signout"
CUSTOMER_BLOCKED = "desk.customer_blocked"
CUSTOMER_UNBLOCKED = "desk.customer_unblocked"

SUCCEEDED = "succeeded"
FAILED = "failed"
# Not even tried: a budget or a back-off said no.
REFUSED = "refused"

ANONYMOUS = "anonymous"
MAX_SUBJECT_LENGTH = 320


def agent_actor(agent_id: int) -> str:
    """The actor name of a signed-in person of the desk."""
    return f"agent:{agent_id}"


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the log, as it is written and read."""

    at: dt.datetime
    action: str
    outcome: str
    actor: str = ANONYMOUS
    subject: str | None = None
    client_address: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> Dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "action": self.action,
            "outcome": self.outcome,
            "actor": self.actor,
            "subject": self.subject,
            "client_address": self.client_address,
            "details": dict(self.details),
        }


class AuditLog:
    """Appends entries and reads them back, newest first."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def append(self, record: AuditRecord) -> None:
        with self._sessions.begin() as session:
            session.add(
                AuditEntry(
                    at=record.at,
                    action=record.action,
                    outcome=record.outcome,
                    actor=record.actor,
                    # An attacker chooses what a failed sign-in names: never more than a column
                    # holds.
                    subject=record.subject[:MAX_SUBJECT_LENGTH] if record.subject else None,
                    client_address=record.client_address,
                    details=dict(record.details) or None,
                )
            )

    def entries(
        self, *, action: str | None = None, since: dt.datetime | None = None, limit: int = 100
    ) -> List[AuditRecord]:
        """The latest entries, newest first, optionally of one action and from a moment on."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        with self._sessions() as session:
            rows = session.execute(query).scalars().all()
        return [
            AuditRecord(
                at=row.at,
                action=row.action,
                outcome=row.outcome,
                actor=row.actor,
                subject=row.subject,
                client_address=row.client_address,
                details=row.details or {},
            )
            for row in rows
        ]
