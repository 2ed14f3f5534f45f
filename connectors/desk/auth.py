"""Who sent a desk request: the session cookie, the CSRF header and each agent's budget.

Every API handler starts with `SessionCheck.__call__`: 401 without a live session,
403 without the CSRF header on a write, 429 past the agent's request budget. Only
then may it read the body (connectors/desk/parsing.py checks that it did).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.records import DeskSession
from bot.desk.service import Forbidden
from bot.desk.sessions import DeskSessions
from bot.limits.interface import Clock
from bot.limits.memory import MemoryRateLimiter
from bot.limits.settings import LimitSettings
from connectors.desk.context import utc_now
from connectors.desk.errors import TooManyAttempts, Unauthorized

COOKIE_NAME = "baton_desk"
# A browser that signed in before (bot.desk.signin): strangers' failures do not slow it down.
DEVICE_COOKIE_NAME = "baton_desk_device"
CSRF_HEADER = "X-CSRF-Token"


class SessionCheck:
    """The desk session of a request, checked; `sessions` is set when the server starts."""

    def __init__(self, limits: LimitSettings, clock: Clock) -> None:
        self.sessions: DeskSessions | None = None
        self._per_agent = MemoryRateLimiter(
            limits.desk_requests_per_agent.count, limits.desk_requests_per_agent.seconds, clock
        )

    async def __call__(self, request: Request, write: bool = False) -> DeskSession:
        """The request's desk session (401 without one; 403 without CSRF on a write)."""
        assert self.sessions is not None
        sessions = self.sessions
        token = request.cookies.get(COOKIE_NAME)
        if not token:
            raise Unauthorized("Sign in first.")
        presented = request.headers.get(CSRF_HEADER)

        def resolve() -> DeskSession:
            session = sessions.resolve(token, utc_now())
            if session is None:
                raise Unauthorized("Your session has expired; sign in again.")
            if write and not session.csrf_matches(presented):
                raise Forbidden(f"Missing or wrong {CSRF_HEADER} header; reload the console.")
            return session

        session = await asyncio.to_thread(resolve)
        verdict = await self._per_agent.hit(f"agent:{session.agent.id}")
        if not verdict.allowed:
            raise TooManyAttempts(
                "Too many requests from your console; slow down for a moment.",
                verdict.retry_after_seconds,
            )
        # Only now may a handler read the body (see `parsing.body`).
        request.ctx.desk_session = session
        return session

    async def still_valid(self, token: str) -> bool:
        """Whether a live socket's session is still valid (not ended, pruned or expired)."""
        assert self.sessions is not None
        return await asyncio.to_thread(self.sessions.resolve, token, utc_now()) is not None


def set_cookie(
    answer: HTTPResponse, name: str, value: str, path: str, max_age: int, secure: bool
) -> None:
    answer.cookies[name] = value
    answer.cookies[name]["httponly"] = True
    answer.cookies[name]["samesite"] = "Strict"
    answer.cookies[name]["path"] = path
    answer.cookies[name]["max-age"] = max(max_age, 0)
    if secure:  # over HTTPS, directly or through a trusted TLS proxy (bot.proxies)
        answer.cookies[name]["secure"] = True


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a browser's Origin header names this server (its Host), whatever the scheme."""
    _, separator, authority = origin.partition("://")
    return bool(separator) and host is not None and authority.lower() == host.strip().lower()


def session_token(request: Request) -> Any:
    """The session cookie's value (None without one)."""
    return request.cookies.get(COOKIE_NAME)
