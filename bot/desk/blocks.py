"""Customers kept out of the widget after abuse: by conversation, or by address for a while.

The one writer of `customer_blocks`. A block by conversation lasts until a
supervisor lifts it; a block by address ends by itself (BATON_BLOCK_ADDRESS_HOURS),
because an office or a mobile carrier's NAT puts many customers behind one
address. The widget checks an in-memory snapshot (`BlockSnapshot`) that the desk
refreshes, so a blocked customer costs no database read per message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.store.models import CustomerBlock

SESSION = "session"
ADDRESS = "address"
DEFAULT_ADDRESS_BLOCK_HOURS = 24
MAX_REASON_LENGTH = 500


class BlockNotFound(LookupError):
    """No block with that id is in force."""


@dataclass(frozen=True)
class Block:
    id: int
    kind: str
    value: str
    reason: str
    created_by: int | None
    created_at: dt.datetime
    expires_at: dt.datetime | None

    def as_json(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            # A conversation id is a guest's bearer secret: consoles see a prefix only.
            "value": self.value[:8] + "…" if self.kind == SESSION else self.value,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


@dataclass(frozen=True)
class BlockSnapshot:
    """The blocks in force at one moment, for checks on the event loop."""

    sessions: FrozenSet[str] = frozenset()
    addresses: FrozenSet[str] = frozenset()

    def blocks(self, session_id: str | None, address: str | None) -> bool:
        return (session_id is not None and session_id in self.sessions) or (
            address is not None and address in self.addresses
        )


class BlockList:
    """Adds, lifts and lists blocks."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def add(
        self,
        kind: str,
        value: str,
        reason: str,
        agent_id: int | None,
        now: dt.datetime,
        expires_at: dt.datetime | None = None,
    ) -> Block:
        if kind not in (SESSION, ADDRESS):
            raise ValueError(f"unknown block kind {kind!r}")
        with self._sessions.begin() as session:
            row = CustomerBlock(
                kind=kind,
                value=value,
                reason=reason[:MAX_REASON_LENGTH],
                created_by=agent_id,
                created_at=now,
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            return _block(row)

    def lift(self, block_id: int, now: dt.datetime) -> Block:
        """End a block now.

        Raises:
            BlockNotFound: no such block is in force.
        """
        with self._sessions.begin() as session:
            row = session.execute(
                select(CustomerBlock).where(CustomerBlock.id == block_id, *_in_force(now))
            ).scalar_one_or_none()
            if row is None:
                raise BlockNotFound(f"No block {block_id} is in force.")
            session.execute(
                update(CustomerBlock).where(CustomerBlock.id == block_id).values(lifted_at=now)
            )
            return _block(row)

    def in_force(self, now: dt.datetime) -> List[Block]:
        with self._sessions() as session:
            rows = (
                session.execute(
                    select(CustomerBlock).where(*_in_force(now)).order_by(CustomerBlock.id.desc())
                )
                .scalars()
                .all()
            )
        return [_block(row) for row in rows]

    def snapshot(self, now: dt.datetime) -> BlockSnapshot:
        blocks = self.in_force(now)
        return BlockSnapshot(
            sessions=frozenset(block.value for block in blocks if block.kind == SESSION),
            addresses=frozenset(block.value for block in blocks if block.kind == ADDRESS),
        )


def _in_force(now: dt.datetime) -> Tuple[Any, ...]:
    return (
        CustomerBlock.lifted_at.is_(None),
        or_(CustomerBlock.expires_at.is_(None), CustomerBlock.expires_at > now),
    )


def _block(row: CustomerBlock) -> Block:
    return Block(
        id=row.id,
        kind=row.kind,
        value=row.value,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
