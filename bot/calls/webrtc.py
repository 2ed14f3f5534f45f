"""The built-in provider: browser to browser, Baton relaying SDP and ICE (docs/calls.md 1.5)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any, Dict, List, Tuple

from bot.calls import protocol as p
from bot.calls.config import CallSettings
from bot.calls.providers import JoinInfo, Participant
from bot.calls.records import CallRecord


def turn_rest_credentials(secret: str, ttl: int, name: str, now: dt.datetime) -> Tuple[str, str]:
    """coturn's TURN REST API (`use-auth-secret`): a username that expires, and its HMAC.

    `username = "<expiry epoch>:<name>"`, `credential = base64(HMAC-SHA1(secret, username))`.
    """
    username = f"{int(now.timestamp()) + ttl}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


class WebRtcProvider:
    name = p.PROVIDER_WEBRTC
    relays_signalling = True

    def __init__(self, settings: CallSettings) -> None:
        self.settings = settings

    def new_room(self) -> str | None:
        return None

    def rtc_configuration(self, name: str, now: dt.datetime) -> Dict[str, Any]:
        """The RTCConfiguration for one participant; `name` scopes minted TURN credentials."""
        settings = self.settings
        servers: List[Dict[str, Any]] = []
        if settings.stun_urls:
            servers.append({"urls": list(settings.stun_urls)})
        if settings.turn_urls:
            if settings.turn_secret is not None:
                username, credential = turn_rest_credentials(
                    settings.turn_secret, settings.turn_ttl_seconds, name, now
                )
            else:
                username, credential = settings.turn_username or "", settings.turn_credential or ""
            servers.append(
                {"urls": list(settings.turn_urls), "username": username, "credential": credential}
            )
        return {"iceServers": servers, "iceTransportPolicy": settings.ice_transport_policy}

    def join(self, call: CallRecord, who: Participant, now: dt.datetime) -> JoinInfo:
        return JoinInfo(rtc=self.rtc_configuration(f"{call.id}-{who.role}", now), join_url=None)
