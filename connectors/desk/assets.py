"""The console's page and files, and the API's OpenAPI document, served by the desk.

- /desk/ : the console page (bot/web/console.html) with its Content-Security-Policy;
- /desk/assets/<file> : the console's style;
- /desk/assets/console/<module>.js : the console's ES modules (bot/web/console/*.js);
- /desk/assets/vendor/<file> : the browser libraries it loads (the Dashboard's charts);
- /desk/api/openapi.json : the API's description (bot.desk.openapi).
"""

from __future__ import annotations

import re
from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.openapi import openapi_spec
from connectors.desk.errors import error_response

WEB_ASSETS = Path(__file__).resolve().parents[2] / "bot" / "web"
CONSOLE_ASSETS = {"console.css": "text/css"}
# The console's ES modules (bot/web/console/*.js), loaded by <script type="module">.
CONSOLE_MODULES = WEB_ASSETS / "console"
CONSOLE_MODULE_NAME = re.compile(r"[a-z][a-z0-9_-]*\.js")
# Browser libraries of bot/web/vendor the console loads (the Dashboard's charts).
CONSOLE_VENDOR_ASSETS = {"chart.umd.min.js": "application/javascript"}
# The console's page may load only its own scripts and talk only to its own origin.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NO_CACHE = {"Cache-Control": "no-cache"}


def add_asset_routes(desk: Blueprint) -> None:
    """Add the page, file and OpenAPI routes to the desk's blueprint."""

    @desk.route("/", methods=["GET"])
    async def console(_: Request) -> HTTPResponse:
        return await response.file(
            WEB_ASSETS / "console.html",
            mime_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": CONSOLE_CSP, **NO_CACHE},
        )

    @desk.route("/assets/<asset:str>", methods=["GET"])
    async def asset(_: Request, asset: str) -> HTTPResponse:
        mime_type = CONSOLE_ASSETS.get(asset)
        if mime_type is None:
            return error_response(404, f"No such file: {asset}")
        return await response.file(WEB_ASSETS / asset, mime_type=mime_type, headers={**NO_CACHE})

    @desk.route("/assets/console/<module:str>", methods=["GET"])
    async def console_module(_: Request, module: str) -> HTTPResponse:
        # A plain name only: never a path out of the directory.
        path = CONSOLE_MODULES / module
        if not CONSOLE_MODULE_NAME.fullmatch(module) or not path.is_file():
            return error_response(404, f"No such file: console/{module}")
        return await response.file(path, mime_type="application/javascript", headers={**NO_CACHE})

    @desk.route("/assets/vendor/<asset:str>", methods=["GET"])
    async def vendor_asset(_: Request, asset: str) -> HTTPResponse:
        mime_type = CONSOLE_VENDOR_ASSETS.get(asset)
        if mime_type is None:
            return error_response(404, f"No such file: vendor/{asset}")
        return await response.file(
            WEB_ASSETS / "vendor" / asset, mime_type=mime_type, headers={**NO_CACHE}
        )

    @desk.route("/api/openapi.json", methods=["GET"])
    async def openapi(_: Request) -> HTTPResponse:
        return response.json(openapi_spec())
