"""The one error of a refused call signal, its wire code and HTTP status (docs/calls.md 3.5)."""

from __future__ import annotations

# code -> HTTP status, as the desk API answers it.
STATUS_OF_CODE = {
    "no_session": 401,
    "malformed_payload": 422,
    "too_large": 413,
    "calls_disabled": 403,
    "not_allowed": 403,
    "no_such_conversation": 404,
    "not_with_you": 409,
    "no_such_call": 404,
    "busy": 409,
    "invalid_state": 409,
    "call_elsewhere": 409,
    "rate_limited": 429,
}

DEFAULT_MESSAGES = {
    "no_session": "Start a chat session first.",
    "malformed_payload": "The call message is not in the expected form.",
    "too_large": "The call message is too large.",
    "calls_disabled": "Calls are turned off here.",
    "not_allowed": "This call is not yours.",
    "no_such_conversation": "There is no handed-off conversation with that id.",
    "not_with_you": "Accept the conversation before starting a call.",
    "no_such_call": "There is no such call in this conversation.",
    "busy": "Another call is already open; end it first.",
    "invalid_state": "The call cannot do that now.",
    "call_elsewhere": "This call is running in another console window.",
    "rate_limited": "Too many call messages; wait a moment.",
}


class CallRefused(Exception):
    """A call signal or request that is refused.

    Attributes:
        code: the wire code of docs/calls.md 3.5 (`no_such_call`, ...).
        status: its HTTP status.
        log_reason: the finer reason of section 4.2 (`wrong_conversation`, ...),
            only for the log: the peer learns `code` alone.
        message: for a person.
        call_id: the call concerned, when known.
    """

    def __init__(
        self,
        code: str,
        log_reason: str | None = None,
        message: str | None = None,
        call_id: str | None = None,
    ) -> None:
        if code not in STATUS_OF_CODE:
            raise ValueError(f"unknown call error code {code!r}")
        self.code = code
        self.status = STATUS_OF_CODE[code]
        self.log_reason = log_reason or code
        self.message = message or DEFAULT_MESSAGES[code]
        self.call_id = call_id
        super().__init__(f"{code} ({self.log_reason}): {self.message}")
