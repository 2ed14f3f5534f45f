"""Customer identity and sessions: which conversation a socket shows, and whose it is.

- the customer's identity comes from a signed token the host website passes in
  `session_request` (`customData.token`) or the socket.io `auth`; the channel
  verifies it and attaches it to every message, and the action server checks it
  again, so nothing a customer types can claim an identity;
- a requested session id is accepted only if the server issued it or the
  tracker store holds it; logs show only its first characters;
- a conversation's room holds only its owner's sockets once a customer has
  verified in it: the others are moved to a new conversation of their own;
- after `session_confirm` it sends `history`, the transcript of the session.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Dict, List, Mapping, Tuple

from socketio import AsyncServer

from bot import customer_notices, identity
from bot.proxies import TrustedProxies
from bot.settings import Settings
from bot.transcript import conversation_owner, visible_messages
from connectors.webchat.budgets import Budgets
from connectors.webchat.conversations import RasaConversations
from connectors.webchat.observers import Listeners
from connectors.webchat.protocol import (
    ERROR_EVENT,
    ERROR_MALFORMED_PAYLOAD,
    ERROR_SESSION_REPLACED,
    HISTORY_EVENT,
    SESSION_CONFIRM_EVENT,
)
from connectors.webchat.refusals import Refusals
from connectors.webchat.socket_server import client_address, maybe_await
from connectors.webchat.sockets import OpenSockets, Recent, short

logger = logging.getLogger(__name__)

# Session ids are server-issued uuid4 hex strings (always with `fullmatch`: `$` accepts a
# trailing newline); anything else starts afresh.
SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


class CustomerSessions:
    """Opens sockets, confirms their sessions and keeps each conversation to its owner."""

    def __init__(
        self,
        sio: AsyncServer,
        settings: Settings,
        proxies: TrustedProxies,
        budget: Budgets,
        refusals: Refusals,
        sockets: OpenSockets,
        listeners: Listeners,
        conversations: RasaConversations,
    ) -> None:
        self.sio = sio
        self.settings = settings
        self.proxies = proxies
        self._budget = budget
        self._refusals = refusals
        self._sockets = sockets
        self._listeners = listeners
        self._conversations = conversations
        # Conversations a verified customer claimed before the tracker shows it (no message yet).
        self._owners: Recent[str] = Recent()
        # Session ids this process issued, so a reload before the first message keeps its id.
        self._issued: Recent[bool] = Recent()

    async def connect(self, sid: str, environ: Mapping[str, Any], auth: Any) -> bool:
        """A socket opens: refused from a blocked address, else its token and address kept."""
        token = auth.get("token") if isinstance(auth, dict) else None
        address = client_address(environ, self.proxies)
        if self._listeners.blocked(None, address):
            logger.info("webchat.blocked.connect sid=%s", sid)
            return False
        self._sockets.opened(sid, address)
        await self.sio.save_session(sid, {"auth_token": token, "address": address})
        return True

    async def start(self, sid: str, data: Any) -> None:
        """`session_request`: the requested conversation if it may be shown, else a new one."""
        state = await self.sio.get_session(sid)
        verdict = await self._budget.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refusals.refuse(sid, verdict, "new conversations")
            return
        if data is not None and not isinstance(data, dict):
            await self._refusals.reject(
                sid, ERROR_MALFORMED_PAYLOAD, "session_request must be an object"
            )
            return
        data = data or {}
        token = token_from(data) or state.get("auth_token")
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if token and customer is None:
            logger.info("webchat.identity.rejected sid=%s", sid)

        requested = data.get("session_id")
        if self._listeners.blocked(
            requested if isinstance(requested, str) else None, state.get("address")
        ):
            await self._refusals.turn_away(sid)
            return
        session_id, events = await self._existing_session(sid, requested)
        owner = conversation_owner(events) or self._owners.get(session_id)
        if owner and (customer is None or customer.customer_id != owner):
            # Another customer's conversation (a shared computer after logout):
            # never show it; start a new one.
            logger.info("webchat.session.owner_mismatch sid=%s", sid)
            session_id, events = self._issue_session_id(), []

        previous = state.get("session_id")
        try:
            if previous and previous != session_id:
                await maybe_await(self.sio.leave_room(sid, previous))
            await maybe_await(self.sio.enter_room(sid, session_id))
        except KeyError:  # the socket closed while its request waited (a flood's last ones)
            return
        state.update(
            session_id=session_id,
            token=token if customer else None,
            customer_id=customer.customer_id if customer else None,
        )
        await self.sio.save_session(sid, state)
        if customer is not None:
            await self._claim(session_id, customer.customer_id, sid)
        await self._confirm(sid, session_id, events)

    async def adopt_token_from_message(
        self, sid: str, state: Dict[str, Any], data: Dict[str, Any]
    ) -> None:
        """Accept a token sent with a message, as Rasa widgets send `customData`.

        Only a guest session can be upgraded, and only by a token that verifies;
        the other sockets of the conversation then leave it (`_claim`).
        """
        if state.get("customer_id"):
            return
        token = token_from(data)
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if customer is None:
            return
        session_id = state["session_id"]
        try:
            owner = conversation_owner(await self._conversations.events(session_id) or [])
        except Exception:  # the tracker store is down: stay a guest rather than guess
            logger.exception("webchat.identity.owner_check_failed sid=%s", sid)
            return
        owner = owner or self._owners.get(session_id)
        if owner and owner != customer.customer_id:
            return
        state.update(token=token, customer_id=customer.customer_id)
        await self.sio.save_session(sid, state)
        await self._claim(session_id, customer.customer_id, sid)

    async def _existing_session(self, sid: str, requested: Any) -> Tuple[str, List[Dict[str, Any]]]:
        """The requested conversation and its events if it exists, else a new id and none.

        An id nobody issued is never adopted: a guessed or made-up id would start
        a conversation whose id the guesser knows in advance.
        """
        if not is_session_id(requested):
            return self._issue_session_id(), []
        try:
            events = await self._conversations.events(requested)
        except Exception:  # the tracker store is down: its owner can't be checked
            logger.exception("webchat.session.history_failed sid=%s", sid)
            return self._issue_session_id(), []
        if events is None and not self._issued.get(requested):
            logger.info("webchat.session.unknown sid=%s session=%s", sid, short(requested))
            return self._issue_session_id(), []
        return requested, events or []

    def _issue_session_id(self) -> str:
        session_id = uuid.uuid4().hex
        self._issued.set(session_id, True)
        return session_id

    async def _confirm(self, sid: str, session_id: str, events: List[Dict[str, Any]]) -> None:
        await self.sio.emit(SESSION_CONFIRM_EVENT, session_id, room=sid)
        await self.sio.emit(HISTORY_EVENT, {"messages": visible_messages(events)}, room=sid)
        self._sockets.shows(sid, session_id)
        call_observer = self._listeners.call_observer
        if call_observer is not None:
            try:
                await call_observer.customer_session_started(session_id, sid)
            except Exception:  # calls failing must not break the chat
                logger.exception("webchat.call_observer.failed session=%s", short(session_id))

    async def _claim(self, session_id: str, customer_id: str, sid: str) -> None:
        """A verified customer's socket holds the conversation: only their sockets stay in its room.

        A socket that joined while it was a guest's conversation (another tab, a
        shared computer, anyone who learned its id) would otherwise go on
        receiving the customer's invoices, orders and agent messages. Each is
        told, and moved to a new conversation of its own.
        """
        self._owners.set(session_id, customer_id)
        others = [
            other for other, _ in self.sio.manager.get_participants("/", session_id) if other != sid
        ]
        for other in others:
            try:
                state = await self.sio.get_session(other)
            except KeyError:  # disconnected meanwhile
                continue
            if state.get("session_id") != session_id or state.get("customer_id") == customer_id:
                continue
            await self._move_out(other, state, session_id)

    async def _move_out(self, sid: str, state: Dict[str, Any], session_id: str) -> None:
        logger.info("webchat.session.moved_out sid=%s session=%s", sid, short(session_id))
        await maybe_await(self.sio.leave_room(sid, session_id))
        call_observer = self._listeners.call_observer
        if call_observer is not None:
            try:  # the socket no longer shows the conversation: a call bound to it ends
                await call_observer.customer_socket_closed(session_id, sid)
            except Exception:
                logger.exception("webchat.call_observer.failed session=%s", short(session_id))
        fresh = self._issue_session_id()
        await maybe_await(self.sio.enter_room(sid, fresh))
        state.update(session_id=fresh)
        await self.sio.save_session(sid, state)
        await self.sio.emit(
            ERROR_EVENT,
            {"code": ERROR_SESSION_REPLACED, "message": customer_notices.SESSION_REPLACED_TEXT},
            room=sid,
        )
        await self._confirm(sid, fresh, [])


def token_from(data: Dict[str, Any]) -> str | None:
    """The token a Rasa widget sends in `customData.token`, if any."""
    custom = data.get("customData")
    if isinstance(custom, dict) and isinstance(custom.get("token"), str):
        return custom["token"]
    return None


def is_session_id(value: Any) -> bool:
    """Whether `value` has the shape of a session id this server issues."""
    return isinstance(value, str) and SESSION_ID_PATTERN.fullmatch(value) is not None
