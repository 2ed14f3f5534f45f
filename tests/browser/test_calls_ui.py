"""Calls (docs/calls.md) in two real Chromium pages, the agent's console and the customer's
widget, against the fake desk and the fake webchat server joined by tests.browser.fake_calls,
which relays the signals; the media is real WebRTC on loopback, from Chromium's fake devices.
"""

import re
import secrets
from dataclasses import dataclass
from typing import Iterator, List

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.fake_calls import CallFakes
from tests.browser.fake_desk_server import conversation
from tests.browser.fake_webchat_server import PREFIX
from tests.browser.pages import (
    ChatWidget,
    DeskConsole,
    prepare_call_context,
    wait_for_inbound_video,
)

pytestmark = pytest.mark.browser

CONVERSATION = "c-call"
REFERENCE = "BW-2001"
EMAIL = "sam@example.com"
EPOCH_MS = re.compile(r"^\d{12,}(\.\d+)?$")


@dataclass
class Call:
    """One test's fakes, the agent's console and the customer's widget."""

    fakes: CallFakes
    console: DeskConsole
    widget: ChatWidget
    contexts: List[BrowserContext]

    def customer_signals(self, kind: str) -> List[dict]:
        return [
            s
            for side, s in self.fakes.calls.signals
            if side == "customer" and s.get("type") == kind
        ]


def _with_agent() -> dict:
    conv = conversation(CONVERSATION, reference=REFERENCE, customer_name="Jane Doe")
    conv["state"] = "with_agent"
    conv["ticket"].update(status="assigned", assigned_agent={"id": 7, "name": "Sam Agent"})
    return conv


def _page(browser: Browser, contexts: List[BrowserContext], errors: List[str], block: bool) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    prepare_call_context(context, block_camera=block)
    contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


def _start(
    browser: Browser,
    provider: str = "webrtc",
    block_customer: bool = False,
    block_agent: bool = False,
) -> Iterator[Call]:
    password = secrets.token_urlsafe(16)
    fakes = CallFakes(password, provider=provider)
    fakes.desk.add(_with_agent())
    fakes.link(CONVERSATION)
    contexts: List[BrowserContext] = []
    errors: List[str] = []
    try:
        agent_page = _page(browser, contexts, errors, block_agent)
        console = DeskConsole(agent_page)
        agent_page.goto(fakes.desk.console_url)
        console.sign_in(EMAIL, password)
        console.wait_live()
        console.select(CONVERSATION, REFERENCE)
        expect(console.composer).to_be_enabled()

        customer_page = _page(browser, contexts, errors, block_customer)
        widget = ChatWidget(customer_page)
        customer_page.goto(f"{fakes.web.state.url}{PREFIX}/demo")
        widget.open()
        yield Call(fakes, console, widget, contexts)
    finally:
        for context in contexts:
            context.close()
        fakes.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def call(media_browser: Browser) -> Iterator[Call]:
    yield from _start(media_browser)


@pytest.fixture
def blocked_customer(media_browser: Browser) -> Iterator[Call]:
    yield from _start(media_browser, block_customer=True)


@pytest.fixture
def blocked_agent(media_browser: Browser) -> Iterator[Call]:
    yield from _start(media_browser, block_agent=True)


@pytest.fixture
def jitsi(media_browser: Browser) -> Iterator[Call]:
    yield from _start(media_browser, provider="jitsi")


def start_video_call(c: Call) -> None:
    """The agent offers a video call and the customer accepts; both reach active."""
    expect(c.console.call_video_button).to_be_enabled()
    c.console.call_video_button.click()
    expect(c.widget.call_prompt).to_be_visible()
    expect(c.widget.call_prompt).to_have_attribute("data-media", "video")
    expect(c.widget.call_prompt).to_have_attribute("role", "alertdialog")
    expect(c.widget.call_accept).to_be_focused()
    expect(c.console.call).to_have_attribute("data-state", "inviting")
    c.widget.call_accept.click()
    expect(c.widget.call).to_have_attribute("data-state", "active")
    expect(c.console.call).to_have_attribute("data-state", "active")


