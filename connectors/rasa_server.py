"""The Rasa server as `bot run` starts it: `rasa run`, with a guard on Rasa's own HTTP API.

Usage::

    python -m connectors.rasa_server --model M [--endpoints E] [--credentials C]
        [--host H] [--port P]

Rasa's HTTP API (/model/parse, /conversations/..., /status, /version) can read and
change any conversation. `rasa run --enable-api --auth-token T` takes the token in
argv (where every user of the host sees it in the process list) and accepts it as
`?token=T`, which lands in access logs and proxies' logs. This launcher

- reads the token from BATON_RASA_API_TOKEN (the environment only) and switches the
  API on only when it is set;
- takes it in `Authorization: Bearer <token>`, compared in constant time, and answers
  400 to a `?token=` query string rather than accept it;
- serves the API to clients on this host only (403 otherwise, also through an
  undeclared proxy on this host), unless BATON_RASA_API_ALLOW_REMOTE=1;
- answers `GET /` without naming Rasa or its version.

The customer channel (/webhooks/...), the agent desk (/desk...), the widget socket
(/socket.io...) and /metrics are Baton's own routes with their own checks: they
pass untouched. Everything else is treated as Rasa's API, so a route Rasa adds in a
later version is guarded too.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Mapping, Sequence, Tuple

from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies
from bot.settings import PROJECT_ROOT, SettingsError, rasa_api_settings

if TYPE_CHECKING:  # Sanic and Rasa are imported when the server starts, not with this module
    from sanic import Sanic

DEFAULT_HOST = "0.0.0.0"  # noqa: S104 -- on purpose: customers and agents reach this server
DEFAULT_PORT = 5005
# Baton's public routes (each with its own access rules); a path is public when it
# is one of these or lies under one of them.
PUBLIC_ROUTES = ("/webhooks", "/desk", "/socket.io", "/metrics")
ROOT_TEXT = "Baton is running."
# The query parameter Rasa's own check reads (rasa.server.requires_auth).
RASA_TOKEN_PARAMETER = "token"  # noqa: S105 -- a query parameter's name, not a token

logger = logging.getLogger(__name__)

# A Sanic server listener: (app, loop) -> None.
Listener = Callable[[Any, Any], Awaitable[None]]


def is_public_path(path: str) -> bool:
    """Whether `path` is one of Baton's own routes rather than Rasa's API.

    A path with `.` or `..` segments, or empty ones (`//`), is never public: it is
    not what a client of those routes sends, and a router that normalised it
    could reach an API route through a public prefix.
    """
    segments = path.split("/")[1:]
    if (
        not segments
        or any(segment in ("", ".", "..") for segment in segments[:-1])
        or segments[-1] in (".", "..")
    ):
        return False
    return any(path == route or path.startswith(route + "/") for route in PUBLIC_ROUTES)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def install_api_guard(
    app: Sanic,
    *,
    token: str | None,
    rasa_token: str | None,
    allow_remote: bool,
    proxies: TrustedProxies,
) -> None:
    """Guard Rasa's API routes of `app` (see the module's docstring).

    Args:
        app: Rasa's Sanic application, before it starts.
        token: BATON_RASA_API_TOKEN (None: the API is off; its routes do not exist).
        rasa_token: the token Rasa itself was configured with. It never leaves this
            process: a request whose Bearer token matches `token` carries it into
            Rasa's own check, so Rasa sees no token any client could have sent.
        allow_remote: serve the API to clients on other hosts too.
        proxies: whose forwarding headers are believed when telling a local client.
    """
    from sanic import response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    async def guard_rasa_api(request: Request) -> HTTPResponse | None:
        if request.path == "/" and request.method in ("GET", "HEAD"):
            return response.text(ROOT_TEXT)
        if is_public_path(request.path):
            return None
        if not allow_remote and not proxies.is_local_client(request.ip, request.headers):
            return response.json(
                {"error": "Rasa's HTTP API answers clients on this host only", "status": 403},
                status=403,
            )
        if RASA_TOKEN_PARAMETER in request.get_args(keep_blank_values=True):
            # Refused even when right: a token in a URL is kept by access logs,
            # proxies and shell histories. The client must move it to a header.
            return response.json(
                {
                    "error": "send the API token as Authorization: Bearer <token>, not in the URL",
                    "status": 400,
                },
                status=400,
            )
        provided = bearer_token(request.headers.get("authorization"))
        if (
            token
            and rasa_token
            and provided
            and hmac.compare_digest(provided.encode(), token.encode())
        ):
            # Rasa checks request.args["token"]: hand it the token it knows.
            request.args[RASA_TOKEN_PARAMETER] = [rasa_token]
        return None

    app.register_middleware(guard_rasa_api, "request")


def serve(
    model: Path,
    endpoints_file: Path,
    credentials_file: Path,
    host: str,
    port: int,
    env: Mapping[str, str],
) -> None:
    """Run the Rasa server until it is stopped, as `rasa run` would, with the API guard
    and the process-wide tweaks (connectors/runtime.py), whatever channels it serves.

    Raises:
        SettingsError: BATON_RASA_API_TOKEN, BATON_RASA_API_ALLOW_REMOTE or a
            BATON_LIMIT_* variable is malformed.
    """
    token, allow_remote = rasa_api_settings(env)
    proxies = TrustedProxies.from_env(env)
    limits = LimitSettings.from_env(env)

    from rasa.core import run as rasa_run
    from rasa.core.utils import AvailableEndpoints

    from bot.network_loading import build_networks_eagerly

    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    # A fresh random token per process for Rasa's own check (see install_api_guard).
    rasa_token = secrets.token_urlsafe(32) if token else None
    listeners = server_listeners(
        token=token,
        rasa_token=rasa_token,
        allow_remote=allow_remote,
        proxies=proxies,
        limits=limits,
    )
    logger.info(
        "Starting the Rasa server on http://%s:%d (HTTP API %s)",
        host,
        port,
        "off" if token is None else ("on, any host" if allow_remote else "on, this host only"),
    )
    # Rasa's own start-up, with the guard installed before the first request and the
    # runtime tweaks once the model is loaded; the model loads in a third of the time.
    build_networks_eagerly()
    rasa_run.serve_application(
        str(model),
        interface=host,
        port=port,
        credentials=str(credentials_file),
        auth_token=rasa_token,
        enable_api=token is not None,
        endpoints=endpoints,
        server_listeners=listeners,
    )


def server_listeners(
    *,
    token: str | None,
    rasa_token: str | None,
    allow_remote: bool,
    proxies: TrustedProxies,
    limits: LimitSettings,
) -> List[Tuple[Listener, str]]:
    """The listeners `serve` adds to Rasa's app, whatever channels credentials.yml names.

    The API guard (`install_api_guard`, same arguments) before the server starts, and
    the process-wide tweaks (connectors/runtime.py) after it started, when Rasa has
    loaded the model (in its own `before_server_start` listener).
    """
    from connectors import runtime

    async def guard(app: Sanic, _loop: object) -> None:
        install_api_guard(
            app, token=token, rasa_token=rasa_token, allow_remote=allow_remote, proxies=proxies
        )

    return [
        (guard, "before_server_start"),
        (runtime.after_start_listener(limits), runtime.AFTER_SERVER_START),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Start the Rasa server; returns the exit code (2: a setting is missing or wrong)."""
    parser = argparse.ArgumentParser(
        prog="python -m connectors.rasa_server", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "baton.tar.gz")
    parser.add_argument("--endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=PROJECT_ROOT / "credentials.yml")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"the interface to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    for path, what in (
        (args.model, "model"),
        (args.endpoints, "endpoints"),
        (args.credentials, "credentials"),
    ):
        if not path.exists():
            print(f"rasa server: no {what} file at {path}", file=sys.stderr)
            return 2
    try:
        rasa_api_settings(os.environ)
        TrustedProxies.from_env(os.environ)
        LimitSettings.from_env(os.environ)
    except SettingsError as problem:
        print(f"rasa server: {problem}", file=sys.stderr)
        return 2

    # Rasa's own start-up, as `rasa run` does it (rasa.__main__.main).
    import rasa.utils.io
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    rasa.utils.io.configure_colored_logging(None)
    configure_structlog(None)
    serve(args.model, args.endpoints, args.credentials, args.host, args.port, os.environ)
    return 0


if __name__ == "__main__":
    sys.exit(main())
