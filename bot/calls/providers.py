"""How media flows: the provider interface (docs/calls.md 1.5) and the factory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Protocol

from bot.calls import protocol as p
from bot.calls.config import CallSettings
from bot.calls.records import CallRecord


@dataclass(frozen=True)
class JoinInfo:
    rtc: (
        Dict[str, Any] | None
    )  # webrtc: an RTCConfiguration, passed as is to new RTCPeerConnection()
    join_url: str | None  # jitsi: the participant's link


@dataclass(frozen=True)
class Participant:
    role: str  # "agent" | "customer"
    display_name: str | None
    agent_id: int | None = None


class CallProvider(Protocol):
    name: str
    relays_signalling: bool

    def new_room(self) -> str | None: ...

    def join(self, call: CallRecord, who: Participant, now: dt.datetime) -> JoinInfo: ...


def make_provider(settings: CallSettings) -> CallProvider | None:
    """The configured provider, or None when calls are off."""
    if settings.provider == p.PROVIDER_WEBRTC:
        from bot.calls.webrtc import WebRtcProvider

        return WebRtcProvider(settings)
    if settings.provider == p.PROVIDER_JITSI:
        from bot.calls.jitsi import JitsiProvider

        return JitsiProvider(settings)
    return None
