"""Which `/intent` payloads a customer may send: the buttons the bot showed them last.

Rasa reads any message starting with `/` as an intent with entities
(`RegexMessageHandler`, `YAMLStoryReader.unpack_regex_message`): typed by a
customer, `/restart` would wipe a handed-off conversation and
`/inform{"case_urgency": "critical"}` would set a slot. Buttons need that
shortcut, so the webchat channel keeps, per conversation and server-side, the
payloads of the buttons in the bot's latest message; a `/…` message is an
intent only when it equals one of them. Any other text starting with `/` goes
to the NLU as text (`neutral_text`).

The set is taken from what the channel sends (`WebchatOutput`), kept for a
bounded number of conversations, and rebuilt from the tracker (the latest bot
message's buttons, as the widget's history shows them) when it is not in
memory: after a restart of the Rasa server, or on another replica.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, Iterable, Mapping, Sequence, Tuple

from rasa.shared.constants import INTENT_MESSAGE_PREFIX

from bot.transcript import visible_messages

# Conversations whose latest buttons are kept in memory; older ones are read
# from the tracker again when needed.
DEFAULT_MAX_CONVERSATIONS = 50_000
# Put before a typed `/…` text the NLU must read as words: Rasa strips only
# whitespace before looking for the `/`, and U+2060 WORD JOINER is not whitespace,
# while the tokenizers drop it (Rasa's WhitespaceTokenizer removes leading
# punctuation, BERT-style tokenizers drop format characters), so the NLU sees the
# same words as typed.
NEUTRAL_PREFIX = "\u2060"

Payloads = Tuple[str, ...]


def is_intent_shaped(text: str) -> bool:
    """Whether Rasa would read this message text as an `/intent` payload."""
    return text.strip().startswith(INTENT_MESSAGE_PREFIX)


def neutral_text(text: str) -> str:
    """The text as the NLU should read it: never as an `/intent` payload."""
    return NEUTRAL_PREFIX + text.strip() if is_intent_shaped(text) else text


def buttons_of(message: Mapping[str, Any]) -> Payloads:
    """The payloads of a bot message's buttons, in any of the shapes the widget reads.

    Rasa's responses carry `buttons`; its socketio output sends `quick_replies`;
    a custom payload may hold either.
    """
    buttons: Iterable[Any] = ()
    for key in ("buttons", "quick_replies"):
        value = message.get(key)
        if isinstance(value, list) and value:
            buttons = value
            break
    return tuple(
        button["payload"]
        for button in buttons
        if isinstance(button, Mapping) and isinstance(button.get("payload"), str)
    )


def latest_buttons_in(events: Sequence[Dict[str, Any]]) -> Payloads:
    """The payloads of the buttons the widget shows after a reload of this transcript.

    The widget shows only the last message's buttons (docs/widget.md), so a
    customer message after them, or any later bot or agent message, takes them away.
    """
    messages = visible_messages(events)
    if not messages or messages[-1].get("sender") == "user":
        return ()
    return buttons_of(messages[-1])


class ButtonPayloads:
    """The payloads of the latest bot message of each conversation, for at most `max_conversations`.

    `None` from `get` means "not known here" (never seen, or forgotten to stay
    within bounds): the caller reads the tracker. An empty tuple means the latest
    message had no buttons.
    """

    def __init__(self, max_conversations: int = DEFAULT_MAX_CONVERSATIONS) -> None:
        if max_conversations < 1:
            raise ValueError("max_conversations must be at least 1")
        self.max_conversations = max_conversations
        self._latest: OrderedDict[str, Payloads] = OrderedDict()

    def bot_sent(self, conversation_id: str, message: Mapping[str, Any]) -> None:
        """The bot (or an agent) sent a message: its buttons replace the ones before."""
        self.remember(conversation_id, buttons_of(message))

    def customer_sent(self, conversation_id: str) -> None:
        """The customer sent a message: the buttons before it are answered, or passed by."""
        self.remember(conversation_id, ())

    def remember(self, conversation_id: str, payloads: Payloads) -> None:
        """Record the conversation's current payloads (from the tracker, after a restart)."""
        self._latest[conversation_id] = tuple(payloads)
        self._latest.move_to_end(conversation_id)
        while len(self._latest) > self.max_conversations:
            self._latest.popitem(last=False)

    def get(self, conversation_id: str) -> Payloads | None:
        """The payloads allowed now, or None when this process does not know."""
        return self._latest.get(conversation_id)

    def __len__(self) -> int:
        return len(self._latest)
