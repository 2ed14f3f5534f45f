"""The desk API's errors as HTTP: the one place that maps a refusal to a status and a body.

The use cases (bot.desk) refuse with domain errors that say what is wrong
(`NotFound`, `Forbidden`, `Conflict`, `InvalidRequest`, bot.desk.service) and calls
with `CallRefused` (bot.calls.errors); the errors defined here exist only at the
HTTP edge (no session, too many requests, a busy server, a wrong media type).
`json_errors` turns any of them into a JSON answer `{"error": ..., "code"?: ...}`
with its status, and `Retry-After` when there is one.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Coroutine, Dict, Type

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.calls.errors import CallRefused
from bot.desk.service import Conflict, DeskError, Forbidden, InvalidRequest, NotFound

logger = logging.getLogger("connectors.desk")

# What a request the desk refuses answers when nothing more precise is known.
BAD_REQUEST = 400


class Unauthorized(DeskError):
    """No session, or one that expired."""


class TooManyAttempts(DeskError):
    """Over a budget (sign-ins, an agent's requests): try again in `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(DeskError):
    """The server's bounded work queue is full: try again in `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(DeskError):
    """A body sent as something other than the JSON the route reads."""


class CallError(DeskError):
    """A refused call request: its status and `code` come from `CallRefused` (docs/calls.md 3.5)."""

    def __init__(self, refused: CallRefused) -> None:
        super().__init__(refused.message)
        self.refused = refused
        self.code = refused.code


# Each kind of refusal's status; a subclass answers as its nearest listed ancestor.
HTTP_STATUS: Dict[Type[DeskError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidRequest: 422,
    Unauthorized: 401,
    TooManyAttempts: 429,
    Busy: 503,
    UnsupportedMediaType: 415,
    DeskError: BAD_REQUEST,
}


def http_status(error: DeskError) -> int:
    """The HTTP status a refusal answers with."""
    if isinstance(error, CallError):
        return error.refused.status
    for kind in type(error).__mro__:
        status = HTTP_STATUS.get(kind)  # type: ignore[call-overload]
        if status is not None:
            return status
    return BAD_REQUEST


def error_response(status: int, message: str, code: str | None = None) -> HTTPResponse:
    body = {"error": message}
    if code is not None:  # the call endpoints' machine-readable code (docs/calls.md 3.5)
        body["code"] = code
    return response.json(body, status=status)


def refusal_response(error: DeskError) -> HTTPResponse:
    """A refusal as the API answers it: status, JSON body, and Retry-After when it has one."""
    answer = error_response(http_status(error), error.message, getattr(error, "code", None))
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        answer.headers["Retry-After"] = str(retry_after)
    return answer


def json_errors(
    handler: Callable[..., Awaitable[HTTPResponse]],
) -> Callable[..., Coroutine[Any, Any, HTTPResponse]]:
    """`handler`, answering its refusals as JSON and any other failure as a logged 500."""

    async def wrapped(request: Request, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, **kwargs)
        except DeskError as error:
            return refusal_response(error)
        except Exception:
            logger.exception("desk.api.failed path=%s", request.path)
            return error_response(
                500, "Something went wrong on our side; the error is in the server log."
            )

    wrapped.__name__ = handler.__name__
    return wrapped
