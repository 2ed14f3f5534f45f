"""Every limit against abuse, as a setting read from the environment and checked at start.

docs/security.md lists them with what each protects. The defaults are sized for
real use first: per-socket and per-session budgets are tight, per-address ones
generous, because an office or a mobile carrier puts many people behind one
address.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, Mapping

from bot.settings import SettingsError

KIB = 1024


@dataclass(frozen=True)
class Budget:
    """`count` actions per `seconds` (a token bucket of `count` that refills over `seconds`)."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


@dataclass(frozen=True)
class LimitSettings:
    """The limits of the public surfaces: desk sign-in and API, widget socket, request bodies."""

    # --- request bodies (Sanic reads at most this much of any request) ---
    max_request_bytes: int = 1024 * KIB
    desk_max_body_bytes: int = 64 * KIB
    # One engine.io packet: a message, a token and a call's session description fit.
    webchat_max_packet_bytes: int = 64 * KIB

    # --- desk sign-in ---
    signin_free_failures: int = 5
    signin_backoff_seconds: int = 5
    signin_max_backoff_seconds: int = 60
    signin_per_address: Budget = Budget(30, 600)
    password_workers: int = 2
    password_queue: int = 8

    # --- the desk API, per signed-in agent ---
    desk_requests_per_agent: Budget = Budget(600, 60)

    # --- the widget's socket ---
    webchat_messages_per_socket: Budget = Budget(20, 60)
    webchat_messages_per_address: Budget = Budget(600, 60)
    webchat_typing_per_socket: Budget = Budget(60, 60)
    webchat_typing_per_address: Budget = Budget(1800, 60)
    webchat_sessions_per_socket: Budget = Budget(10, 60)
    webchat_sessions_per_address: Budget = Budget(120, 60)
    webchat_call_signals_per_socket: Budget = Budget(300, 60)
    webchat_call_signals_per_address: Budget = Budget(3000, 60)
    webchat_queued_messages: int = 5
    # Messages of all conversations waiting for the one NLU thread (connectors/nlu_offload.py).
    nlu_queue: int = 100

    # --- blocks of abusive customers (bot.desk.blocks) ---
    block_address_hours: int = 24

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LimitSettings:
        """Read each `BATON_LIMIT_<FIELD>` (a whole number, or `count/seconds` for a budget)."""
        values: Dict[str, Any] = {}
        for spec in fields(cls):
            name = f"BATON_LIMIT_{spec.name.upper()}"
            raw = (env.get(name) or "").strip()
            if not raw:
                continue
            default = getattr(cls, spec.name)
            values[spec.name] = (
                _budget(name, raw) if isinstance(default, Budget) else _positive(name, raw)
            )
        return cls(**values)


def _positive(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} is {raw!r}; expected a whole number of at least 1") from None
    if value < 1:
        raise SettingsError(f"{name} is {value}; allowed: 1 or more")
    return value


def _budget(name: str, raw: str) -> Budget:
    count, slash, seconds = raw.partition("/")
    if not slash:
        raise SettingsError(f"{name} is {raw!r}; expected COUNT/SECONDS, e.g. 20/60")
    return Budget(_positive(name, count.strip()), _positive(name, seconds.strip().rstrip("s")))
