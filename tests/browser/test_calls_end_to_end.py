"""A video call and a declined screen share in two browsers against the real product (`bot run`).

A customer on the demo page asks for a person; an agent signs in to the console and accepts;
the agent offers a video call and the customer accepts: each side's RTCPeerConnection
receives video (getStats, Chromium's fake camera); the customer hangs up. Then the agent
asks for the screen, the customer declines, and the chat goes on both ways. The ticket's
history, read through the desk API, holds the call's start and end with its duration and who.
Nothing is relayed by a fake: signalling goes through connectors/webchat.py, connectors/desk.py
and bot/calls, media browser to browser on loopback (host candidates, no STUN/TURN).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import EXPECT_TIMEOUT_MS
from tests.browser.pages import (
    ChatWidget,
    DeskConsole,
    live_pages,
    prepare_call_context,
    wait_for_inbound_video,
)
from tests.e2e.desk_client import TEST_PASSWORD, DeskClient, create_agent
from tests.e2e.test_desk_api import ALL_TEAMS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The bot parses every message with the trained model, on a possibly busy machine.
LIVE_TIMEOUT_MS = 60_000

AGENT_NAME = "Morgan Video"
CUSTOMER_ASKS = "I want to talk to a person"
CUSTOMER_AFTER = "No screen sharing please, but the router light is still red."
AGENT_AFTER = "Understood, let's keep typing. Is it blinking or steady?"
EPOCH_MS = re.compile(r"^\d{12,}(\.\d+)?$")
REFERENCE = re.compile(r"\bCS-[0-9A-Z]{6}\b")


@pytest.fixture
def call_pages(media_browser: Browser) -> Iterator[Tuple[Page, Page]]:
    """The customer's and the agent's pages, each in its own context with the peer-connection
    capture (docs/calls.md 5.2); no script may throw."""
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    try:
        with live_pages(media_browser, LIVE_TIMEOUT_MS, prepare=prepare_call_context) as (
            customer,
            agent,
        ):
            yield customer, agent
    finally:
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def call_rows(history: List[Dict[str, Any]], call_id: str) -> List[Tuple[Any, ...]]:
    """One call's ticket-history rows as (action, actor, to, reason), in order."""
    return [
        (row["action"], row["actor"], row["to"], row["reason"])
        for row in history
        if row["action"].startswith("call_") and row["from"] == call_id
    ]


