"""The channel's HTTP routes: health, the widget's files and, in demo mode, the demo page."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import identity
from bot.accounts.demo_data import DEMO_CUSTOMERS
from bot.settings import Settings

WEB_ASSETS = Path(__file__).resolve().parents[2] / "bot" / "web"
# Only these files are served, whatever path a request names.
PUBLIC_ASSETS = {
    "widget.js": "application/javascript",
    "widget.css": "text/css",
    "vendor/socket.io.min.js": "application/javascript",
}


def add_widget_routes(blueprint: Blueprint, settings: Settings) -> None:
    """Route `/`, the widget's files, `/demo` and `/demo/token` on the channel's blueprint."""

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @blueprint.route("/<asset:path>", methods=["GET"])
    async def asset(request: Request, asset: str) -> HTTPResponse:
        if not asset:  # "/webhooks/webchat/" also matches the path route
            return await health(request)
        return await serve_asset(asset)

    @blueprint.route("/demo", methods=["GET"])
    async def demo_page(_: Request) -> HTTPResponse:
        if not settings.demo_enabled:
            return json_error(
                404,
                "The demo page is off (start Baton with `bot run --demo`, as `make run` does).",
            )
        return await response.file(WEB_ASSETS / "demo.html", mime_type="text/html; charset=utf-8")

    @blueprint.route("/demo/token", methods=["GET"])
    async def demo_token(request: Request) -> HTTPResponse:
        return demo_token_response(settings, request.args.get("customer", ""))


async def serve_asset(asset: str) -> HTTPResponse:
    """One of `PUBLIC_ASSETS`, never cached without asking; 404 for any other path."""
    mime_type = PUBLIC_ASSETS.get(asset)
    if mime_type is None:
        return json_error(404, f"No such file: {asset}")
    return await response.file(
        WEB_ASSETS / asset,
        mime_type=mime_type,
        headers={"Cache-Control": "no-cache"},
    )


def demo_token_response(settings: Settings, customer_id: str) -> HTTPResponse:
    """A signed token for one of the demo customers, when demo mode is on."""
    # Demo mode stands in for the company's website, which mints the token
    # after its own login. Off by default: it hands out identities.
    if not settings.demo_enabled:
        return json_error(
            404, "Demo mode is off (start Baton with `bot run --demo`, as `make run` does)."
        )
    if not settings.jwt_secret:
        return json_error(503, "BATON_JWT_SECRET is not set, so no token can be signed.")
    names = {customer.customer_id: customer.name for customer in DEMO_CUSTOMERS}
    if customer_id not in names:
        return json_error(
            404,
            f"Unknown demo customer {customer_id!r}; try one of: {', '.join(sorted(names))}",
        )
    token = identity.mint_token(customer_id, settings.jwt_secret, name=names[customer_id])
    return response.json(
        {"token": token, "customer": {"id": customer_id, "name": names[customer_id]}}
    )


def json_error(status: int, message: str) -> HTTPResponse:
    """An HTTP error as the widget's routes answer it: `{"error": message}`."""
    return response.json({"error": message}, status=status)
