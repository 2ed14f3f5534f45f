"""Call settings from the environment (docs/calls.md 1.4), validated once at the edge."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Mapping, Tuple

from bot.calls import protocol as p
from bot.settings import SettingsError

logger = logging.getLogger(__name__)

PROVIDER_OFF = "off"
MIN_SECRET_LENGTH = 32
MAX_TURN_TTL_SECONDS = 86_400
ROOM_PREFIX = re.compile(r"^[a-z0-9-]{1,20}$")
JITSI_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_TURN_CREDENTIALS_HINT = (
    "set BATON_TURN_SECRET (coturn's static-auth-secret) or both "
    "BATON_TURN_USERNAME and BATON_TURN_CREDENTIAL"
)


@dataclass(frozen=True)
class CallSettings:
    provider: str | None = p.PROVIDER_WEBRTC  # None: calls are off
    stun_urls: Tuple[str, ...] = ()
    turn_urls: Tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_username: str | None = None
    turn_credential: str | None = None
    turn_ttl_seconds: int = 120 * 60 + 300
    # "relay": browsers use (and tell each other) only TURN relay addresses, so neither
    # side learns the other's IP address; "all" also tries the direct paths.
    ice_transport_policy: str = "all"
    ring_seconds: int = 30
    connect_seconds: int = 20
    max_minutes: int = 120
    jitsi_domain: str | None = None
    jitsi_room_prefix: str = "baton"
    jitsi_app_id: str | None = None
    jitsi_app_secret: str | None = None
    jitsi_audience: str = "jitsi"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CallSettings:
        """Read and check every `BATON_CALL_*`, STUN/TURN and Jitsi variable.

        Raises:
            SettingsError: naming the variable, what is wrong and what is allowed.
        """
        env = os.environ if env is None else env
        raw_provider = (env.get("BATON_CALL_PROVIDER") or p.PROVIDER_WEBRTC).strip()
        if raw_provider not in (*p.PROVIDERS, PROVIDER_OFF):
            raise SettingsError(
                f"BATON_CALL_PROVIDER is {raw_provider!r}; allowed: 'webrtc', 'jitsi' or 'off'"
            )
        provider = None if raw_provider == PROVIDER_OFF else raw_provider
        ring = _whole(env, "BATON_CALL_RING_SECONDS", 30, 10, 300)
        connect = _whole(env, "BATON_CALL_CONNECT_SECONDS", 20, 5, 120)
        max_minutes = _whole(env, "BATON_CALL_MAX_MINUTES", 120, 1, 720)

        stun = _urls(env, "BATON_STUN_URLS", ("stun:", "stuns:"))
        turn = _urls(env, "BATON_TURN_URLS", ("turn:", "turns:"))
        secret = env.get("BATON_TURN_SECRET") or None
        username = env.get("BATON_TURN_USERNAME") or None
        credential = env.get("BATON_TURN_CREDENTIAL") or None
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"BATON_TURN_SECRET is {len(secret)} characters; use at least {MIN_SECRET_LENGTH} "
                "(e.g. `openssl rand -hex 32`, the same as coturn's static-auth-secret)"
            )
        if (username is None) != (credential is None):
            raise SettingsError(
                "set both BATON_TURN_USERNAME and BATON_TURN_CREDENTIAL, or neither"
            )
        if secret is not None and username is not None:
            raise SettingsError(
                "BATON_TURN_SECRET and BATON_TURN_USERNAME/BATON_TURN_CREDENTIAL are both set; "
                "use one: the secret (recommended) or static credentials"
            )
        if turn and secret is None and username is None:
            raise SettingsError(
                "BATON_TURN_URLS is set but there are no TURN credentials; "
                f"{_TURN_CREDENTIALS_HINT}"
            )
        ttl = _whole(
            env,
            "BATON_TURN_TTL_SECONDS",
            max_minutes * 60 + 300,
            max_minutes * 60,
            MAX_TURN_TTL_SECONDS,
            why="at least BATON_CALL_MAX_MINUTES × 60, since coturn refuses expired credentials",
        )
        # Relay-only by default once there is a relay: a direct path hands each browser the
        # other's host and public addresses in the ICE candidates, so the customer would
        # learn the agent's IP address (and the agent the customer's). Only the agent's
        # own policy keeps the agent's address out of what the customer receives; the
        # customer's keeps theirs from the agent (and is advisory: their browser, their
        # code). Both get the same. `all` turns it off (e.g. everyone on one network).
        policy = (env.get("BATON_ICE_TRANSPORT_POLICY") or "").strip() or (
            "relay" if turn else "all"
        )
        if policy not in ("all", "relay"):
            raise SettingsError(
                f"BATON_ICE_TRANSPORT_POLICY is {policy!r}; allowed: 'all' or 'relay'"
            )
        if policy == "relay" and not turn:
            raise SettingsError(
                "BATON_ICE_TRANSPORT_POLICY=relay needs BATON_TURN_URLS (a TURN server to relay "
                "through)"
            )
        if provider == p.PROVIDER_WEBRTC and policy == "all":
            # Said once at start, so an operator who meant to hide addresses notices.
            logger.info("calls.config.direct_paths participants_see_each_others_ip=yes")

        domain = (env.get("BATON_JITSI_DOMAIN") or "").strip() or None
        prefix = (env.get("BATON_JITSI_ROOM_PREFIX") or "baton").strip()
        app_id = env.get("BATON_JITSI_APP_ID") or None
        app_secret = env.get("BATON_JITSI_APP_SECRET") or None
        audience = (env.get("BATON_JITSI_JWT_AUDIENCE") or "jitsi").strip()
        if provider == p.PROVIDER_JITSI:
            if domain is None:
                raise SettingsError(
                    "BATON_CALL_PROVIDER=jitsi needs BATON_JITSI_DOMAIN "
                    "(host and optional port of your Jitsi Meet, no scheme, e.g. meet.example.com)"
                )
            if not JITSI_DOMAIN.match(domain):
                raise SettingsError(
                    f"BATON_JITSI_DOMAIN is {domain!r}; expected a host and optional port, no "
                    "scheme or path"
                )
            if not ROOM_PREFIX.match(prefix):
                raise SettingsError(
                    f"BATON_JITSI_ROOM_PREFIX is {prefix!r}; allowed: 1-20 of a-z, 0-9 and '-'"
                )
            if (app_id is None) != (app_secret is None):
                raise SettingsError(
                    "set both BATON_JITSI_APP_ID and BATON_JITSI_APP_SECRET, or neither"
                )
            if app_secret is not None and len(app_secret) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"BATON_JITSI_APP_SECRET is {len(app_secret)} characters; use at least "
                    f"{MIN_SECRET_LENGTH}"
                )
            if stun or turn or secret or username:
                logger.info("calls.config.ignored reason=jitsi_provider variables=stun_turn")
        return cls(
            provider=provider,
            stun_urls=stun,
            turn_urls=turn,
            turn_secret=secret,
            turn_username=username,
            turn_credential=credential,
            turn_ttl_seconds=ttl,
            ice_transport_policy=policy,
            ring_seconds=ring,
            connect_seconds=connect,
            max_minutes=max_minutes,
            jitsi_domain=domain,
            jitsi_room_prefix=prefix,
            jitsi_app_id=app_id,
            jitsi_app_secret=app_secret,
            jitsi_audience=audience,
        )


def _whole(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, why: str | None = None
) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(
            f"{name} is {raw!r}; expected a whole number from {low} to {high}"
        ) from None
    if not low <= value <= high:
        hint = f" ({why})" if why else ""
        raise SettingsError(f"{name} is {value}; allowed: {low} to {high}{hint}")
    return value


def _urls(env: Mapping[str, str], name: str, schemes: Tuple[str, ...]) -> Tuple[str, ...]:
    urls = tuple(url.strip() for url in (env.get(name) or "").split(",") if url.strip())
    for url in urls:
        if not url.startswith(schemes) or len(url) <= len(url.split(":", 1)[0]) + 1 or " " in url:
            raise SettingsError(
                f"{name} has {url!r}; each entry must start with {' or '.join(schemes)} "
                f"(comma-separated, e.g. {schemes[0]}turn.example.com:3478)"
            )
    return urls
