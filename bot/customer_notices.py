"""What the customer is told in words when the chat refuses, fails or closes a conversation.

The customer channel (connectors/webchat/) decides *when* to say these, and sends
them with the machine-readable codes of its protocol; the wording lives here, with
the rest of what the bot tells customers, so it is written and reviewed in one place.
"""

from __future__ import annotations

# The desk ended the conversation and blocked the customer (bot.desk.blocks).
BLOCKED_TEXT = "Our team has ended this conversation. The chat is closed."

# Another customer verified in the conversation a socket showed: it moved to a new one.
SESSION_REPLACED_TEXT = (
    "A signed-in customer continued this conversation in another window; "
    "a new conversation has started here."
)

# A turn failed on our side: the customer may retry, or ask for a person.
INTERNAL_ERROR_TEXT = (
    'Sorry, something went wrong on our side. Please try again, or say "agent" to reach our team.'
)

# The conversation's queue is full: messages sent faster than the bot answers.
QUEUE_FULL_TEXT = (
    "I'm still working on your earlier messages. Please wait for my answer, then send this again."
)


def message_too_long(length: int, limit: int) -> str:
    """A message over `limit` characters was not read."""
    return (
        f"Sorry, that message is too long for me ({length} characters). "
        f"Please keep it under {limit} characters, or split it into parts."
    )


def nlu_busy(retry_after_seconds: float) -> str:
    """Every conversation's messages wait for one NLU thread, and its queue was full."""
    return (
        f"Lots of people are writing to me right now. Please send that again in "
        f"{retry_after_seconds} s."
    )


def sending_too_fast(retry_after_seconds: float) -> str:
    """The customer's socket or address spent its message budget."""
    return (
        f"You're sending messages faster than I can read them. Please wait "
        f"{retry_after_seconds} s, then send this again."
    )


def too_many_too_quickly(what: str, retry_after_seconds: float) -> str:
    """A budget other than messages' was spent (`what`: "typing signals", "new conversations")."""
    return f"Too many {what} too quickly; please wait {retry_after_seconds} s and try again."
