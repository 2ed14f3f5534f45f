"""Jitsi Meet: an unguessable room per call, a link per participant, optionally a JWT (1.5)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import quote

import jwt

from bot.calls import protocol as p
from bot.calls.config import CallSettings
from bot.calls.providers import JoinInfo, Participant
from bot.calls.records import CallRecord

ROOM_RANDOM_BYTES = 16  # 128 bits
NOT_BEFORE_LEEWAY = dt.timedelta(seconds=10)
EXTRA_LIFETIME = dt.timedelta(minutes=5)


class JitsiProvider:
    name = p.PROVIDER_JITSI
    relays_signalling = False

    def __init__(self, settings: CallSettings) -> None:
        if not settings.jitsi_domain:
            raise ValueError("the jitsi provider needs settings.jitsi_domain")
        self.settings = settings

    def new_room(self) -> str:
        # Lowercase hex: Jitsi lowercases room names, so nothing is lost.
        return f"{self.settings.jitsi_room_prefix}-{secrets.token_hex(ROOM_RANDOM_BYTES)}"

    def token(self, room: str, who: Participant, now: dt.datetime) -> str:
        settings = self.settings
        claims = {
            "aud": settings.jitsi_audience,
            "iss": settings.jitsi_app_id,
            "sub": settings.jitsi_domain,
            "room": room,
            "nbf": int((now - NOT_BEFORE_LEEWAY).timestamp()),
            "exp": int(
                (now + dt.timedelta(minutes=settings.max_minutes) + EXTRA_LIFETIME).timestamp()
            ),
            "context": {
                "user": {
                    "name": who.display_name or "",
                    "id": f"agent:{who.agent_id}" if who.role == "agent" else "customer",
                    "moderator": who.role == "agent",
                }
            },
        }
        return jwt.encode(claims, settings.jitsi_app_secret or "", algorithm="HS256")

    def join(self, call: CallRecord, who: Participant, now: dt.datetime) -> JoinInfo:
        if not call.room:
            raise ValueError(f"call {call.id[:8]} has no Jitsi room yet")
        url = f"https://{self.settings.jitsi_domain}/{call.room}"
        if self.settings.jitsi_app_id:
            url += f"?jwt={self.token(call.room, who, now)}"
        fragment = "userInfo.displayName=" + quote(json.dumps(who.display_name or ""), safe="")
        if call.media == p.MEDIA_SCREEN:
            fragment += "&config.startScreenSharing=true&config.startWithVideoMuted=true"
        return JoinInfo(rtc=None, join_url=f"{url}#{fragment}")
