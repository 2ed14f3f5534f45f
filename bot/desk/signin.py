"""Sign-in to the desk, guarded against guessing and against locking real agents out.

Three budgets, checked before any password is hashed:

- per client address (bot.proxies): a token bucket; a failed attempt spends a
  token, a success gives it back, so an office signing in at nine is not
  refused while a sprayer of many addresses runs dry;
- per e-mail address: one attempt in flight at a time (parallel guesses are
  counted, not all checked before the first failure lands) and a back-off that
  doubles after a few failures, capped at a minute: a stranger guessing at an
  agent's address slows guesses down but never locks the agent out;
- per known device: a browser that signed in before carries a signed device
  cookie and has its own back-off for its address, so strangers' failures do
  not slow down the agent at their usual desk.

Argon2 runs on its own small bounded pool (bot.limits.pool). Every attempt,
allowed or not, is written to the audit log with where it came from.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Callable, Dict

from bot import audit
from bot.desk.records import AgentRecord
from bot.limits.interface import BackOff, ConcurrencyLimit, RateLimiter
from bot.limits.pool import BoundedPool, PoolBusy

# RFC 5321 allows 254 characters in an address; more is not an address.
MAX_EMAIL_LENGTH = 254
DEVICE_COOKIE_DAYS = 90

# Why a sign-in was refused before its password was checked.
REFUSED_CLIENT_BUDGET = "client_budget"
REFUSED_BACK_OFF = "back_off"
REFUSED_IN_FLIGHT = "attempt_in_flight"
REFUSED_BUSY = "busy"
WRONG_PASSWORD = "wrong_password"  # noqa: S105 — an audit reason code, not a password


class SignInRefused(Exception):
    """The attempt was not tried: too many from here, for this address, or the server is busy."""

    def __init__(self, reason: str, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after
        self.message = message


@dataclass(frozen=True)
class SignInAttempt:
    email: str
    password: str
    client_address: str
    # The device cookie the browser sent, if any (checked here, not trusted).
    device_token: str | None = None


@dataclass(frozen=True)
class SignInResult:
    agent: AgentRecord | None
    # A fresh device cookie for the browser after a success.
    device_token: str | None = None


class DeviceTokens:
    """Signed tokens that name the e-mail address a browser signed in as."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def mint(self, email: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._sign(email, nonce)}"

    def device_of(self, token: str | None, email: str) -> str | None:
        """The device's nonce when `token` was minted for `email`, else None."""
        if not token or token.count(".") != 1 or len(token) > 200:
            return None
        nonce, signature = token.split(".")
        return nonce if hmac.compare_digest(signature, self._sign(email, nonce)) else None

    def _sign(self, email: str, nonce: str) -> str:
        digest = hmac.new(self._secret, f"{email}\n{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


class SignInGuard:
    """Checks the budgets, verifies the password on the bounded pool, audits the outcome."""

    def __init__(
        self,
        *,
        authenticate: Callable[[str, str, dt.datetime], AgentRecord | None],
        per_client: RateLimiter,
        per_address: BackOff,
        in_flight: ConcurrencyLimit,
        pool: BoundedPool,
        devices: DeviceTokens,
        audit_log: audit.AuditLog | None,
        refusals_audited: RateLimiter,
    ) -> None:
        self._authenticate = authenticate
        self._per_client = per_client
        self._per_address = per_address
        self._in_flight = in_flight
        self._pool = pool
        self._devices = devices
        self._audit_log = audit_log
        # A flood of refused attempts must not become a flood of audit rows: each
        # client's refusals are written at the rate this budget allows.
        self._refusals_audited = refusals_audited

    async def sign_in(self, attempt: SignInAttempt, now: dt.datetime) -> SignInResult:
        """Try one sign-in.

        Returns:
            The agent (None for a wrong address or password) and, after a
            success, a device token for the browser.

        Raises:
            SignInRefused: a budget said no; nothing was hashed.
        """
        device = self._devices.device_of(attempt.device_token, attempt.email)
        address_key = f"{attempt.email}|device:{device}" if device else attempt.email
        client_key = f"client:{attempt.client_address}"

        verdict = await self._per_client.hit(client_key)
        if not verdict.allowed:
            await self._refuse(
                attempt,
                now,
                REFUSED_CLIENT_BUDGET,
                verdict.retry_after_seconds,
                "Too many sign-in attempts from your network; wait a few minutes.",
            )
        verdict = await self._per_address.check(address_key)
        if not verdict.allowed:
            await self._per_client.refund(client_key)
            await self._refuse(
                attempt,
                now,
                REFUSED_BACK_OFF,
                verdict.retry_after_seconds,
                f"Too many failed sign-ins for this address; wait {verdict.retry_after_seconds} s "
                "and try again.",
            )
        if not await self._in_flight.enter(address_key):
            await self._per_client.refund(client_key)
            await self._refuse(
                attempt,
                now,
                REFUSED_IN_FLIGHT,
                1,
                "A sign-in for this address is already being checked; try again in a second.",
            )
        try:
            agent = await self._pool.run(self._authenticate, attempt.email, attempt.password, now)
        except PoolBusy:
            await self._per_client.refund(client_key)
            await self._refuse(
                attempt,
                now,
                REFUSED_BUSY,
                1,
                "The desk is busy signing people in; try again in a second.",
            )
        finally:
            await self._in_flight.leave(address_key)

        if agent is None:
            back_off = await self._per_address.failed(address_key)
            await self._audit(
                attempt,
                now,
                audit.FAILED,
                {
                    "reason": WRONG_PASSWORD,
                    "known_device": bool(device),
                    "back_off_seconds": back_off.retry_after_seconds if not back_off.allowed else 0,
                },
            )
            return SignInResult(None)
        await self._per_address.succeeded(address_key)
        await self._per_client.refund(client_key)
        await self._audit(attempt, now, audit.SUCCEEDED, {"known_device": bool(device)}, agent.id)
        return SignInResult(agent, self._devices.mint(attempt.email))

    async def _refuse(
        self, attempt: SignInAttempt, now: dt.datetime, reason: str, retry_after: int, message: str
    ) -> None:
        if (await self._refusals_audited.hit(f"{attempt.client_address}|{reason}")).allowed:
            await self._audit(
                attempt, now, audit.REFUSED, {"reason": reason, "retry_after": retry_after}
            )
        raise SignInRefused(reason, retry_after, message)

    async def _audit(
        self,
        attempt: SignInAttempt,
        now: dt.datetime,
        outcome: str,
        details: Dict[str, Any],
        agent_id: int | None = None,
    ) -> None:
        if self._audit_log is None:
            return
        await asyncio.to_thread(
            self._audit_log.append,
            audit.AuditRecord(
                at=now,
                action=audit.SIGNIN,
                outcome=outcome,
                actor=audit.agent_actor(agent_id) if agent_id is not None else audit.ANONYMOUS,
                subject=attempt.email,
                client_address=attempt.client_address,
                details=details,
            ),
        )
