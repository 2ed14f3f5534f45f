"""`baton_call` signals (video calls, docs/calls.md) from the widget to the desk's `CallObserver`.

They go, in arrival order per session, to the observer; the channel never reads a
call signal itself, it only checks that the socket has a session and budgets it.
A socket that closes (or leaves its conversation) is reported, so a call bound to
it ends.
"""

from __future__ import annotations

import logging
from typing import Any

from socketio import AsyncServer

from bot.calls.protocol import CALL_EVENT
from bot.calls.protocol import error as call_error
from bot.limits.interface import Verdict
from connectors.webchat.budgets import Budgets
from connectors.webchat.observers import Listeners
from connectors.webchat.ordering import SessionOrder
from connectors.webchat.protocol import (
    ERROR_CALLS_DISABLED,
    ERROR_MALFORMED_PAYLOAD,
    ERROR_NO_SESSION,
    ERROR_RATE_LIMITED,
)
from connectors.webchat.refusals import Refusals
from connectors.webchat.sockets import short

logger = logging.getLogger(__name__)

# Call signals waiting per conversation (ICE candidates come in bursts; each is small).
CALL_SIGNALS_QUEUED = 50


class CallSignals:
    """Relays a socket's call signals and its closing to the call observer."""

    def __init__(
        self,
        sio: AsyncServer,
        budget: Budgets,
        refusals: Refusals,
        listeners: Listeners,
    ) -> None:
        self.sio = sio
        self._budget = budget
        self._refusals = refusals
        self._listeners = listeners
        # Call signals queue apart from messages: a parse in progress never delays a candidate.
        self._order = SessionOrder(CALL_SIGNALS_QUEUED)

    async def signal(self, sid: str, data: Any) -> None:
        """One `baton_call` payload from the widget."""
        state = await self.sio.get_session(sid)
        kind = (
            data.get("type")
            if isinstance(data, dict) and isinstance(data.get("type"), str)
            else None
        )
        verdict = await self._budget.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refuse(sid, kind, verdict)
            return
        if not isinstance(data, dict):
            await self._reject(
                sid, None, ERROR_MALFORMED_PAYLOAD, "baton_call needs an object with a 'type'"
            )
            return
        session_id = state.get("session_id")
        if not session_id:
            logger.warning(
                "calls.rejected side=customer code=no_session reason=no_session type=%s call=- "
                "conversation=- sid=%s…",
                (kind or "-")[:16],
                sid[:8],
            )
            await self._reject(sid, kind, ERROR_NO_SESSION, "send session_request first")
            return
        observer = self._listeners.call_observer
        if observer is None:
            await self._reject(sid, None, ERROR_CALLS_DISABLED, "calls are not available here")
            return

        async def deliver() -> None:
            try:
                await observer.customer_call_signal(session_id, sid, data)
            except Exception:  # a failing call must not take the socket down
                logger.exception("webchat.call_observer.failed session=%s", short(session_id))

        if not await self._order.run(session_id, deliver):
            await self._refuse(sid, kind, Verdict(False, 1.0))

    async def socket_closed(self, sid: str, session_id: str | None) -> None:
        """A socket that showed `session_id` disconnected: a call bound to it is told."""
        observer = self._listeners.call_observer
        if session_id is None or observer is None:
            return

        async def closed() -> None:
            try:
                await observer.customer_socket_closed(session_id, sid)
            except Exception:
                logger.exception("webchat.call_observer.failed session=%s", short(session_id))

        # Never refused: a call bound to the socket must learn that it is gone.
        await self._order.run(session_id, closed, bounded=False)

    async def _reject(self, sid: str, kind: str | None, code: str, message: str) -> None:
        await self.sio.emit(CALL_EVENT, call_error(code, message, None, kind), room=sid)

    async def _refuse(self, sid: str, kind: str | None, verdict: Verdict) -> None:
        if not await self._refusals.may_refuse(sid):
            return
        error = call_error(ERROR_RATE_LIMITED, "too many call signals; slow down", None, kind)
        error["retry_after"] = verdict.retry_after_seconds
        await self.sio.emit(CALL_EVENT, error, room=sid)
