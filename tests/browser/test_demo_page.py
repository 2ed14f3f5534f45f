"""The real product in a real browser: the demo page served by `bot run`, the widget, the bot."""

from __future__ import annotations

import http.server
import threading
from functools import partial

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import ChatWidget

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_question_typed_in_the_demo_page_gets_the_bots_answer(page: Page, baton_server):
    page.goto(f"{baton_server.url}/webhooks/webchat/demo")
    widget = ChatWidget(page)
    widget.open()
    reply = widget.ask("How do I return an item?")
    expect(reply).to_contain_text("return", ignore_case=True)


def test_the_demo_login_unlocks_account_answers(page: Page, baton_server):
    page.goto(f"{baton_server.url}/webhooks/webchat/demo")
    widget = ChatWidget(page)
    widget.open()
    expect(widget.ask("what's my latest invoice")).to_contain_text("log in")
    page.get_by_role("button", name="Log in as Jane Doe").click()
    expect(page.get_by_text("Logged in as Jane Doe")).to_be_visible()
    widget.open()
    expect(widget.ask("what's my latest invoice")).to_contain_text("Your latest invoice")


def test_the_widget_works_on_a_page_of_another_origin(
    page: Page, baton_server, tmp_path, cross_origin_port
):
    # The company's website: another origin, allowed by BATON_ALLOWED_ORIGINS.
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>Shop</title><h1>Our shop</h1>"
        f'<script src="{baton_server.url}/webhooks/webchat/widget.js" async></script>'
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    website = http.server.ThreadingHTTPServer(("127.0.0.1", cross_origin_port), handler)
    threading.Thread(target=website.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{cross_origin_port}/index.html")
        widget = ChatWidget(page)
        widget.open()
        expect(widget.ask("what are your opening hours?")).to_contain_text("8")
    finally:
        website.shutdown()
        website.server_close()
