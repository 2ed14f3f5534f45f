"""A socket.io client that talks to the webchat channel exactly as the widget does."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import socketio

REPLY_TIMEOUT_SECONDS = 60


class WidgetClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        session_id: str | None = None,
        headers: Dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.session_id = session_id
        # The transcript the server replayed after the latest session_request.
        self.replayed: List[Dict[str, Any]] = []
        self.headers = headers or {}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.messages: asyncio.Queue = asyncio.Queue()
        self.errors: asyncio.Queue = asyncio.Queue()
        self.history: asyncio.Queue = asyncio.Queue()
        self._confirmed: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", self.messages.put_nowait)
        self.sio.on("baton_error", self.errors.put_nowait)
        self.sio.on("history", self.history.put_nowait)
        self.sio.on("session_confirm", self._confirmed.put_nowait)
        # The desk's live states (queued, agent_joined, resolved, back_to_bot) and typing.
        self.statuses: asyncio.Queue = asyncio.Queue()
        self.typing: asyncio.Queue = asyncio.Queue()
        self.sio.on("baton_status", self.statuses.put_nowait)
        self.sio.on("baton_typing", self.typing.put_nowait)

    async def __aenter__(self) -> WidgetClient:
        await self.sio.connect(
            self.url, socketio_path="/socket.io", transports=["websocket"], headers=self.headers
        )
        await self.request_session()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.sio.disconnect()

    async def request_session(self) -> List[Dict[str, Any]]:
        """Send session_request; return the history the server replays."""
        payload: Dict[str, Any] = {"session_id": self.session_id}
        if self.token:
            payload["customData"] = {"token": self.token}
        await self.sio.emit("session_request", payload)
        self.session_id = await asyncio.wait_for(self._confirmed.get(), REPLY_TIMEOUT_SECONDS)
        history = await asyncio.wait_for(self.history.get(), REPLY_TIMEOUT_SECONDS)
        self.replayed = history["messages"]
        return self.replayed

    async def say(self, text: str) -> Dict[str, Any]:
        """Send a message and return the bot's first reply."""
        await self.send({"message": text, "session_id": self.session_id})
        return await self.next_message()

    async def send(self, payload: Any) -> None:
        await self.sio.emit("user_uttered", payload)

    async def next_message(self) -> Dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), REPLY_TIMEOUT_SECONDS)

    async def next_error(self) -> Dict[str, Any]:
        return await asyncio.wait_for(self.errors.get(), REPLY_TIMEOUT_SECONDS)
