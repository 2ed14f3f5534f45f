"""`prometheus`: `GET /metrics` in the Prometheus text format, inside the Rasa server.

A channel only for its route and its lifetime: Rasa registers the blueprint of
every channel in credentials.yml, and the server's start and stop are where the
metrics (`bot.metrics.prometheus.BatonMetrics`, with its own registry and its
own database engine) are made and disposed of. It takes no messages.

Access: with `BATON_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer
<token>`; unset, only clients on this host (loopback, not through a proxy) are served.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Mapping

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db import make_engine
from bot.metrics import prometheus
from bot.metrics.prometheus import DEFAULT_CACHE_SECONDS, BatonMetrics
from bot.settings import Settings

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
TOKEN_VARIABLE = "BATON_METRICS_TOKEN"
# A request that came through a reverse proxy on this host arrives from loopback:
# these headers say it did, so it is not taken for a local client.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    headers: Mapping[str, str]


def access_refusal(
    token: str | None, authorization: str | None, client_ip: str, forwarded: bool
) -> Refusal | None:
    """Why a scrape is refused (None: serve it).

    Args:
        token: `BATON_METRICS_TOKEN`, None when unset.
        authorization: the request's `Authorization` header.
        client_ip: the peer address of the connection (not a forwarded one).
        forwarded: the request carries a proxy's forwarding header.
    """
    if token:
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return None
        return Refusal(
            401,
            f"Send the token of {TOKEN_VARIABLE} as 'Authorization: Bearer <token>'.\n",
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if _is_loopback(client_ip) and not forwarded:
        return None
    return Refusal(
        403,
        f"/metrics is served only to this host while {TOKEN_VARIABLE} is unset; "
        f"set {TOKEN_VARIABLE} and scrape with 'Authorization: Bearer <token>'.\n",
        {},
    )


def _is_loopback(client_ip: str) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:  # a unix socket or no peer at all
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


class PrometheusChannel(InputChannel):
    """`GET /metrics` for Prometheus (docs/metrics.md)."""

    @classmethod
    def name(cls) -> str:
        return "prometheus"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            database_url=Settings.from_env().database_url,
            token=os.environ.get(TOKEN_VARIABLE) or None,
            cache_seconds=float(credentials.get("cache_seconds", DEFAULT_CACHE_SECONDS)),
        )

    def __init__(
        self,
        database_url: str,
        token: str | None = None,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
    ) -> None:
        self.database_url = database_url
        self.token = token
        self.cache_seconds = cache_seconds
        self.metrics: BatonMetrics | None = None
        self._engine: Any = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel = self

        class _RootBlueprint(Blueprint):
            def register(self, app: Sanic, options: Dict[str, Any]) -> None:
                # At /metrics, where Prometheus looks, not under /webhooks/prometheus.
                super().register(app, {**options, "url_prefix": ""})

        blueprint = _RootBlueprint("baton_prometheus")

        @blueprint.listener("before_server_start")
        async def start(_app: Sanic, _: Any) -> None:
            channel.start()

        @blueprint.listener("after_server_stop")
        async def stop(_app: Sanic, _: Any) -> None:
            channel.stop()

        @blueprint.route(METRICS_PATH, methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            return await channel.serve(request)

        return blueprint

    def start(self) -> None:
        """Create the metrics (their registry, an engine of their own) and install them for the hooks."""
        self._engine = make_engine(self.database_url)
        self.metrics = BatonMetrics.for_engine(self._engine, self.cache_seconds)
        prometheus.install(self.metrics)
        logger.info(
            "metrics.started access=%s", "token" if self.token else "loopback"
        )

    def stop(self) -> None:
        if prometheus.installed() is self.metrics:
            prometheus.install(None)
        if self._engine is not None:
            self._engine.dispose()

    async def serve(self, request: Request) -> HTTPResponse:
        refusal = access_refusal(
            self.token,
            request.headers.get("authorization"),
            request.ip,
            any(name in request.headers for name in FORWARDING_HEADERS),
        )
        if refusal is not None:
            logger.info("metrics.refused status=%d", refusal.status)
            return response.text(refusal.message, status=refusal.status, headers=dict(refusal.headers))
        if self.metrics is None:
            return response.text("The metrics are starting; try again in a moment.\n", status=503)
        body, content_type = await asyncio.to_thread(
            self.metrics.exposition, request.headers.get("accept")
        )
        return response.raw(body, content_type=content_type)
