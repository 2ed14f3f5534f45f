"""Abusive customers (docs/security.md): the block routes, and the blocks the widget checks.

An agent ends an abusive customer's conversation and keeps them out (by their
conversation, and optionally their addresses for a while); supervisors list and
lift blocks. `BlockWatch` holds the blocks in force as a snapshot the webchat
channel asks on every new session and message, without I/O; the monitor loop
refreshes it every tick, so blocks made on other replicas arrive too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, List

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import audit
from bot.desk import next_steps
from bot.desk.blocks import ADDRESS as BLOCK_ADDRESS
from bot.desk.blocks import SESSION as BLOCK_SESSION
from bot.desk.blocks import BlockList, BlockNotFound, BlockSnapshot
from bot.desk.service import Forbidden, InvalidRequest
from bot.desk.service import NotFound as NotFoundError
from connectors.desk import parsing
from connectors.desk.auth import SessionCheck
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.conversations_api import ConversationsApi
from connectors.desk.delivery import DeliveryExecutor

logger = logging.getLogger("connectors.desk")

# The largest id an Integer column holds on PostgreSQL (int4); SQLite's is larger.
MAX_ROW_ID = 2**31 - 1


class BlockWatch:
    """The blocks in force, as last read: what the webchat channel checks."""

    def __init__(self) -> None:
        self.snapshot = BlockSnapshot()

    def is_blocked(self, session_id: str | None, address: str | None) -> bool:
        """The webchat channel's check, on every new session and message: no I/O."""
        return self.snapshot.blocks(session_id, address)

    async def refresh(self, blocks: BlockList) -> None:
        self.snapshot = await asyncio.to_thread(blocks.snapshot, utc_now())


class BlocksApi:
    """Args: parts, the session check, the executor, the conversations API (the answer's
    conversation) and the block watch (refreshed after each change)."""

    def __init__(
        self,
        parts: DeskParts,
        check: SessionCheck,
        executor: DeliveryExecutor,
        conversations: ConversationsApi,
        watch: BlockWatch,
    ) -> None:
        self.parts = parts
        self.check = check
        self.executor = executor
        self.conversations = conversations
        self.watch = watch

    async def block(self, request: Request, conversation_id: str) -> HTTPResponse:
        """End an abusive customer's conversation and keep them out (docs/security.md)."""
        parts = self.parts
        session = await self.check(request, write=True)
        body = parsing.body(request)
        reason = parsing.text_field(body, "reason")
        block_address = body.get("block_address", False)
        if not isinstance(block_address, bool):
            raise InvalidRequest("'block_address' must be true or false.")
        now = utc_now()
        agent = session.agent
        handoff = await asyncio.to_thread(
            parts.service.end_for_abuse, agent, conversation_id, reason, now
        )
        webchat = self.executor.outlets.webchat
        addresses = (
            sorted(webchat.addresses_of(conversation_id)) if block_address and webchat else []
        )
        expires_at = now + dt.timedelta(hours=parts.limits.block_address_hours)
        blocks, audit_log = parts.blocks, parts.audit_log

        def record() -> List[Any]:
            made = [blocks.add(BLOCK_SESSION, conversation_id, reason, agent.id, now)]
            made += [
                blocks.add(BLOCK_ADDRESS, address, reason, agent.id, now, expires_at)
                for address in addresses
            ]
            for block in made:
                audit_log.append(
                    audit.AuditRecord(
                        at=now,
                        action=audit.CUSTOMER_BLOCKED,
                        outcome=audit.SUCCEEDED,
                        actor=audit.agent_actor(agent.id),
                        subject=f"conversation:{handoff.reference}",
                        client_address=block.value if block.kind == BLOCK_ADDRESS else None,
                        details={"kind": block.kind, "block_id": block.id},
                    )
                )
            return made

        made = await asyncio.to_thread(record)
        self.watch.snapshot = await asyncio.to_thread(blocks.snapshot, now)
        logger.info("desk.customer.blocked agent=%s addresses=%d", agent.id, len(addresses))
        await self.executor.carry_out(next_steps.after_block(handoff, agent.id))
        return response.json(
            {
                "conversation": await self.conversations.detail_json(agent, conversation_id),
                "blocks": [block.as_json() for block in made],
            }
        )

    async def blocks(self, request: Request) -> HTTPResponse:
        session = await self.check(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can list blocks.")
        blocks = await asyncio.to_thread(self.parts.blocks.in_force, utc_now())
        return response.json({"blocks": [block.as_json() for block in blocks]})

    async def lift(self, request: Request, block_id: int) -> HTTPResponse:
        parts = self.parts
        session = await self.check(request, write=True)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can lift a block.")
        now = utc_now()
        if not 0 < block_id <= MAX_ROW_ID:  # a number no row can have: not a database error
            raise NotFoundError(f"No block {block_id} is in force.")
        try:
            block = await asyncio.to_thread(parts.blocks.lift, block_id, now)
        except BlockNotFound as missing:
            raise NotFoundError(str(missing)) from None
        await asyncio.to_thread(
            parts.audit_log.append,
            audit.AuditRecord(
                at=now,
                action=audit.CUSTOMER_UNBLOCKED,
                outcome=audit.SUCCEEDED,
                actor=audit.agent_actor(session.agent.id),
                subject=f"block:{block.id}",
                details={"kind": block.kind},
            ),
        )
        self.watch.snapshot = await asyncio.to_thread(parts.blocks.snapshot, now)
        return response.empty()
