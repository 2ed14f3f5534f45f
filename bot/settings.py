"""Runtime settings, read from the environment once, at the edge of each process.

Secrets never live in YAML beside the code: they come from the environment
(`.env.example` lists every variable). Nothing is read at import time.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'baton.db'}"
DEFAULT_MAX_MESSAGE_LENGTH = 2000
# The JWT secret must be long enough that HS256 is not brute-forceable.
MIN_JWT_SECRET_LENGTH = 32
# An agent's password (bot.desk.passwords checks the same when it is set).
MIN_ADMIN_PASSWORD_LENGTH = 12
DEFAULT_DESK_SESSION_HOURS = 8
# A desk session ends after 24 hours however active (bot.desk.sessions).
MAX_DESK_SESSION_HOURS = 24
DEFAULT_OFFER_SECONDS = 30
MIN_OFFER_SECONDS = 5
MAX_OFFER_SECONDS = 3600
DEFAULT_DISCONNECT_GRACE_SECONDS = 30
MAX_DISCONNECT_GRACE_SECONDS = 600
# The claims a customer token must carry (bot.identity): the audience and issuer it was
# signed for, so a token the website signs for another service with the same secret is
# refused; and a ceiling on exp - iat, so a leaked token cannot be a years-long key.
DEFAULT_JWT_AUDIENCE = "baton-widget"
DEFAULT_JWT_ISSUER = "baton"
DEFAULT_JWT_MAX_LIFETIME_SECONDS = 86_400
MIN_JWT_MAX_LIFETIME_SECONDS = 60
MAX_JWT_MAX_LIFETIME_SECONDS = 7 * 86_400
# An audience or issuer is one token of printable text (a name or a URL).
_CLAIM_VALUE = re.compile(r"[!-~]{1,255}")
# The escalation policy's file, when it is not the project's escalation.yml.
ESCALATION_FILE_ENV = "BATON_ESCALATION_FILE"
# The interface the action server binds (`bot run` and `python -m actions.server`).
ACTION_SERVER_HOST_ENV = "BATON_ACTION_SERVER_HOST"
# Rasa's own HTTP API: off without a token; loopback only unless allowed (connectors/rasa_server).
RASA_API_TOKEN_ENV = "BATON_RASA_API_TOKEN"  # noqa: S105 -- a variable's name, not a token
RASA_API_ALLOW_REMOTE_ENV = "BATON_RASA_API_ALLOW_REMOTE"
# As BATON_JWT_SECRET: a token an attacker could guess offline is no lock.
MIN_RASA_API_TOKEN_LENGTH = 16
# The bearer token Prometheus scrapes /metrics with; unset, only this host may (docs/metrics.md).
METRICS_TOKEN_ENV = "BATON_METRICS_TOKEN"  # noqa: S105 -- a variable's name, not a token
# Minutes an agent spends on one conversation, for the queue's wait estimate
# (bot.desk.availability): above 0 and at most a day.
AVERAGE_HANDLING_MINUTES_ENV = "BATON_AVERAGE_HANDLING_MINUTES"
DEFAULT_AVERAGE_HANDLING_MINUTES = 8.0
MAX_AVERAGE_HANDLING_MINUTES = 24 * 60.0
_TRUE = ("1", "true", "yes")
_FALSE = ("", "0", "false", "no")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything a Baton process needs to know about its deployment."""

    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str | None = None
    account_backend: str = "demo"
    account_api_url: str | None = None
    account_api_token: str | None = None
    allowed_origins: Tuple[str, ...] = field(default_factory=tuple)
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    demo_enabled: bool = False
    login_url: str = "https://www.brightwave.example/login"
    escalation_webhook_url: str | None = None
    # The first admin of the desk, created by `bot run` when there is no admin yet.
    admin_email: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    desk_session_hours: int = DEFAULT_DESK_SESSION_HOURS
    offer_seconds: int = DEFAULT_OFFER_SECONDS
    # How long an agent whose last console closed has to come back before their
    # conversations go back to the queue.
    disconnect_grace_seconds: int = DEFAULT_DISCONNECT_GRACE_SECONDS
    # What a customer token must say (`aud`, `iss`) and its longest exp - iat.
    jwt_audience: str = DEFAULT_JWT_AUDIENCE
    jwt_issuer: str = DEFAULT_JWT_ISSUER
    jwt_max_lifetime_seconds: int = DEFAULT_JWT_MAX_LIFETIME_SECONDS
    # None: the project's escalation.yml.
    escalation_file: Path | None = None
    # None: the default of the command that starts the action server.
    action_server_host: str | None = None
    rasa_api_token: str | None = field(default=None, repr=False)
    rasa_api_allow_remote: bool = False
    metrics_token: str | None = field(default=None, repr=False)
    average_handling_minutes: float = DEFAULT_AVERAGE_HANDLING_MINUTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see `.env.example`)."""
        env = os.environ if env is None else env
        secret = env.get("BATON_JWT_SECRET") or None
        if secret is not None and len(secret) < MIN_JWT_SECRET_LENGTH:
            raise SettingsError(
                f"BATON_JWT_SECRET is {len(secret)} characters; "
                f"use at least {MIN_JWT_SECRET_LENGTH} random characters"
            )
        backend = env.get("BATON_ACCOUNT_BACKEND", "demo")
        if backend not in ("demo", "http"):
            raise SettingsError(f"BATON_ACCOUNT_BACKEND is {backend!r}; allowed: 'demo' or 'http'")
        api_url = env.get("BATON_ACCOUNT_API_URL") or None
        if backend == "http" and not api_url:
            raise SettingsError(
                "BATON_ACCOUNT_BACKEND=http needs BATON_ACCOUNT_API_URL "
                "(the base URL of the company's account API)"
            )
        raw_limit = env.get("BATON_MAX_MESSAGE_LENGTH", str(DEFAULT_MAX_MESSAGE_LENGTH))
        try:
            max_length = int(raw_limit)
        except ValueError:
            raise SettingsError(
                f"BATON_MAX_MESSAGE_LENGTH is {raw_limit!r}; expected a whole number"
            ) from None
        if max_length < 1:
            raise SettingsError("BATON_MAX_MESSAGE_LENGTH must be at least 1")
        admin_email = (env.get("BATON_ADMIN_EMAIL") or "").strip() or None
        admin_password = env.get("BATON_ADMIN_PASSWORD") or None
        if (admin_email is None) != (admin_password is None):
            raise SettingsError(
                "set both BATON_ADMIN_EMAIL and BATON_ADMIN_PASSWORD (the first desk admin), or "
                "neither"
            )
        if admin_email is not None and ("@" not in admin_email or " " in admin_email):
            raise SettingsError(
                f"BATON_ADMIN_EMAIL is {admin_email!r}; expected an email address "
                "(name@example.com)"
            )
        if admin_password is not None and len(admin_password) < MIN_ADMIN_PASSWORD_LENGTH:
            raise SettingsError(
                f"BATON_ADMIN_PASSWORD is {len(admin_password)} characters; "
                f"use at least {MIN_ADMIN_PASSWORD_LENGTH}"
            )
        session_hours = _whole_number(
            env,
            "BATON_DESK_SESSION_HOURS",
            DEFAULT_DESK_SESSION_HOURS,
            1,
            MAX_DESK_SESSION_HOURS,
            f"a desk session ends after {MAX_DESK_SESSION_HOURS} hours however active",
        )
        offer_seconds = _whole_number(
            env,
            "BATON_OFFER_SECONDS",
            DEFAULT_OFFER_SECONDS,
            MIN_OFFER_SECONDS,
            MAX_OFFER_SECONDS,
            "how long an agent has to accept an offered conversation",
        )
        disconnect_grace_seconds = _whole_number(
            env,
            "BATON_DISCONNECT_GRACE_SECONDS",
            DEFAULT_DISCONNECT_GRACE_SECONDS,
            0,
            MAX_DISCONNECT_GRACE_SECONDS,
            "how long a disconnected agent keeps their conversations",
        )
        jwt_audience, jwt_issuer, jwt_max_lifetime_seconds = jwt_claim_settings(env)
        rasa_api_token, rasa_api_allow_remote = rasa_api_settings(env)
        origins = tuple(
            origin.strip()
            for origin in env.get("BATON_ALLOWED_ORIGINS", "").split(",")
            if origin.strip()
        )
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jwt_secret=secret,
            account_backend=backend,
            account_api_url=api_url,
            account_api_token=env.get("BATON_ACCOUNT_API_TOKEN") or None,
            allowed_origins=origins,
            max_message_length=max_length,
            demo_enabled=env.get("BATON_DEMO", "") in ("1", "true", "yes"),
            login_url=env.get("BATON_LOGIN_URL") or cls.login_url,
            escalation_webhook_url=env.get("BATON_ESCALATION_WEBHOOK_URL") or None,
            admin_email=admin_email,
            admin_password=admin_password,
            desk_session_hours=session_hours,
            offer_seconds=offer_seconds,
            disconnect_grace_seconds=disconnect_grace_seconds,
            jwt_audience=jwt_audience,
            jwt_issuer=jwt_issuer,
            jwt_max_lifetime_seconds=jwt_max_lifetime_seconds,
            escalation_file=escalation_file(env),
            action_server_host=action_server_host(env),
            rasa_api_token=rasa_api_token,
            rasa_api_allow_remote=rasa_api_allow_remote,
            metrics_token=env.get(METRICS_TOKEN_ENV) or None,
            average_handling_minutes=average_handling_minutes(env),
        )


def jwt_claim_settings(env: Mapping[str, str] | None = None) -> Tuple[str, str, int]:
    """The customer-token rules: `BATON_JWT_AUDIENCE`, `BATON_JWT_ISSUER` and
    `BATON_JWT_MAX_LIFETIME_SECONDS`, each checked, or its default when unset.

    Separate from `Settings.from_env` so that bot.identity can read the same three
    with the same checks where its callers hand it only the secret.

    Args:
        env: the variables; the process environment when None.

    Raises:
        SettingsError: naming the variable, what is wrong and what is allowed.
    """
    env = os.environ if env is None else env
    audience = _claim_value(env, "BATON_JWT_AUDIENCE", DEFAULT_JWT_AUDIENCE)
    issuer = _claim_value(env, "BATON_JWT_ISSUER", DEFAULT_JWT_ISSUER)
    max_lifetime = _whole_number(
        env,
        "BATON_JWT_MAX_LIFETIME_SECONDS",
        DEFAULT_JWT_MAX_LIFETIME_SECONDS,
        MIN_JWT_MAX_LIFETIME_SECONDS,
        MAX_JWT_MAX_LIFETIME_SECONDS,
        "the longest a customer token may live, exp - iat",
    )
    return audience, issuer, max_lifetime


def escalation_file(env: Mapping[str, str] | None = None) -> Path | None:
    """`BATON_ESCALATION_FILE`: the escalation policy to load instead of escalation.yml.

    Separate from `Settings.from_env`, as `jwt_claim_settings`, so that loading the
    policy checks no other setting.
    """
    env = os.environ if env is None else env
    raw = env.get(ESCALATION_FILE_ENV) or ""
    return Path(raw) if raw else None


def action_server_host(env: Mapping[str, str] | None = None) -> str | None:
    """`BATON_ACTION_SERVER_HOST`: the interface the action server binds; None when unset."""
    env = os.environ if env is None else env
    return env.get(ACTION_SERVER_HOST_ENV) or None


def rasa_api_settings(env: Mapping[str, str] | None = None) -> Tuple[str | None, bool]:
    """`BATON_RASA_API_TOKEN` (None: Rasa's HTTP API stays off) and
    `BATON_RASA_API_ALLOW_REMOTE` (whether it answers clients on other hosts).

    Raises:
        SettingsError: the token is set but too short to be a secret, or the other is
            neither yes nor no.
    """
    env = os.environ if env is None else env
    token = (env.get(RASA_API_TOKEN_ENV) or "").strip() or None
    if token is not None and len(token) < MIN_RASA_API_TOKEN_LENGTH:
        raise SettingsError(
            f"{RASA_API_TOKEN_ENV} is {len(token)} characters; use at least "
            f"{MIN_RASA_API_TOKEN_LENGTH} random characters"
        )
    raw = (env.get(RASA_API_ALLOW_REMOTE_ENV) or "").strip().lower()
    if raw not in _TRUE + _FALSE:
        raise SettingsError(
            f"{RASA_API_ALLOW_REMOTE_ENV} is {raw!r}; allowed: 1 (the API answers other hosts) "
            "or 0 (the default)"
        )
    return token, raw in _TRUE


def average_handling_minutes(env: Mapping[str, str] | None = None) -> float:
    """`BATON_AVERAGE_HANDLING_MINUTES`, or the default when it is unset.

    Raises:
        SettingsError: the value is not a number of minutes above 0 and at most a day.
    """
    env = os.environ if env is None else env
    raw = (env.get(AVERAGE_HANDLING_MINUTES_ENV) or "").strip()
    if not raw:
        return DEFAULT_AVERAGE_HANDLING_MINUTES
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not 0 < minutes <= MAX_AVERAGE_HANDLING_MINUTES:  # also refuses NaN
        raise SettingsError(
            f"{AVERAGE_HANDLING_MINUTES_ENV} is {raw!r}; expected the minutes an agent spends "
            f"on one conversation, a number above 0 and at most {MAX_AVERAGE_HANDLING_MINUTES:g}"
        )
    return minutes


def _claim_value(env: Mapping[str, str], name: str, default: str) -> str:
    """An `aud`/`iss` value: up to 255 printable characters without spaces."""
    value = (env.get(name) or "").strip() or default
    if not _CLAIM_VALUE.fullmatch(value):
        raise SettingsError(
            f"{name} is {value!r}; expected 1 to 255 printable characters without spaces "
            "(a name or URL the host website also puts in its customer tokens)"
        )
    return value


def _whole_number(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, meaning: str
) -> int:
    """A whole-number variable between `low` and `high`, or its default when unset."""
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} is {raw!r}; expected a whole number ({meaning})") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} is {value}; allowed: {low} to {high} ({meaning})")
    return value
