"""Body limits and HSTS of the Rasa server's app (connectors/http_guard.py), on a real Sanic server.

An outsider's oversized or endless body is refused from its headers, before a
byte of it is read; the refusal is JSON a person can act on.
"""

from __future__ import annotations

import itertools
from contextlib import asynccontextmanager
from typing import AsyncIterator, List, Tuple

from sanic import Sanic, response
from sanic.request import Request

from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies
from connectors import http_guard
from tests.baton_server import free_port
from tests.security.raw_http import post_head, raw_request

_APP_NAMES = itertools.count()
LIMITS = LimitSettings(
    max_request_bytes=10_000, desk_max_body_bytes=1_000, webchat_max_packet_bytes=2_000
)


@asynccontextmanager
async def guarded_server(
    proxies: TrustedProxies = TrustedProxies(),
) -> AsyncIterator[Tuple[int, List[int]]]:
    """A Sanic app with the guard and two routes that record the body sizes they got."""
    Sanic.test_mode = True
    app = Sanic(f"baton_guard_test_{next(_APP_NAMES)}")
    http_guard.install(app, LIMITS, proxies)
    http_guard.install(app, LIMITS, proxies)  # a second channel registering: no second signal
    bodies: List[int] = []

    @app.post("/desk/api/notes")
    async def desk(request: Request):  # type: ignore[no-untyped-def]
        bodies.append(len(request.body))
        return response.json({"ok": True})

    @app.post("/webhooks/other")
    async def other(request: Request):  # type: ignore[no-untyped-def]
        bodies.append(len(request.body))
        return response.json({"ok": True})

    @app.websocket("/desk/api/live")
    async def live(request: Request, ws) -> None:  # type: ignore[no-untyped-def]
        await ws.send("hello")

    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    try:
        yield port, bodies
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def test_a_declared_body_over_the_desk_limit_is_refused_before_it_is_sent() -> None:
    async with guarded_server() as (port, bodies):
        # A gigabyte announced and nothing sent: the answer comes from the headers alone.
        status, _, answer = await raw_request(
            port, post_head("/desk/api/notes", "Content-Length: 1000000000")
        )
    assert status == 413
    assert "at most 1000" in answer["error"] and answer["code"] == "too_large"
    assert bodies == []


async def test_a_chunked_body_on_the_desk_api_is_refused() -> None:
    async with guarded_server() as (port, bodies):
        status, _, answer = await raw_request(
            port,
            post_head("/desk/api/notes", "Transfer-Encoding: chunked"),
            b"5\r\nhello\r\n0\r\n\r\n",
        )
    assert status == 411
    assert "Content-Length" in answer["error"]
    assert bodies == []


async def test_a_chunked_body_elsewhere_is_cut_at_the_route_limit() -> None:
    chunk = b"x" * 4000
    endless = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    async with guarded_server() as (port, bodies):
        status, _, answer = await raw_request(
            port, post_head("/webhooks/other", "Transfer-Encoding: chunked"), endless
        )
    assert status == 413
    assert "larger than" in answer["error"]
    assert bodies == []


async def test_bodies_within_the_limits_reach_their_routes() -> None:
    async with guarded_server() as (port, bodies):
        desk = await raw_request(
            port, post_head("/desk/api/notes", "Content-Length: 1000"), b"a" * 1000
        )
        other = await raw_request(
            port, post_head("/webhooks/other", "Content-Length: 5000"), b"a" * 5000
        )
    assert (desk[0], other[0]) == (200, 200)
    assert bodies == [1000, 5000]


async def test_hsts_only_when_the_client_came_over_https_through_a_trusted_proxy() -> None:
    forwarded = ("X-Forwarded-Proto: https", "Content-Length: 0")
    async with guarded_server(TrustedProxies.parse("127.0.0.1")) as (port, _):
        _, through_proxy, _ = await raw_request(port, post_head("/webhooks/other", *forwarded))
        _, plain, _ = await raw_request(port, post_head("/webhooks/other", "Content-Length: 0"))
    async with guarded_server() as (port, _):
        _, spoofed, _ = await raw_request(port, post_head("/webhooks/other", *forwarded))
    assert through_proxy.get("strict-transport-security") == http_guard.HSTS
    assert "strict-transport-security" not in plain
    assert "strict-transport-security" not in spoofed


async def test_a_plain_request_to_a_websocket_route_is_told_to_upgrade_not_a_server_error() -> None:
    plain_get = "\r\n".join(["GET /desk/api/live HTTP/1.1", "Host: 127.0.0.1", ""]) + "\r\n"
    async with guarded_server() as (port, _):
        status, _, answer = await raw_request(port, plain_get)
        missing, _, not_found = await raw_request(
            port, post_head("/desk/api/nothing-here", "Content-Length: 0")
        )
        wrong_method, _, not_allowed = await raw_request(
            port, post_head("/desk/api/live", "Content-Length: 0")
        )
    assert (status, answer["code"]) == (426, "upgrade_required")
    assert (missing, not_found["error"]) == (404, "No such address.")
    assert wrong_method == 405 and "not allowed" in not_allowed["error"]
