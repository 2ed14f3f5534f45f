"""The action server as `bot run` starts it: Rasa SDK's, answering only the Rasa server.

`python -m actions.server [--host H] [--port P]`. Rasa SDK's own server (`rasa run
actions`) binds every interface and runs any action for anyone who POSTs a
tracker to /webhook: with a forged tracker, a stranger could open tickets, read
account answers meant for a verified customer or replay handoffs. This one

- binds 127.0.0.1 unless told otherwise (`--host`, BATON_ACTION_SERVER_HOST),
  since the Rasa server beside it is its only client;
- requires `Authorization: Bearer <BATON_ACTION_SERVER_TOKEN>` on every route but
  /health (the Rasa server sends it: endpoints.yml), checked in constant time,
  and answers 401 with a JSON error otherwise;
- refuses to start without that token (at least 32 characters), from the
  environment or var/secrets.env (`bot run` generates it there on a laptop).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from bot.secrets_file import ACTION_SERVER_TOKEN, read_local_secrets
from bot.settings import ACTION_SERVER_HOST_ENV, PROJECT_ROOT, SettingsError, action_server_host

if TYPE_CHECKING:  # Sanic is imported when the server starts, not with this module
    from sanic import Sanic

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
# As long as the generated one can be guessed in no useful time (and as BATON_JWT_SECRET).
MIN_TOKEN_LENGTH = 32
# What a load balancer or `bot run` may ask without the token: it reveals nothing.
OPEN_PATHS = frozenset({"/health"})
SECRETS_FILE = PROJECT_ROOT / "var" / "secrets.env"
UNAUTHORIZED_MESSAGE = (
    "the action server answers only the Rasa server: send Authorization: Bearer <token>"
)

logger = logging.getLogger(__name__)


def action_server_token(env: Mapping[str, str], secrets_file: Path = SECRETS_FILE) -> str:
    """The shared secret the Rasa server must send: from the environment, else the secrets file.

    Raises:
        SettingsError: it is missing or too short (the message says how to set it).
    """
    token = (
        env.get(ACTION_SERVER_TOKEN)
        or read_local_secrets(secrets_file).get(ACTION_SERVER_TOKEN)
        or ""
    ).strip()
    if not token:
        raise SettingsError(
            f"{ACTION_SERVER_TOKEN} is not set: the action server runs actions only for the Rasa "
            f"server that sends it. Set it in the environment of both (at least {MIN_TOKEN_LENGTH} "
            "random characters, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`), "
            f"or start everything with `bot run`, which generates it into {secrets_file}"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(
            f"{ACTION_SERVER_TOKEN} is {len(token)} characters; use at least {MIN_TOKEN_LENGTH} "
            "random characters"
        )
    return token


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header is exactly `Bearer <token>` (compared in constant time)."""
    scheme, _, provided = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not provided:
        return False
    return hmac.compare_digest(provided.strip().encode("utf-8"), token.encode("utf-8"))


def create_action_app(token: str, actions_package: str = "actions") -> Sanic:
    """Rasa SDK's action server application, with the token required on every route but /health.

    Args:
        token: the shared secret of BATON_ACTION_SERVER_TOKEN.
        actions_package: where the actions are registered from.
    """
    from rasa_sdk.endpoint import create_app
    from sanic import response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    # No CORS origins: a browser page has no business calling the action server.
    app = create_app(actions_package, cors_origins="")

    async def require_rasa_server(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if bearer_token_matches(request.headers.get("authorization"), token):
            return None
        logger.warning("action_server.refused path=%s", request.path[:100])
        return response.json(
            {"error": UNAUTHORIZED_MESSAGE}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    # Request middleware runs before any route handler (and before the webhook parses a body).
    app.register_middleware(require_rasa_server, "request")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Start the action server; returns the exit code (2: a setting is missing or wrong)."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--host",
        default=None,
        help=(
            f"the interface to bind (default ${ACTION_SERVER_HOST_ENV}, else {DEFAULT_HOST}: the "
            "Rasa server's host only)"
        ),
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--actions", default="actions", help="the package the actions are registered from"
    )
    args = parser.parse_args(argv)
    try:
        token = action_server_token(os.environ)
    except SettingsError as problem:
        print(f"action server: {problem}", file=sys.stderr)
        return 2
    host = args.host or action_server_host(os.environ) or DEFAULT_HOST

    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    utils.configure_colored_logging(None)
    utils.update_sanic_log_level()
    app = create_action_app(token, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("Action server answering the Rasa server on http://%s:%d", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
