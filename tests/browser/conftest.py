"""Shared Playwright fixtures for browser tests: Debian's Chromium, one page per test.

Browser downloads don't work on our machines, so Playwright drives the system
Chromium (`apt-get install chromium`). The lead's real-server tests reuse
`browser`, `page` and tests/browser/pages.py; `fake_server` is for widget tests only.
"""

import os
import shutil
from typing import TYPE_CHECKING, Iterator, List

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("BATON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# docs/calls.md 5.2: a test pattern and a tone for camera and microphone, a fake screen for
# getDisplayMedia, and no permission prompts.
MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# Auto-waiting assertions give up after this; generous for a 2-core CI machine.
EXPECT_TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


# Module scope, not session: while sync Playwright runs, its event loop counts as
# running in this thread, and the asyncio tests after the browser modules need none.
@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("BATON_REQUIRE_BROWSER"):
            pytest.fail(reason)  # CI installs Chromium: a skip there would hide the UI tests
        pytest.skip(reason)
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def media_browser() -> Iterator["Browser"]:
    """Chromium with fake camera, microphone and screen, for the call tests."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("BATON_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + MEDIA_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: "Browser") -> Iterator["BrowserContext"]:
    """A fresh profile per test: no localStorage or sessionStorage carried over."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: "BrowserContext") -> Iterator["Page"]:
    """A page that fails the test if any script on it throws."""
    page = context.new_page()
    errors: List[Exception] = []
    page.on("pageerror", lambda exc: errors.append(exc))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"
