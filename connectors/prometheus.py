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
from bot.proxies import TrustedProxies
from bot.settings import METRICS_TOKEN_ENV, Settings

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    headers: Mapping[str, str]


def access_refusal(
    token: str | None, authorization: str | None, local_client: bool
) -> Refusal | None:
    """Why a scrape is refused (None: serve it).

    Args:
        token: `BATON_METRICS_TOKEN`, None when unset.
        authorization: the request's `Authorization` header.
        local_client: the client itself is on this host (bot.proxies decides, from
            the peer, the forwarding headers and BATON_TRUSTED_PROXIES).
    """
    if token:
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return None
        return Refusal(
            401,
            f"Send the token of {METRICS_TOKEN_ENV} as 'Authorization: Bearer <token>'.\n",
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if local_client:
        return None
    return Refusal(
        403,
        f"/metrics is served only to this host while {METRICS_TOKEN_ENV} is unset; "
        f"set {METRICS_TOKEN_ENV} and scrape with 'Authorization: Bearer <token>'.\n",
        {},
    )


class PrometheusChannel(InputChannel):
    """`GET /metrics` for Prometheus (docs/metrics.md)."""

    @classmethod
    def name(cls) -> str:
        return "prometheus"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        settings = Settings.from_env()
        return cls(
            database_url=settings.database_url,
            token=settings.metrics_token,
            cache_seconds=float(credentials.get("cache_seconds", DEFAULT_CACHE_SECONDS)),
            proxies=TrustedProxies.from_env(os.environ),
        )

    def __init__(
        self,
        database_url: str,
        token: str | None = None,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.database_url = database_url
        self.proxies = proxies or TrustedProxies()
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
        """Create the metrics (their registry, an engine of their own) and install them for the
        hooks."""
        self._engine = make_engine(self.database_url)
        self.metrics = BatonMetrics.for_engine(self._engine, self.cache_seconds)
        prometheus.install(self.metrics)
        logger.info("metrics.started access=%s", "token" if self.token else "loopback")

    def stop(self) -> None:
        if prometheus.installed() is self.metrics:
            prometheus.install(None)
        if self._engine is not None:
            self._engine.dispose()

    async def serve(self, request: Request) -> HTTPResponse:
        refusal = access_refusal(
            self.token,
            request.headers.get("authorization"),
            self.proxies.is_local_client(request.ip, request.headers),
        )
        if refusal is not None:
            logger.info("metrics.refused status=%d", refusal.status)
            return response.text(
                refusal.message, status=refusal.status, headers=dict(refusal.headers)
            )
        if self.metrics is None:
            return response.text("The metrics are starting; try again in a moment.\n", status=503)
        body, content_type = await asyncio.to_thread(
            self.metrics.exposition, request.headers.get("accept")
        )
        return response.raw(body, content_type=content_type)
