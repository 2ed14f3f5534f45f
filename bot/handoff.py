"""Handoff requests: a customer's case, recorded with its context for a person to pick up.

Issue 3 grows this into tickets with an escalation policy; for now a request is
one row holding the context collected so far, written once per conversation turn
(a retried action finds the row it already wrote instead of adding another).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Dict

from sqlalchemy import JSON, Column, DateTime, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import sessionmaker

from bot.db import Base

# Unambiguous characters: a customer reads the reference out on the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
REFERENCE_PREFIX = "CS-"
CONTEXT_VERSION = 1


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        UniqueConstraint("conversation_id", "turn_key", name="uq_handoff_requests_turn"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    # Identifies the customer turn that asked, so a replayed action is idempotent.
    turn_key = Column(String(64), nullable=False)
    reason = Column(String(64), nullable=False)
    customer_id = Column(String(64), nullable=True)
    context = Column(JSON, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class RecordedHandoff:
    reference: str
    created: bool


def new_reference() -> str:
    suffix = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX}{suffix}"


class HandoffRequests:
    """The narrow interface the handoff action writes through."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    def record(
        self,
        conversation_id: str,
        turn_key: str,
        reason: str,
        context: Dict[str, Any],
        customer_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> RecordedHandoff:
        """Record a request once per (conversation, turn); return its reference."""
        with self._session_factory.begin() as session:
            existing = session.execute(
                select(HandoffRequest.reference).where(
                    HandoffRequest.conversation_id == conversation_id,
                    HandoffRequest.turn_key == turn_key,
                )
            ).scalar_one_or_none()
            if existing is not None:
                return RecordedHandoff(reference=existing, created=False)
            reference = new_reference()
            session.add(
                HandoffRequest(
                    reference=reference,
                    conversation_id=conversation_id,
                    turn_key=turn_key,
                    reason=reason,
                    customer_id=customer_id,
                    context={"version": CONTEXT_VERSION, **context},
                    created_at=now or dt.datetime.now(dt.timezone.utc),
                )
            )
        return RecordedHandoff(reference=reference, created=True)

    def get(self, reference: str) -> HandoffRequest | None:
        with self._session_factory() as session:
            return session.execute(
                select(HandoffRequest).where(HandoffRequest.reference == reference)
            ).scalar_one_or_none()
