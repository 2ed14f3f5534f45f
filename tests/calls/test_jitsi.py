"""The jitsi provider: unguessable rooms, join URLs, per-participant JWTs."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from urllib.parse import unquote

import jwt

from bot.calls.config import CallSettings
from bot.calls.jitsi import JitsiProvider
from bot.calls.providers import Participant, make_provider
from bot.calls.records import CallRecord

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)
APP_SECRET = "j" * 40
BASE = {"BATON_CALL_PROVIDER": "jitsi", "BATON_JITSI_DOMAIN": "meet.example.com"}


def call(room: str, media: str = "video") -> CallRecord:
    return CallRecord(
        id="0123456789abcdef0123456789abcdef",
        conversation_pk=1,
        conversation_id="c" * 32,
        ticket_id=1,
        team="billing",
        agent_id=3,
        agent_name="Sam Carter",
        media=media,
        provider="jitsi",
        state="active",
        started_by="agent:3",
        customer_sid=None,
        agent_connection=None,
        room=room,
        created_at=NOW,
        expires_at=None,
        answered_at=NOW,
        connected_at=NOW,
        ended_at=None,
        end_reason=None,
        ended_by=None,
    )


def test_rooms_are_prefixed_lowercase_and_carry_128_random_bits():
    provider = make_provider(
        CallSettings.from_env({**BASE, "BATON_JITSI_ROOM_PREFIX": "acme-help"})
    )
    rooms = [provider.new_room() for _ in range(2000)]
    assert len(set(rooms)) == len(rooms)
    for room in rooms[:50]:
        assert re.fullmatch(r"acme-help-[0-9a-f]{32}", room), room
    # The random part is 32 hex digits (128 bits), and its digits are spread evenly:
    # the empirical entropy per character is close to the 4 bits of a uniform hex digit.
    counts = Counter("".join(room.rsplit("-", 1)[1] for room in rooms))
    total = sum(counts.values())
    entropy = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert len(counts) == 16 and entropy > 3.99


def test_a_join_url_without_token_authentication():
    provider = JitsiProvider(CallSettings.from_env(BASE))
    url = provider.join(
        call("baton-" + "1" * 32), Participant("customer", "Ana Müller"), NOW
    ).join_url
    assert url.startswith("https://meet.example.com/baton-" + "1" * 32 + "#userInfo.displayName=")
    assert "jwt=" not in url
    name = url.split("userInfo.displayName=", 1)[1]
    assert json.loads(unquote(name)) == "Ana Müller"


def test_a_screen_share_starts_sharing_with_video_muted():
    provider = JitsiProvider(CallSettings.from_env(BASE))
    url = provider.join(
        call("baton-" + "2" * 32, "screen"), Participant("customer", None), NOW
    ).join_url
    assert url.endswith("&config.startScreenSharing=true&config.startWithVideoMuted=true")


def test_jwt_claims_per_participant():
    settings = CallSettings.from_env(
        {
            **BASE,
            "BATON_JITSI_APP_ID": "baton",
            "BATON_JITSI_APP_SECRET": APP_SECRET,
            "BATON_JITSI_JWT_AUDIENCE": "meet",
            "BATON_CALL_MAX_MINUTES": "60",
        }
    )
    provider = JitsiProvider(settings)
    room = "baton-" + "3" * 32
    agent_url = provider.join(call(room), Participant("agent", "Sam Carter", 3), NOW).join_url
    customer_url = provider.join(call(room), Participant("customer", "Ana"), NOW).join_url
    for url, user in (
        (agent_url, {"name": "Sam Carter", "id": "agent:3", "moderator": True}),
        (customer_url, {"name": "Ana", "id": "customer", "moderator": False}),
    ):
        token = url.split("?jwt=", 1)[1].split("#", 1)[0]
        claims = jwt.decode(
            token,
            APP_SECRET,
            algorithms=["HS256"],
            audience="meet",
            options={"verify_exp": False, "verify_nbf": False},
        )
        assert claims == {
            "aud": "meet",
            "iss": "baton",
            "sub": "meet.example.com",
            "room": room,
            "nbf": int(NOW.timestamp()) - 10,
            "exp": int(NOW.timestamp()) + 65 * 60,
            "context": {"user": user},
        }
