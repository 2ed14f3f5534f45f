"""The socket.io server of the customer channel, and what it tells about a socket's client."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any, Dict, List, Mapping, Sequence

import engineio
from socketio import AsyncServer

from bot.proxies import TrustedProxies


class _OwnAndAllowedOriginsEngineIO(engineio.AsyncServer):
    """engine.io accepting pages of the server's own origin plus the configured ones.

    engine.io's own choice is either same-origin only or a fixed list, in which
    an operator would have to repeat the server's public address.
    """

    def _cors_allowed_origins(self, environ: Dict[str, Any]) -> List[str]:
        own = engineio.AsyncServer._cors_allowed_origins(
            SimpleNamespace(cors_allowed_origins=None), environ
        )
        return [*own, *self.cors_allowed_origins]


class _WebchatSocketServer(AsyncServer):
    def _engineio_server_class(self) -> type:
        return _OwnAndAllowedOriginsEngineIO


def create_socket_server(allowed_origins: Sequence[str], max_packet_bytes: int) -> AsyncServer:
    """A socket.io server for Sanic that refuses foreign origins and oversized packets."""
    return _WebchatSocketServer(
        async_mode="sanic",
        # The server's own origin plus the configured ones; never "*". A tuple,
        # because engine.io reads an empty *list* as "CORS checks off".
        cors_allowed_origins=tuple(allowed_origins),
        # engine.io refuses a larger packet (and closes that socket) before
        # anything parses it; python-engineio's default is a megabyte.
        max_http_buffer_size=max_packet_bytes,
    )


def client_address(environ: Mapping[str, Any], proxies: TrustedProxies) -> str:
    """The address of the client behind a socket, for the per-address budgets.

    python-engineio's Sanic driver puts a fixed `REMOTE_ADDR` (127.0.0.1) in the
    environ it builds, so the peer comes from the Sanic request it keeps there;
    behind a trusted proxy, the client is the one its forwarding headers name.
    """
    request = environ.get("sanic.request")
    peer = str(getattr(request, "ip", None) or environ.get("REMOTE_ADDR") or "")
    headers = getattr(request, "headers", None) or {}
    return proxies.client_address(peer, headers)


async def maybe_await(result: Any) -> None:
    """Await `result` if it is awaitable.

    python-socketio made enter_room/leave_room coroutines in 5.x.
    """
    if inspect.isawaitable(result):
        await result
