"""Customer identity: the signed token the host website hands to the widget.

The company's website, where the customer is logged in, mints a short-lived
HS256 JWT whose `sub` is the customer id. Baton verifies it in the channel and
again in the action server, so account data is only ever read for a customer
whose token verified: nothing the customer types can stand in for it.

Besides the signature and `exp`, a token must name Baton's widget as its audience
(`aud`) and the expected issuer (`iss`), so a token the website signs with the same
secret for another service does not open the customer's account here; and it must
say when it was issued (`iat`) and live at most `BATON_JWT_MAX_LIFETIME_SECONDS`, so
a token that leaks (a log, a shared screenshot) is not a key for months.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, Mapping

import jwt

from bot.settings import (
    DEFAULT_JWT_AUDIENCE,
    DEFAULT_JWT_ISSUER,
    DEFAULT_JWT_MAX_LIFETIME_SECONDS,
    Settings,
    jwt_claim_settings,
)

ALGORITHM = "HS256"
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
ISSUER = DEFAULT_JWT_ISSUER
_REQUIRED_CLAIMS = ["sub", "exp", "iat", "aud", "iss"]


@dataclass(frozen=True)
class TokenRules:
    """What a customer token must say besides its signature and expiry.

    Attributes:
        audience: the `aud` it must name (`BATON_JWT_AUDIENCE`).
        issuer: its `iss` (`BATON_JWT_ISSUER`).
        max_lifetime_seconds: the longest `exp - iat` (`BATON_JWT_MAX_LIFETIME_SECONDS`).
    """

    audience: str = DEFAULT_JWT_AUDIENCE
    issuer: str = DEFAULT_JWT_ISSUER
    max_lifetime_seconds: int = DEFAULT_JWT_MAX_LIFETIME_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenRules:
        """The rules of a deployment's settings."""
        return cls(
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenRules:
        """The rules of the environment (the process's when None), checked as at start.

        Raises:
            SettingsError: a variable is malformed; the message names it.
        """
        audience, issuer, max_lifetime_seconds = jwt_claim_settings(env)
        return cls(audience, issuer, max_lifetime_seconds)


@dataclass(frozen=True)
class VerifiedCustomer:
    """A customer whose identity token verified."""

    customer_id: str
    name: str | None = None


class InvalidToken(ValueError):
    """The token is missing, forged, expired or malformed."""


def verify_token(
    token: str | None, secret: str | None, rules: TokenRules | None = None
) -> VerifiedCustomer:
    """Return the customer a token names, or raise `InvalidToken`.

    Without a configured secret no token can verify: identity is then off.

    Args:
        token: the JWT the widget passed on.
        secret: `BATON_JWT_SECRET`.
        rules: the audience, issuer and longest lifetime to insist on. None reads
            them from the process environment, which `Settings.from_env` checked at
            start: the callers hand over only the secret, and the minting side
            (`mint_token`) reads the same, so both always agree.

    Raises:
        InvalidToken: missing, forged, expired, not yet valid, for another audience
            or issuer, without `iat`, or living longer than the rules allow.
    """
    if not secret:
        raise InvalidToken("identity verification is not configured")
    if not token or not isinstance(token, str):
        raise InvalidToken("no token")
    rules = TokenRules.from_env() if rules is None else rules
    try:
        claims: Dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=rules.audience,
            issuer=rules.issuer,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    # PyJWT has checked that both are whole numbers (and iat is not in the future).
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > rules.max_lifetime_seconds:
        raise InvalidToken(
            f"token lives {lifetime} s (exp - iat); at most {rules.max_lifetime_seconds} s allowed"
        )
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no customer id")
    name = claims.get("name")
    return VerifiedCustomer(customer_id=subject, name=name if isinstance(name, str) else None)


def mint_token(
    customer_id: str,
    secret: str,
    name: str | None = None,
    lifetime_seconds: int | None = None,
    now: float | None = None,
    rules: TokenRules | None = None,
) -> str:
    """Sign a token for a customer, as the host website does after its login.

    Args:
        customer_id: the `sub`.
        secret: `BATON_JWT_SECRET`.
        name: the customer's name, shown to agents; optional.
        lifetime_seconds: `exp - iat`; negative mints an expired token (for tests).
            None: an hour, or the rules' longest lifetime when that is shorter.
        now: the issue time (epoch seconds); the clock when None.
        rules: the `aud` and `iss` to set; None reads them as `verify_token` does.

    Raises:
        ValueError: `lifetime_seconds` is longer than the rules let a token live.
    """
    rules = TokenRules.from_env() if rules is None else rules
    if lifetime_seconds is None:
        lifetime_seconds = min(DEFAULT_TOKEN_LIFETIME_SECONDS, rules.max_lifetime_seconds)
    if lifetime_seconds > rules.max_lifetime_seconds:
        raise ValueError(
            f"lifetime_seconds is {lifetime_seconds}; tokens may live at most "
            f"{rules.max_lifetime_seconds} s (BATON_JWT_MAX_LIFETIME_SECONDS)"
        )
    issued_at = int(time.time() if now is None else now)
    claims: Dict[str, Any] = {
        "sub": customer_id,
        "iat": issued_at,
        "exp": issued_at + lifetime_seconds,
        "aud": rules.audience,
        "iss": rules.issuer,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def customer_from_token(
    token: str | None, secret: str | None, rules: TokenRules | None = None
) -> VerifiedCustomer | None:
    """The verified customer, or None for a missing or invalid token (see `verify_token`)."""
    try:
        return verify_token(token, secret, rules)
    except InvalidToken:
        return None
