"""Process-wide HTTP limits of the Rasa server's Sanic app: body sizes and HSTS.

Sanic 21.12 has only an app-wide REQUEST_MAX_SIZE, and it reads a request's
body before any request middleware runs. So the app-wide size is set here to the
largest legitimate body, and the smaller per-route limits are enforced on the
`http.routing.after` signal, which Sanic dispatches after routing and before it
reads the body: an oversized Content-Length is refused without reading a byte of
it, and a chunked body (no length to judge) is refused on the desk API and cut
at the route's limit elsewhere.

`install` is called by every Baton channel when it registers, and is idempotent,
so the limits hold whichever channels credentials.yml configures.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from sanic import Sanic, response
from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies

logger = logging.getLogger(__name__)

DESK_API_PREFIX = "/desk/api/"
SIGNIN_PATH = "/desk/api/login"
SOCKETIO_PREFIX = "/socket.io"
# A sign-in body is an e-mail address and a password.
SIGNIN_MAX_BODY_BYTES = 4096
HSTS = "max-age=31536000"
# The `code` of a refused body.
TOO_LARGE = "too_large"
LENGTH_REQUIRED = "length_required"
MALFORMED = "malformed_payload"
UPGRADE = "upgrade_required"
_INSTALLED = "baton_http_guard"


class BodyRefused(SanicException):
    """A request body refused before it was read (too large, or of no declared length)."""

    quiet = True

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message, status_code=status)
        self.message = message
        # Machine-readable, as the call endpoints' errors are (docs/calls.md 3.5).
        self.code = code


def body_limit(path: str, limits: LimitSettings) -> int:
    """The largest body a route accepts."""
    if path == SIGNIN_PATH:
        return SIGNIN_MAX_BODY_BYTES
    if path.startswith(DESK_API_PREFIX):
        return limits.desk_max_body_bytes
    if path.startswith(SOCKETIO_PREFIX):
        return limits.webchat_max_packet_bytes
    return limits.max_request_bytes


def check_body(path: str, headers: Mapping[str, str], limits: LimitSettings) -> int:
    """The route's limit, after refusing a body that cannot fit in it.

    Raises:
        BodyRefused: 411 for a chunked body on the desk API, 413 for a declared
            length over the limit, 400 for a length that is not a number.
    """
    limit = body_limit(path, limits)
    if (headers.get("transfer-encoding") or "").lower() == "chunked":
        if path.startswith(DESK_API_PREFIX):
            raise BodyRefused(
                "Send the body with a Content-Length; chunked bodies are not accepted.",
                411,
                LENGTH_REQUIRED,
            )
        return limit
    declared = headers.get("content-length")
    if declared is None:
        return limit
    try:
        length = int(declared)
    except ValueError:
        raise BodyRefused("The Content-Length header is not a number.", 400, MALFORMED) from None
    if length > limit:
        raise BodyRefused(
            f"The body is {length} bytes; this address accepts at most {limit}.", 413, TOO_LARGE
        )
    return limit


def install(app: Sanic, limits: LimitSettings, proxies: TrustedProxies) -> None:
    """Set the app's body limits and HSTS once, whichever channel calls first."""
    if getattr(app.ctx, _INSTALLED, False):
        return
    setattr(app.ctx, _INSTALLED, True)
    app.config.REQUEST_MAX_SIZE = limits.max_request_bytes

    @app.signal("http.routing.after")
    async def limit_body(request: Request, route: Any = None, **_: Any) -> None:
        if getattr(getattr(route, "ctx", None), "websocket", False) and not _is_upgrade(request):
            # Sanic 21.12 fails a plain request to a WebSocket route with a 500 page.
            raise BodyRefused(
                "This address is a WebSocket: connect with an Upgrade request.", 426, UPGRADE
            )
        limit = check_body(request.path, request.headers, limits)
        if request.stream is not None:
            # Enforced by Sanic while it reads: a chunked body stops at the limit.
            request.stream.request_max_size = limit

    async def refused(request: Request, error: BodyRefused) -> HTTPResponse:
        logger.info("http.body.refused path=%s status=%d", request.path[:64], error.status_code)
        return response.json({"error": error.message, "code": error.code}, status=error.status_code)

    async def too_large(request: Request, error: PayloadTooLarge) -> HTTPResponse:
        # A chunked body that grew past its route's limit while Sanic read it.
        logger.info("http.body.refused path=%s status=413", request.path[:64])
        return response.json(
            {"error": "The body is larger than this address accepts.", "code": TOO_LARGE},
            status=413,
        )

    async def unrouted(request: Request, error: SanicException) -> HTTPResponse:
        # The desk's API answers in JSON, also for an address or a method it does not have.
        if request.path.startswith(DESK_API_PREFIX):
            status = error.status_code
            message = (
                "No such address." if status == 404 else f"{request.method} is not allowed here."
            )
            return response.json({"error": message}, status=status)
        return app.error_handler.default(request, error)

    app.error_handler.add(BodyRefused, refused)
    app.error_handler.add(PayloadTooLarge, too_large)
    app.error_handler.add(NotFound, unrouted)
    app.error_handler.add(MethodNotSupported, unrouted)

    @app.middleware("response")
    async def strict_transport(request: Request, answer: HTTPResponse) -> None:
        # Behind a TLS proxy the app sees http: the scheme comes from the trusted proxies.
        if (
            answer is not None
            and proxies.scheme(request.ip, request.headers, request.scheme) == "https"
        ):
            answer.headers.setdefault("Strict-Transport-Security", HSTS)


def _is_upgrade(request: Request) -> bool:
    return (request.headers.get("upgrade") or "").lower() == "websocket"


def client_address(request: Request, proxies: TrustedProxies) -> str:
    """The address of the client behind the trusted proxies."""
    return proxies.client_address(request.ip, request.headers)


def is_https(request: Request, proxies: TrustedProxies) -> bool:
    """Whether the client reached us over HTTPS (directly or through a trusted TLS proxy)."""
    return proxies.scheme(request.ip, request.headers, request.scheme) == "https"
