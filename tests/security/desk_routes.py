"""The desk's routes two ways: as its real blueprint registers them, and as its OpenAPI
document describes them, both as `(METHOD, /full/path/{param})`.

The blueprint is built by `DeskInput` exactly as Rasa builds it and registered on a
Sanic app that is never started: routes are registered at once, and nothing (no
database, no model) is opened until `before_server_start`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, FrozenSet, Tuple

from sanic import Sanic

from connectors.desk import DeskInput

Route = Tuple[str, str]

# Sanic's `<name:type>` (or `<name>`) in a route, OpenAPI's `{name}` in a path.
_SANIC_PARAMETER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>")


async def _ignore_message(_: Any) -> None:
    """The desk's blueprint never sends customer messages on; nothing to do."""


def _normalized(path: str) -> str:
    """`/desk/api/x/` and `desk/api/x` alike as `/desk/api/x`; the root stays `/`."""
    return "/" + path.strip("/")


def registered_routes() -> FrozenSet[Route]:
    """Every (method, path) the real desk blueprint registers, the WebSocket included."""
    channel = DeskInput.from_credentials({})
    app = Sanic(f"desk_routes_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(_ignore_message))
    return frozenset(
        (method.upper(), _normalized(_SANIC_PARAMETER.sub(r"{\1}", route.path)))
        for route in app.router.routes
        for method in route.methods
    )


def documented_routes(spec: Dict[str, Any]) -> FrozenSet[Route]:
    """Every (method, path) of an OpenAPI document, each path under its own server's URL."""
    default_server = spec["servers"][0]["url"]
    routes = set()
    for path, item in spec["paths"].items():
        server = item.get("servers", [{"url": default_server}])[0]["url"]
        for method in item:
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                routes.add((method.upper(), _normalized(server.rstrip("/") + path)))
    return frozenset(routes)
