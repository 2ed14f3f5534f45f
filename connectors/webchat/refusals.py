"""How the channel says no: an error for programs, words for the customer, and when to hang up."""

from __future__ import annotations

import logging

from socketio import AsyncServer

from bot import customer_notices
from bot.limits.interface import RateLimiter, Verdict
from connectors.webchat.protocol import (
    BOT_MESSAGE_EVENT,
    ERROR_BLOCKED,
    ERROR_BUSY,
    ERROR_EVENT,
    ERROR_RATE_LIMITED,
    ERROR_TOO_MANY_PENDING,
    NOTICE_RATE_LIMITED,
)

logger = logging.getLogger(__name__)


class Refusals:
    """Refusals sent to one socket, bounded per socket (`ChannelBudgets.refusals`)."""

    def __init__(self, sio: AsyncServer, refusals: RateLimiter) -> None:
        self.sio = sio
        self._refusals = refusals

    async def may_refuse(self, sid: str) -> bool:
        """Whether a refusal may still be sent; a socket past its refusals is disconnected instead.

        A client that ignores `retry_after` would otherwise make the server
        write an answer for every packet it sends.
        """
        if (await self._refusals.hit(sid)).allowed:
            return True
        logger.warning("webchat.flood.disconnected sid=%s", sid)
        await self.sio.disconnect(sid)
        return False

    async def reject(self, sid: str, code: str, message: str) -> None:
        """A packet the channel can't take as it is: the error says what is wrong."""
        if not await self.may_refuse(sid):
            return
        logger.warning("webchat.payload.rejected sid=%s code=%s reason=%s", sid, code, message)
        await self.sio.emit(ERROR_EVENT, {"code": code, "message": message}, room=sid)

    async def refuse(
        self, sid: str, verdict: Verdict, what: str, code: str = ERROR_RATE_LIMITED
    ) -> None:
        """Tell a socket that it sent too much, and when it may again."""
        if not await self.may_refuse(sid):
            return
        seconds = verdict.retry_after_seconds
        await self.sio.emit(
            ERROR_EVENT,
            {
                "code": code,
                "message": customer_notices.too_many_too_quickly(what, seconds),
                "retry_after": seconds,
            },
            room=sid,
        )

    async def refuse_message(
        self, sid: str, verdict: Verdict, code: str = ERROR_RATE_LIMITED
    ) -> None:
        """Refuse a message: an error for programs, a notice the customer reads in the widget."""
        if not await self.may_refuse(sid):
            return
        seconds = verdict.retry_after_seconds
        if code == ERROR_TOO_MANY_PENDING:
            text = customer_notices.QUEUE_FULL_TEXT
        elif code == ERROR_BUSY:
            text = customer_notices.nlu_busy(seconds)
        else:
            text = customer_notices.sending_too_fast(seconds)
        await self.sio.emit(
            ERROR_EVENT, {"code": code, "message": text, "retry_after": seconds}, room=sid
        )
        await self.sio.emit(
            BOT_MESSAGE_EVENT, {"text": text, "baton": {"notice": NOTICE_RATE_LIMITED}}, room=sid
        )

    async def turn_away(self, sid: str) -> None:
        """A blocked customer's socket: told why in words and a code, then disconnected."""
        logger.info("webchat.blocked sid=%s", sid)
        await self.sio.emit(
            ERROR_EVENT,
            {"code": ERROR_BLOCKED, "message": customer_notices.BLOCKED_TEXT},
            room=sid,
        )
        await self.sio.disconnect(sid)
