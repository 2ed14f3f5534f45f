"""The webrtc provider: RTCConfiguration, TURN REST credentials, and the call settings."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from bot.calls.config import CallSettings
from bot.calls.providers import Participant, make_provider
from bot.calls.records import CallRecord
from bot.calls.webrtc import WebRtcProvider, turn_rest_credentials
from bot.settings import SettingsError

NOW = dt.datetime.fromtimestamp(1_700_000_000 - 3600, dt.timezone.utc)
SECRET = "s" * 40
CALL_ID = "0123456789abcdef0123456789abcdef"


def test_the_turn_rest_vector_of_the_contract():
    username, credential = turn_rest_credentials("north", 3600, f"{CALL_ID}-customer", NOW)
    assert username == "1700000000:0123456789abcdef0123456789abcdef-customer"
    assert credential == "4Vz7xIyR6YECpc0EUdvypiGo1GI="
    # And it is coturn's formula: base64(HMAC-SHA1(secret, username)).
    expected = base64.b64encode(
        hmac.new(b"north", username.encode(), hashlib.sha1).digest()
    ).decode()
    assert credential == expected


def call(call_id: str = CALL_ID) -> CallRecord:
    return CallRecord(
        id=call_id,
        conversation_pk=1,
        conversation_id="c" * 32,
        ticket_id=1,
        team="billing",
        agent_id=3,
        agent_name="Sam Carter",
        media="video",
        provider="webrtc",
        state="connecting",
        started_by="agent:3",
        customer_sid="sid",
        agent_connection="a" * 32,
        room=None,
        created_at=NOW,
        expires_at=None,
        answered_at=NOW,
        connected_at=None,
        ended_at=None,
        end_reason=None,
        ended_by=None,
    )


def test_nothing_configured_gives_no_ice_servers():
    provider = make_provider(CallSettings.from_env({}))
    info = provider.join(call(), Participant("customer", None), NOW)
    assert info.rtc == {"iceServers": [], "iceTransportPolicy": "all"} and info.join_url is None


def test_minted_credentials_are_per_call_and_participant():
    settings = CallSettings.from_env(
        {
            "BATON_STUN_URLS": "stun:turn.example.com:3478",
            "BATON_TURN_URLS": "turn:turn.example.com:3478?transport=udp, "
            "turns:turn.example.com:5349?transport=tcp",
            "BATON_TURN_SECRET": SECRET,
            "BATON_ICE_TRANSPORT_POLICY": "relay",
        }
    )
    provider = WebRtcProvider(settings)
    customer = provider.join(call(), Participant("customer", None), NOW).rtc
    agent = provider.join(call(), Participant("agent", "Sam Carter", 3), NOW).rtc
    assert customer["iceTransportPolicy"] == "relay"
    assert customer["iceServers"][0] == {"urls": ["stun:turn.example.com:3478"]}
    turn = customer["iceServers"][1]
    assert turn["urls"] == [
        "turn:turn.example.com:3478?transport=udp",
        "turns:turn.example.com:5349?transport=tcp",
    ]
    expiry = int(NOW.timestamp()) + settings.turn_ttl_seconds
    assert turn["username"] == f"{expiry}:{CALL_ID}-customer"
    assert agent["iceServers"][1]["username"] == f"{expiry}:{CALL_ID}-agent"
    assert (
        turn["credential"]
        == turn_rest_credentials(SECRET, settings.turn_ttl_seconds, f"{CALL_ID}-customer", NOW)[1]
    )
    assert settings.turn_ttl_seconds == 120 * 60 + 300


def test_static_credentials_are_passed_as_they_are():
    settings = CallSettings.from_env(
        {
            "BATON_TURN_URLS": "turn:turn.example.com:3478",
            "BATON_TURN_USERNAME": "baton",
            "BATON_TURN_CREDENTIAL": "long-term-password",
        }
    )
    rtc = WebRtcProvider(settings).join(call(), Participant("customer", None), NOW).rtc
    assert rtc["iceServers"] == [
        {
            "urls": ["turn:turn.example.com:3478"],
            "username": "baton",
            "credential": "long-term-password",
        }
    ]


def test_calls_off_means_no_provider():
    assert make_provider(CallSettings.from_env({"BATON_CALL_PROVIDER": "off"})) is None


@pytest.mark.parametrize(
    "env, names",
    [
        ({"BATON_CALL_PROVIDER": "zoom"}, "BATON_CALL_PROVIDER"),
        ({"BATON_TURN_URLS": "turn:t.example.com"}, "BATON_TURN_SECRET"),
        (
            {"BATON_TURN_URLS": "http://t.example.com", "BATON_TURN_SECRET": SECRET},
            "BATON_TURN_URLS",
        ),
        ({"BATON_STUN_URLS": "turn:t.example.com"}, "BATON_STUN_URLS"),
        ({"BATON_TURN_SECRET": "short"}, "BATON_TURN_SECRET"),
        ({"BATON_TURN_USERNAME": "u"}, "BATON_TURN_CREDENTIAL"),
        (
            {"BATON_TURN_USERNAME": "u", "BATON_TURN_CREDENTIAL": "c", "BATON_TURN_SECRET": SECRET},
            "BATON_TURN_SECRET",
        ),
        ({"BATON_ICE_TRANSPORT_POLICY": "relay"}, "BATON_TURN_URLS"),
        ({"BATON_ICE_TRANSPORT_POLICY": "some"}, "BATON_ICE_TRANSPORT_POLICY"),
        ({"BATON_CALL_RING_SECONDS": "5"}, "BATON_CALL_RING_SECONDS"),
        ({"BATON_CALL_RING_SECONDS": "thirty"}, "BATON_CALL_RING_SECONDS"),
        ({"BATON_CALL_CONNECT_SECONDS": "121"}, "BATON_CALL_CONNECT_SECONDS"),
        ({"BATON_CALL_MAX_MINUTES": "0"}, "BATON_CALL_MAX_MINUTES"),
        (
            {"BATON_TURN_TTL_SECONDS": "600"},
            "BATON_TURN_TTL_SECONDS",
        ),  # shorter than the longest call
        ({"BATON_TURN_TTL_SECONDS": "90000"}, "BATON_TURN_TTL_SECONDS"),
        ({"BATON_CALL_PROVIDER": "jitsi"}, "BATON_JITSI_DOMAIN"),
        (
            {"BATON_CALL_PROVIDER": "jitsi", "BATON_JITSI_DOMAIN": "https://meet.example.com"},
            "BATON_JITSI_DOMAIN",
        ),
        (
            {
                "BATON_CALL_PROVIDER": "jitsi",
                "BATON_JITSI_DOMAIN": "meet.example.com",
                "BATON_JITSI_ROOM_PREFIX": "Baton Rooms",
            },
            "BATON_JITSI_ROOM_PREFIX",
        ),
        (
            {
                "BATON_CALL_PROVIDER": "jitsi",
                "BATON_JITSI_DOMAIN": "meet.example.com",
                "BATON_JITSI_APP_ID": "baton",
            },
            "BATON_JITSI_APP_SECRET",
        ),
        (
            {
                "BATON_CALL_PROVIDER": "jitsi",
                "BATON_JITSI_DOMAIN": "meet.example.com",
                "BATON_JITSI_APP_ID": "baton",
                "BATON_JITSI_APP_SECRET": "short",
            },
            "BATON_JITSI_APP_SECRET",
        ),
    ],
)
def test_settings_errors_name_the_variable(env, names):
    with pytest.raises(SettingsError) as error:
        CallSettings.from_env(env)
    assert names in str(error.value)


def test_the_missing_turn_credentials_message_says_what_to_set():
    with pytest.raises(SettingsError) as error:
        CallSettings.from_env({"BATON_TURN_URLS": "turn:t.example.com"})
    assert str(error.value) == (
        "BATON_TURN_URLS is set but there are no TURN credentials; set BATON_TURN_SECRET "
        "(coturn's static-auth-secret) or both BATON_TURN_USERNAME and BATON_TURN_CREDENTIAL"
    )


TURN_ENV = {"BATON_TURN_URLS": "turn:turn.example.com:3478", "BATON_TURN_SECRET": SECRET}


def test_with_turn_both_sides_are_relay_only_by_default():
    # A direct path would put the agent's host and public addresses in the candidates the
    # customer's browser receives: only relay addresses are gathered and sent.
    provider = make_provider(CallSettings.from_env(TURN_ENV))
    for who in (Participant("customer", None), Participant("agent", "Sam Carter", 3)):
        rtc = provider.join(call(), who, NOW).rtc
        assert rtc["iceTransportPolicy"] == "relay"
        assert rtc["iceServers"][0]["urls"] == ["turn:turn.example.com:3478"]


def test_relay_only_can_be_turned_off():
    settings = CallSettings.from_env({**TURN_ENV, "BATON_ICE_TRANSPORT_POLICY": "all"})
    rtc = make_provider(settings).join(call(), Participant("customer", None), NOW).rtc
    assert rtc["iceTransportPolicy"] == "all"


def test_without_turn_there_is_nothing_to_relay_through():
    settings = CallSettings.from_env({"BATON_STUN_URLS": "stun:turn.example.com:3478"})
    assert settings.ice_transport_policy == "all"
