"""Who is really on the other end: the client's address and scheme behind trusted proxies.

Baton is meant to run behind a TLS proxy (nginx, a cloud load balancer). The
proxy's address is what the socket shows; the client's is in the forwarding
headers it adds. Those headers are believed only from the proxies named in
BATON_TRUSTED_PROXIES: from anyone else they are ignored, since a client can
send them too. The per-client budgets, the `Secure` cookie and HSTS, and what
`/metrics` calls local all come from here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping, Sequence, Tuple, Union

from bot.settings import SettingsError

TRUSTED_PROXIES_ENV = "BATON_TRUSTED_PROXIES"
FORWARDED_FOR = "x-forwarded-for"
FORWARDED_PROTO = "x-forwarded-proto"
# Headers that say a proxy forwarded the request; a local peer sending them is not a local client.
FORWARDING_HEADERS = (FORWARDED_FOR, FORWARDED_PROTO, "forwarded", "x-real-ip")
# A longer chain is not a real deployment's; reading further only costs time.
MAX_FORWARDED_HOPS = 16

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_address(text: str) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4, without a zone or port), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "10.0.0.1:443"
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    networks: Tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TrustedProxies:
        """From BATON_TRUSTED_PROXIES: addresses or CIDR networks, comma-separated (none by
        default)."""
        return cls.parse(env.get(TRUSTED_PROXIES_ENV, ""), TRUSTED_PROXIES_ENV)

    @classmethod
    def parse(cls, raw: str, name: str = TRUSTED_PROXIES_ENV) -> TrustedProxies:
        networks = []
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise SettingsError(
                    f"{name}: {item!r} is not an IP address or network; "
                    "expected e.g. 127.0.0.1,10.0.0.0/8,::1"
                ) from None
        return cls(tuple(networks))

    def trusts(self, peer: str | Address | None) -> bool:
        address = parse_address(peer) if isinstance(peer, str) else peer
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer: str, headers: Mapping[str, str]) -> str:
        """The client's address: the peer's, or the nearest untrusted hop a trusted proxy reports.

        X-Forwarded-For lists the hops left to right, each proxy appending the
        address it saw; so it is read from the right, past our own proxies, and
        the first address not ours is the client (anything left of it the client
        could have written itself).
        """
        if not self.trusts(peer):
            return _normalised(peer)
        hops = _forwarded_for(headers)
        client = _normalised(peer)
        for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
            address = parse_address(hop)
            if address is None:
                break  # garbage from beyond our proxies: the last good hop stands
            client = str(address)
            if not self.trusts(address):
                break
        return client

    def scheme(self, peer: str, headers: Mapping[str, str], direct_scheme: str) -> str:
        """`https` or `http` as the client used it: a trusted proxy's X-Forwarded-Proto, else the
        socket's."""
        if self.trusts(peer):
            proto = _header(headers, FORWARDED_PROTO).split(",")[0].strip().lower()
            if proto in ("http", "https"):
                return proto
        return direct_scheme

    def is_local_client(self, peer: str, headers: Mapping[str, str]) -> bool:
        """Whether the client itself is on this host (loopback), not merely a proxy on it.

        A request from a declared proxy is never local by its peer address: a
        proxy on this host that adds no forwarding header would otherwise make
        every client of the internet "local". From an undeclared peer, any
        forwarding header means a proxy was in between.
        """
        if self.trusts(peer):
            if not _forwarded_for(headers):
                return False
            address = parse_address(self.client_address(peer, headers))
        elif any(_header(headers, name) for name in FORWARDING_HEADERS):
            return False
        else:
            address = parse_address(peer)
        return address is not None and address.is_loopback


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value or ""


def _forwarded_for(headers: Mapping[str, str]) -> Sequence[str]:
    getall = getattr(headers, "getall", None)
    values = getall(FORWARDED_FOR, []) if getall is not None else [_header(headers, FORWARDED_FOR)]
    return [hop.strip() for value in values for hop in value.split(",") if hop.strip()]


def _normalised(peer: str) -> str:
    address = parse_address(peer)
    return str(address) if address is not None else peer
