"""What the desk opens when the server starts: its use cases, stores and sign-in guard.

`DeskParts.open` builds them from the settings once, in `before_server_start`
(never at import: the blueprint of a server that never starts opens nothing);
the handlers of the other modules are handed the parts they use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from bot import audit
from bot.calls.config import CallSettings
from bot.calls.providers import make_provider
from bot.calls.service import CallService
from bot.db import make_engine, make_session_factory
from bot.desk.agents import AgentDirectory
from bot.desk.blocks import BlockList
from bot.desk.routing import Router
from bot.desk.service import DeskService
from bot.desk.sessions import DeskSessions
from bot.desk.signin import DeviceTokens, SignInGuard
from bot.escalation.engine import YamlEscalationPolicy, load_default_policy
from bot.limits.interface import Clock
from bot.limits.memory import MemoryBackOff, MemoryConcurrencyLimit, MemoryRateLimiter
from bot.limits.pool import BoundedPool
from bot.limits.settings import LimitSettings
from bot.settings import Settings

# A failure is forgotten this long after an address's last one.
FAILED_SIGNIN_MEMORY_SECONDS = 900.0
# Refused sign-ins from one client are audited at most this often (the log stays
# readable under a flood).
REFUSED_SIGNINS_AUDITED = (5, 60.0)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def short(conversation_id: str) -> str:
    """A conversation id as logs name it: a guest's full id is the bearer secret of their chat."""
    return f"{conversation_id[:8]}…"


@dataclass
class DeskParts:
    """The desk's use cases and stores, on one database engine."""

    settings: Settings
    call_settings: CallSettings
    limits: LimitSettings
    policy: YamlEscalationPolicy
    engine: Any
    session_factory: Any
    service: DeskService
    directory: AgentDirectory
    sessions: DeskSessions
    router: Router
    blocks: BlockList
    audit_log: audit.AuditLog
    calls: CallService
    password_pool: BoundedPool
    signin: SignInGuard

    @classmethod
    def open(
        cls,
        settings: Settings,
        call_settings: CallSettings,
        limits: LimitSettings,
        clock: Clock,
    ) -> DeskParts:
        """Open the database and build every part (the model of the policy included)."""
        policy = load_default_policy()
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        directory = AgentDirectory(session_factory)
        audit_log = audit.AuditLog(session_factory)
        password_pool = BoundedPool(limits.password_workers, limits.password_queue, "desk-password")
        signin = SignInGuard(
            authenticate=directory.authenticate,
            per_client=MemoryRateLimiter(
                limits.signin_per_address.count, limits.signin_per_address.seconds, clock
            ),
            per_address=MemoryBackOff(
                free_failures=limits.signin_free_failures,
                base_delay=float(limits.signin_backoff_seconds),
                max_delay=float(
                    max(limits.signin_max_backoff_seconds, limits.signin_backoff_seconds)
                ),
                forget_after=FAILED_SIGNIN_MEMORY_SECONDS,
                clock=clock,
            ),
            in_flight=MemoryConcurrencyLimit(1),
            pool=password_pool,
            devices=DeviceTokens(device_secret(settings)),
            audit_log=audit_log,
            refusals_audited=MemoryRateLimiter(*REFUSED_SIGNINS_AUDITED, clock),
        )
        return cls(
            settings=settings,
            call_settings=call_settings,
            limits=limits,
            policy=policy,
            engine=engine,
            session_factory=session_factory,
            service=DeskService(session_factory, policy),
            directory=directory,
            sessions=DeskSessions(
                session_factory, idle=dt.timedelta(hours=settings.desk_session_hours)
            ),
            router=Router(session_factory, offer_seconds=settings.offer_seconds),
            blocks=BlockList(session_factory),
            audit_log=audit_log,
            calls=CallService(session_factory, call_settings, make_provider(call_settings)),
            password_pool=password_pool,
            signin=signin,
        )

    def close(self) -> None:
        self.password_pool.shutdown()
        self.engine.dispose()


def device_secret(settings: Settings) -> bytes:
    """The key of the device cookies: derived from the JWT secret, so it outlives a restart."""
    if settings.jwt_secret:
        return hashlib.sha256(b"baton-desk-device\n" + settings.jwt_secret.encode()).digest()
    return secrets.token_bytes(32)  # no stable secret: devices are known until the restart