def test_a_video_call_connects_both_ways_and_its_end_is_on_the_ticket(
    call_pages: Tuple[Page, Page], baton_server
) -> None:
    customer_page, agent_page = call_pages

    # 1. The customer asks for a person; an agent signs in and accepts the conversation.
    customer_page.goto(f"{baton_server.url}/webhooks/webchat/demo")
    widget = ChatWidget(customer_page)
    widget.open()
    expect(widget.ask(CUSTOMER_ASKS)).to_contain_text(REFERENCE)
    reference = REFERENCE.search(widget.from_sender("bot").last.inner_text()).group(0)
    conversation_id = customer_page.evaluate(
        "() => localStorage.getItem('baton.session.' + location.origin)"
    )
    assert conversation_id, "the widget stored no session id"
    expect(widget.call_request).to_be_hidden()  # no agent yet: no call button

    agent = create_agent(baton_server.database_url, name=AGENT_NAME, teams=ALL_TEAMS)
    agent_page.goto(f"{baton_server.url}/desk/")
    console = DeskConsole(agent_page)
    console.sign_in(agent.email, TEST_PASSWORD)
    console.wait_live()
    console.select(conversation_id, reference)
    expect(console.call_video_button).to_be_disabled()  # not with this agent yet
    console.accept()
    expect(widget.from_sender("system").filter(has_text=f"{AGENT_NAME} joined")).to_have_count(1)
    expect(widget.call_request).to_be_visible()  # the server said `available`

    # 2. The agent offers a video call; the customer consents; video flows both ways.
    expect(console.call_video_button).to_be_enabled()
    console.call_video_button.click()
    expect(console.call).to_have_attribute("data-state", "inviting")
    expect(widget.call_prompt).to_be_visible()
    expect(widget.call_prompt).to_have_attribute("data-media", "video")
    expect(widget.call_prompt).to_contain_text(f"{AGENT_NAME} would like to start a video call.")
    widget.call_accept.click()
    expect(widget.call).to_have_attribute("data-accepted-at", EPOCH_MS)
    for page in (agent_page, customer_page):
        reading = wait_for_inbound_video(page, timeout_ms=LIVE_TIMEOUT_MS)
        assert reading["bytes"] > 0 and reading["frames"] > 0, reading
    expect(widget.call).to_have_attribute("data-state", "active")
    expect(console.call).to_have_attribute("data-state", "active")
    call_id = console.call.get_attribute("data-call-id")
    assert call_id and re.fullmatch(r"[0-9a-f]{32}", call_id), call_id
    expect(widget.call).to_have_attribute("data-call-id", call_id)
    expect(console.call).to_have_attribute("data-conversation-id", conversation_id)
    expect(widget.call_remote).to_have_attribute("data-first-frame-at", EPOCH_MS)
    expect(console.call_remote).to_have_attribute("data-first-frame-at", EPOCH_MS)
    expect(widget.from_sender("system").filter(has_text="Video call started")).to_have_count(1)
    expect(console.from_sender("system").filter(has_text="Video call started")).to_have_count(1)

    # 3. The customer hangs up: both sides end and close their peer connections.
    widget.call_hangup.click()
    for area in (widget.call, console.call):
        expect(area).to_have_attribute("data-state", "ended")
        expect(area).to_have_attribute("data-end-reason", "hung_up")
    expect(console.call_notice).to_have_text("The customer ended the call.")
    for page in (agent_page, customer_page):
        page.wait_for_function(
            "() => window.__batonTestPCs.length > 0"
            " && window.__batonTestPCs.every((pc) => pc.connectionState === 'closed')"
        )
    expect(widget.from_sender("system").filter(has_text="Video call ended after")).to_have_count(1)
    expect(console.from_sender("system").filter(has_text="Video call ended after")).to_have_count(1)
    widget.call_close.click()
    console.call_close.click()

    # 4. The agent asks for the screen; the customer declines; the chat goes on both ways.
    expect(console.call_screen_button).to_be_enabled()
    console.call_screen_button.click()
    expect(widget.call_prompt).to_have_attribute("data-media", "screen")
    expect(widget.call_prompt).to_contain_text(f"{AGENT_NAME} asks to see your screen.")
    widget.call_decline.click()
    expect(console.call).to_have_attribute("data-state", "ended")
    expect(console.call).to_have_attribute("data-end-reason", "declined")
    expect(console.call_notice).to_have_text("The customer declined to share their screen.")
    expect(widget.call).to_have_attribute("data-end-reason", "declined")
    screen_id = console.call.get_attribute("data-call-id")
    assert screen_id and screen_id != call_id
    expect(widget.from_sender("system").filter(has_text="Screen sharing declined")).to_have_count(1)
    expect(console.from_sender("system").filter(has_text="Screen sharing declined")).to_have_count(
        1
    )

    widget.send(CUSTOMER_AFTER)
    reply = console.from_sender("customer").filter(has_text=CUSTOMER_AFTER)
    expect(reply).to_have_count(1)
    console.composer.fill(AGENT_AFTER)
    console.composer.press("Enter")
    answer = widget.from_sender("agent").filter(has_text=AGENT_AFTER)
    expect(answer).to_have_count(1)
    expect(answer.get_by_test_id("baton-agent-name")).to_have_text(AGENT_NAME)
    expect(console.call_video_button).to_be_enabled()  # no call left open

    # 5. The ticket's history, through the desk API: who started and ended each call, the
    # video call's duration in whole seconds, the declined share's none.
    desk = DeskClient(baton_server.url)
    assert desk.login(agent.email).status_code == 200
    detail = desk.call("GET", f"/conversations/{conversation_id}")
    assert detail.status_code == 200, detail.text
    history = detail.json()["history"]
    video = call_rows(history, call_id)
    assert [row[:2] for row in video] == [
        ("call_offered", AGENT_NAME),
        ("call_started", AGENT_NAME),
        ("call_ended", "customer"),
    ], video
    assert video[0][2:] == ("video", "webrtc") and video[1][2:] == ("video", "webrtc")
    duration, reason = video[2][2:]
    assert reason == "hung_up" and duration is not None and duration.isdigit(), video
    assert call_rows(history, screen_id) == [
        ("call_offered", AGENT_NAME, "screen", "webrtc"),
        ("call_ended", "customer", None, "declined"),
    ]
    assert detail.json()["call"]["id"] == screen_id  # the latest call, ended just now
    # The console's history panel says the same in words.
    texts = console.call_history
    expect(texts).to_have_count(5)
    expect(texts.nth(0)).to_contain_text(f"Video call offered by {AGENT_NAME}")
    expect(texts.nth(1)).to_contain_text(f"Video call started (started by {AGENT_NAME})")
    expect(texts.nth(2)).to_contain_text(
        re.compile(r"Video call ended by the customer after \d+ (s|min)")
    )
    expect(texts.nth(2)).to_contain_text("(hung up)")
    expect(texts.nth(3)).to_contain_text(f"Screen share asked by {AGENT_NAME}")
    expect(texts.nth(4)).to_contain_text("Screen share declined by the customer")
