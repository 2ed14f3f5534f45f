"""Forwarding headers are believed only from the trusted proxies."""

from __future__ import annotations

import pytest

from bot.proxies import TrustedProxies
from bot.settings import SettingsError

PROXY = TrustedProxies.parse("10.0.0.0/8,127.0.0.1")
NONE = TrustedProxies()


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded_for", "client"),
    [
        (NONE, "203.0.113.9", "1.2.3.4", "203.0.113.9"),  # a client's own header is ignored
        (PROXY, "10.0.0.5", "198.51.100.7", "198.51.100.7"),
        (
            PROXY,
            "10.0.0.5",
            "6.6.6.6, 198.51.100.7",
            "198.51.100.7",
        ),  # the spoofed left part stays out
        (PROXY, "10.0.0.5", "198.51.100.7, 10.0.0.9", "198.51.100.7"),  # two of our proxies
        (PROXY, "10.0.0.5", "", "10.0.0.5"),
        (PROXY, "10.0.0.5", "not-an-address", "10.0.0.5"),
        (PROXY, "::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"),
        (PROXY, "203.0.113.9", "10.0.0.1", "203.0.113.9"),
    ],
)
def test_the_client_address(
    proxies: TrustedProxies, peer: str, forwarded_for: str, client: str
) -> None:
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    assert proxies.client_address(peer, headers) == client


def test_the_scheme_comes_from_a_trusted_proxy_only() -> None:
    headers = {"x-forwarded-proto": "https"}
    assert PROXY.scheme("10.1.1.1", headers, "http") == "https"
    assert NONE.scheme("10.1.1.1", headers, "http") == "http"
    assert PROXY.scheme("10.1.1.1", {"x-forwarded-proto": "gopher"}, "http") == "http"


def test_a_local_peer_forwarding_for_someone_else_is_not_a_local_client() -> None:
    assert NONE.is_local_client("127.0.0.1", {})
    assert not NONE.is_local_client("127.0.0.1", {"x-forwarded-for": "203.0.113.9"})
    assert not PROXY.is_local_client("127.0.0.1", {"x-forwarded-for": "203.0.113.9"})
    assert not NONE.is_local_client("203.0.113.9", {})


def test_behind_a_declared_proxy_on_this_host_only_a_forwarded_loopback_client_is_local() -> None:
    same_host = TrustedProxies.parse("127.0.0.1")
    assert not same_host.is_local_client("127.0.0.1", {})  # a proxy that adds no header
    assert not same_host.is_local_client("127.0.0.1", {"x-forwarded-for": "203.0.113.9"})
    assert same_host.is_local_client("127.0.0.1", {"x-forwarded-for": "127.0.0.1"})


def test_a_bad_entry_is_refused_with_the_variable_name() -> None:
    with pytest.raises(SettingsError, match="BATON_TRUSTED_PROXIES: 'office' is not an IP"):
        TrustedProxies.from_env({"BATON_TRUSTED_PROXIES": "10.0.0.0/8, office"})