def test_a_video_call_carries_video_both_ways_and_the_agent_hangs_up(call: Call) -> None:
    start_video_call(call)

    for page in (call.console.page, call.widget.page):
        reading = wait_for_inbound_video(page)
        assert reading["bytes"] > 0 and reading["frames"] > 0
    expect(call.widget.call_remote).to_have_attribute("data-first-frame-at", EPOCH_MS)
    expect(call.console.call_remote).to_have_attribute("data-first-frame-at", EPOCH_MS)
    expect(call.widget.call).to_have_attribute("data-accepted-at", EPOCH_MS)
    expect(call.widget.call_local).to_be_visible()
    expect(call.console.call_local).to_be_visible()
    expect(call.widget.call_timer).to_be_visible()
    expect(call.widget.from_sender("system").last).to_have_text("Video call started")
    expect(call.console.from_sender("system").last).to_have_text("Video call started")

    call.console.call_hangup.click()

    for area in (call.widget.call, call.console.call):
        expect(area).to_have_attribute("data-state", "ended")
        expect(area).to_have_attribute("data-end-reason", "hung_up")
    expect(call.widget.call_notice).to_have_text("Sam Agent ended the call.")
    expect(call.widget.from_sender("system").last).to_contain_text("Video call ended after")
    expect(call.console.call_history.last).to_contain_text("Video call ended by Sam Agent after")
    # Both sides closed their peer connections.
    for page in (call.console.page, call.widget.page):
        page.wait_for_function(
            "() => window.__batonTestPCs.every((pc) => pc.connectionState === 'closed')"
        )
    call.widget.call_close.click()
    expect(call.widget.call).to_be_hidden()
    expect(call.widget.call_request).to_be_hidden()  # the server never said `available`


def test_the_customer_hangs_up_and_both_sides_end(call: Call) -> None:
    start_video_call(call)
    wait_for_inbound_video(call.console.page)

    call.widget.call_hangup.click()

    for area in (call.widget.call, call.console.call):
        expect(area).to_have_attribute("data-state", "ended")
        expect(area).to_have_attribute("data-end-reason", "hung_up")
    expect(call.console.call_notice).to_have_text("The customer ended the call.")
    assert call.fakes.snapshot()[-1].ended_by == "customer"


def test_the_customer_declines_a_screen_share_and_the_chat_continues(call: Call) -> None:
    call.console.call_screen_button.click()
    expect(call.widget.call_prompt).to_have_attribute("data-media", "screen")
    expect(call.widget.call_prompt).to_contain_text("Sam Agent asks to see your screen.")
    expect(call.widget.call_accept).to_have_text("Share my screen")

    call.widget.call_decline.click()

    expect(call.console.call).to_have_attribute("data-state", "ended")
    expect(call.console.call).to_have_attribute("data-end-reason", "declined")
    expect(call.console.call_notice).to_have_text("The customer declined to share their screen.")
    expect(call.widget.call).to_have_attribute("data-end-reason", "declined")
    assert call.customer_signals("decline")[-1]["reason"] == "declined"
    # The chat goes on, both ways.
    expect(call.widget.ask("my bill is still wrong").locator(".bubble")).to_have_text(
        "You said: my bill is still wrong"
    )
    call.console.composer.fill("No problem, let's keep typing.")
    call.console.send_button.click()
    expect(call.console.from_sender("agent").last).to_have_text(re.compile("keep typing"))
    expect(call.console.call_video_button).to_be_enabled()


def test_a_screen_share_shows_the_customers_screen_to_the_agent(call: Call) -> None:
    call.console.call_screen_button.click()
    call.widget.call_accept.click()

    expect(call.console.call).to_have_attribute("data-state", "active")
    expect(call.widget.call).to_have_attribute("data-state", "active")
    wait_for_inbound_video(call.console.page)
    expect(call.widget.call_hangup).to_have_text("Stop sharing")
    expect(call.widget.call_local).to_be_hidden()  # no self-view of a screen
    expect(call.widget.call_remote).to_be_hidden()  # the agent sends nothing

    call.widget.call_hangup.click()
    expect(call.console.call).to_have_attribute("data-end-reason", "hung_up")


def test_a_blocked_camera_is_explained_and_the_chat_continues(blocked_customer: Call) -> None:
    c = blocked_customer
    c.console.call_video_button.click()
    c.widget.call_accept.click()

    expect(c.widget.call_notice).to_have_attribute("data-reason", "permission_denied")
    expect(c.widget.call_notice).to_have_attribute("role", "alert")
    expect(c.widget.call_notice).to_contain_text("Your browser blocked the camera or microphone")
    expect(c.widget.call_notice).to_contain_text("The chat continues here.")
    expect(c.console.call).to_have_attribute("data-state", "ended")
    expect(c.console.call).to_have_attribute("data-end-reason", "permission_denied")
    expect(c.console.call_notice).to_have_text(
        "The customer's browser blocked the camera or microphone."
    )
    assert c.customer_signals("decline")[-1]["reason"] == "permission_denied"
    assert not c.customer_signals("accept")  # no half-started call
    expect(c.widget.ask("can we just chat?").locator(".bubble")).to_have_text(
        "You said: can we just chat?"
    )


