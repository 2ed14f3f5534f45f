"""The output channel: bot messages to every widget showing the conversation."""

from __future__ import annotations

from typing import Any, Dict

from rasa.core.channels.socketio import SocketIOOutput
from socketio import AsyncServer

from bot.constants import WEBCHAT_CHANNEL
from connectors.payloads import ButtonPayloads
from connectors.webchat.protocol import BOT_MESSAGE_EVENT


class WebchatOutput(SocketIOOutput):
    """Sends bot messages to every socket in the conversation's room.

    Each message's buttons become the payloads the conversation may send next
    (`connectors.payloads`).
    """

    @classmethod
    def name(cls) -> str:
        return WEBCHAT_CHANNEL

    def __init__(self, sio: AsyncServer, payloads: ButtonPayloads | None = None) -> None:
        super().__init__(sio, BOT_MESSAGE_EVENT)
        self.payloads = payloads

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Send one bot message (text, buttons, image, custom json), noting its buttons first."""
        if self.payloads is not None:
            custom = message.get("custom")
            shown = (
                message
                if message.get("buttons") or message.get("quick_replies")
                else (custom if isinstance(custom, dict) else {})
            )
            # Before sending: a quick click must find its payload allowed.
            self.payloads.bot_sent(recipient_id, shown)
        await super().send_response(recipient_id, message)

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        # Rasa's socketio output spreads the dict into `emit` keyword arguments;
        # we send it as the message, as the widget expects.
        await self._send_message(recipient_id, json_message)
