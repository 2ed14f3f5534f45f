"""Customer identity: the signed token the host website hands to the widget.

The company's website, where the customer is logged in, mints a short-lived
HS256 JWT whose `sub` is the customer id. Baton verifies it in the channel and
again in the action server, so account data is only ever read for a customer
whose token verified: nothing the customer types can stand in for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict

import jwt

ALGORITHM = "HS256"
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
ISSUER = "baton"


@dataclass(frozen=True)
class VerifiedCustomer:
    """A customer whose identity token verified."""

    customer_id: str
    name: str | None = None


class InvalidToken(ValueError):
    """The token is missing, forged, expired or malformed."""


def verify_token(token: str | None, secret: str | None) -> VerifiedCustomer:
    """Return the customer a token names, or raise `InvalidToken`.

    Without a configured secret no token can verify: identity is then off.
    """
    if not secret:
        raise InvalidToken("identity verification is not configured")
    if not token or not isinstance(token, str):
        raise InvalidToken("no token")
    try:
        claims: Dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no customer id")
    name = claims.get("name")
    return VerifiedCustomer(customer_id=subject, name=name if isinstance(name, str) else None)


def mint_token(
    customer_id: str,
    secret: str,
    name: str | None = None,
    lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
    now: float | None = None,
) -> str:
    """Sign a token for a customer, as the host website does after its login."""
    issued_at = int(time.time() if now is None else now)
    claims: Dict[str, Any] = {
        "sub": customer_id,
        "iat": issued_at,
        "exp": issued_at + lifetime_seconds,
        "iss": ISSUER,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def customer_from_token(token: str | None, secret: str | None) -> VerifiedCustomer | None:
    """The verified customer, or None for a missing or invalid token."""
    try:
        return verify_token(token, secret)
    except InvalidToken:
        return None