def test_the_agents_blocked_camera_sends_nothing(blocked_agent: Call) -> None:
    c = blocked_agent
    c.console.call_video_button.click()

    expect(c.console.call_notice).to_have_attribute("data-reason", "permission_denied")
    expect(c.console.call_notice).to_contain_text("Your browser blocked the camera or microphone")
    assert c.fakes.desk.requests("POST", f"/conversations/{CONVERSATION}/calls") == []
    expect(c.widget.call).to_be_hidden()


def test_the_customer_asks_for_a_call_and_the_agent_accepts(call: Call) -> None:
    expect(call.widget.call_request).to_be_hidden()
    call.fakes.available()
    expect(call.widget.call_request).to_be_visible()

    call.widget.call_request.click()

    expect(call.widget.call).to_have_attribute("data-state", "requested")
    expect(call.widget.call_hangup).to_have_text("Cancel")
    expect(call.console.call).to_have_attribute("data-state", "requested")
    expect(call.console.call).to_contain_text("Jane Doe asks for a video call.")
    call.console.call_accept.click()
    expect(call.console.call).to_have_attribute("data-state", "active")
    expect(call.widget.call).to_have_attribute("data-state", "active")
    wait_for_inbound_video(call.widget.page)
    expect(call.widget.call_request).to_be_hidden()  # one call at a time

    call.widget.call_hangup.click()
    expect(call.console.call).to_have_attribute("data-end-reason", "hung_up")
    call.widget.call_close.click()
    expect(call.widget.call_request).to_be_visible()


def test_the_agent_cancels_an_unanswered_offer(call: Call) -> None:
    call.console.call_video_button.click()
    expect(call.widget.call_prompt).to_be_visible()
    expect(call.console.call_hangup).to_have_text("Cancel")

    call.console.call_hangup.click()

    expect(call.widget.call).to_have_attribute("data-end-reason", "cancelled")
    expect(call.widget.call_prompt).to_be_hidden()
    expect(call.widget.call_notice).to_have_text("Sam Agent cancelled the video call.")


def test_closing_the_customers_page_ends_the_call_for_the_agent(call: Call) -> None:
    start_video_call(call)
    call.widget.page.close()

    expect(call.console.call).to_have_attribute("data-state", "ended")
    expect(call.console.call).to_have_attribute("data-end-reason", "customer_disconnected")
    expect(call.console.call_notice).to_have_text("The customer's connection was lost.")


def test_a_dropped_console_socket_ends_the_call_on_both_sides(call: Call) -> None:
    start_video_call(call)
    call.fakes.desk.drop_sockets()

    expect(call.console.call).to_have_attribute("data-end-reason", "agent_disconnected")
    expect(call.console.call_notice).to_have_text("Call ended: connection lost.")
    expect(call.widget.call).to_have_attribute("data-state", "ended")
    expect(call.widget.call_notice).to_have_text("Call ended: connection lost.")
    # After the console reconnects (a new `hello`), it hangs up the call it lost.
    call.console.wait_live()
    call_id = call.fakes.snapshot()[-1].id
    path = f"/conversations/{CONVERSATION}/calls/{call_id}/hangup"
    call.console.page.wait_for_function("() => document.body.dataset.live === 'connected'")
    expect(call.console.call_video_button).to_be_enabled()
    hangups = call.fakes.desk.requests("POST", path)
    assert [r.body for r in hangups] == [{"reason": "agent_disconnected"}]


def test_a_dropped_widget_socket_ends_the_call_on_both_sides(call: Call) -> None:
    start_video_call(call)
    call.fakes.web.state.disconnect_all()

    expect(call.widget.call).to_have_attribute("data-end-reason", "customer_disconnected")
    expect(call.widget.call_notice).to_have_text("Call ended: connection lost.")
    expect(call.console.call).to_have_attribute("data-end-reason", "customer_disconnected")


def test_a_jitsi_call_shows_each_side_its_link(jitsi: Call) -> None:
    jitsi.console.call_video_button.click()
    jitsi.widget.call_accept.click()

    for side in (jitsi.widget, jitsi.console):
        expect(side.call).to_have_attribute("data-state", "active")
        expect(side.call).to_have_attribute("data-provider", "jitsi")
        expect(side.call_join).to_have_attribute(
            "href", re.compile(r"^https://meet\.example\.com/baton-[0-9a-f]{32}#")
        )
        expect(side.call_join).to_have_attribute("target", "_blank")
        expect(side.call_join).to_have_attribute("rel", "noopener noreferrer")
    expect(jitsi.widget.call_remote).to_be_hidden()
    jitsi.widget.call_hangup.click()
    expect(jitsi.console.call).to_have_attribute("data-end-reason", "hung_up")
