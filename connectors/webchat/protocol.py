"""The webchat wire format: socket.io event names, error codes and notice kinds.

Rasa's socketio channel names `user_uttered`, `bot_uttered`, `session_request` and
`session_confirm`, so existing Rasa widgets work unchanged; the others are Baton's own
(docs/widget.md). Call signals use `bot.calls.protocol.CALL_EVENT`. The names the desk
sends to widgets as well are in `bot.desk.events`.
"""

from __future__ import annotations

from bot.desk.events import CUSTOMER_BOT_MESSAGE, CUSTOMER_STATUS, CUSTOMER_TYPING

USER_MESSAGE_EVENT = "user_uttered"
SESSION_REQUEST_EVENT = "session_request"
SESSION_CONFIRM_EVENT = "session_confirm"
HISTORY_EVENT = "history"
ERROR_EVENT = "baton_error"
# Named once with the desk, which sends them too (bot.desk.events).
BOT_MESSAGE_EVENT = CUSTOMER_BOT_MESSAGE
TYPING_EVENT = CUSTOMER_TYPING
STATUS_EVENT = CUSTOMER_STATUS

# A bot message the channel wrote itself carries `baton.notice`, one of these.
NOTICE_MESSAGE_TOO_LONG = "message_too_long"
NOTICE_INTERNAL_ERROR = "internal_error"
NOTICE_RATE_LIMITED = "rate_limited"

# The `code` of a `baton_error`.
ERROR_MALFORMED_PAYLOAD = "malformed_payload"
# The desk ended the conversation and blocked the customer (bot.desk.blocks).
ERROR_BLOCKED = "blocked"
ERROR_NO_SESSION = "no_session"
# Too much too fast from this socket or address; the error says when to try again.
ERROR_RATE_LIMITED = "rate_limited"
# The conversation's queue is full (messages sent faster than the bot answers).
ERROR_TOO_MANY_PENDING = "too_many_pending"
# Every conversation's messages wait for one NLU thread; its queue was full.
ERROR_BUSY = "busy"
# Another customer verified in the conversation this socket showed: it was moved to a new one.
ERROR_SESSION_REPLACED = "session_replaced"
# The `code` of a `baton_call` error when the desk (the call observer) is not configured.
ERROR_CALLS_DISABLED = "calls_disabled"
