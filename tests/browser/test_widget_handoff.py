"""The widget's side of a hand-off to a person (docs/desk.md, "The customer's side"),
in a real Chromium against the fake webchat server, which sends the desk's events.
"""

import re
import time
from typing import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.fake_webchat_server import PREFIX, FakeServers
from tests.browser.pages import ChatWidget

pytestmark = pytest.mark.browser

SAM = {"agent": {"name": "Sam"}}


@pytest.fixture
def fake(context: BrowserContext) -> Iterator[FakeServers]:
    servers = FakeServers()
    yield servers
    context.close()
    servers.close()


@pytest.fixture
def widget(page: Page, fake: FakeServers) -> ChatWidget:
    page.goto(f"{fake.state.url}{PREFIX}/demo")
    chat = ChatWidget(page)
    chat.open()
    return chat


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (
            {"state": "queued", "position": 2, "wait_minutes": 4, "team_name": "Billing"},
            "Waiting for an agent — you're number 2, about 4 min",
        ),
        (
            {"state": "queued", "position": 1, "wait_minutes": None, "team_name": "Billing"},
            "Waiting for an agent — you're number 1",
        ),
    ],
)
def test_queued_shows_the_place_in_the_queue(
    widget: ChatWidget, fake: FakeServers, status: dict, shown: str
) -> None:
    fake.state.emit("baton_status", status)

    expect(widget.handoff).to_have_text(shown)
    expect(widget.handoff).to_have_attribute("role", "status")


def test_the_queue_line_changes_in_place_and_goes_when_the_agent_joins(
    widget: ChatWidget, fake: FakeServers
) -> None:
    fake.state.emit("baton_status", {"state": "queued", "position": 3, "wait_minutes": 6})
    expect(widget.handoff).to_contain_text("number 3")
    fake.state.emit("baton_status", {"state": "queued", "position": 1, "wait_minutes": 1})
    expect(widget.handoff).to_have_text("Waiting for an agent — you're number 1, about 1 min")
    expect(widget.from_sender("system")).to_have_count(0)

    fake.state.emit("baton_status", {"state": "agent_joined", "agent_name": "Sam"})

    expect(widget.from_sender("system")).to_have_text(["Sam joined the conversation"])
    expect(widget.handoff).to_be_hidden()


def test_agent_messages_carry_the_agents_name(widget: ChatWidget, fake: FakeServers) -> None:
    fake.state.emit("baton_status", {"state": "agent_joined", "agent_name": "Sam"})

    fake.state.emit("bot_uttered", {"text": "Hi, I'm Sam from billing.", "baton": SAM})

    agent = widget.from_sender("agent")
    expect(agent).to_have_count(1)
    expect(agent.get_by_test_id("baton-agent-name")).to_have_text("Sam")
    expect(agent.locator(".bubble")).to_have_text("Hi, I'm Sam from billing.")
    expect(widget.from_sender("bot")).to_have_count(0)


@pytest.mark.parametrize(
    ("status", "line"),
    [
        ({"state": "back_to_bot"}, "You're back with the assistant"),
        ({"state": "resolved"}, "Sam closed the conversation"),  # the agent who joined
        ({"state": "resolved", "agent_name": "Kim"}, "Kim closed the conversation"),
    ],
)
def test_the_end_of_a_hand_off_is_told(
    widget: ChatWidget, fake: FakeServers, status: dict, line: str
) -> None:
    fake.state.emit("baton_status", {"state": "agent_joined", "agent_name": "Sam"})
    expect(widget.from_sender("system")).to_have_count(1)

    fake.state.emit("baton_status", status)

    expect(widget.from_sender("system")).to_have_text(["Sam joined the conversation", line])


def test_the_agents_typing_is_shown_until_they_stop_or_write(
    widget: ChatWidget, fake: FakeServers
) -> None:
    fake.state.emit("baton_typing", {"typing": True, "agent_name": "Sam"})
    expect(widget.typing).to_be_visible()
    expect(widget.typing_label).to_have_text("Sam is typing…")
    expect(widget.typing).to_have_attribute("aria-label", "Sam is typing")

    fake.state.emit("baton_typing", {"typing": False, "agent_name": "Sam"})
    expect(widget.typing).to_be_hidden()

    fake.state.emit("baton_typing", {"typing": True, "agent_name": "Sam"})
    expect(widget.typing).to_be_visible()
    fake.state.emit("bot_uttered", {"text": "Found it.", "baton": SAM})
    expect(widget.from_sender("agent")).to_have_count(1)
    expect(widget.typing).to_be_hidden()


def test_the_customers_typing_is_sent_and_ends_when_idle_or_on_send(
    widget: ChatWidget, fake: FakeServers
) -> None:
    state = fake.state
    widget.ask("hello")  # answered: the session is confirmed, so typing is sent from now on
    sent_before = len(state.events("baton_typing"))

    widget.input.press_sequentially("Is anyone")

    first = state.wait_for("baton_typing", lambda d: d == {"typing": True}, start=sent_before)
    state.wait_for("baton_typing", lambda d: d == {"typing": False}, start=first + 1)  # idle

    sent_before = len(state.events("baton_typing"))
    widget.input.press_sequentially(" there?")
    again = state.wait_for("baton_typing", lambda d: d == {"typing": True}, start=sent_before)
    widget.input.press("Enter")
    state.wait_for("baton_typing", lambda d: d == {"typing": False}, start=again + 1)
    state.wait_for("user_uttered", lambda d: d["message"] == "Is anyone there?")

    # On send, "false" goes before the message.
    order = [
        (r.event, r.data.get("typing"))
        for r in state.received
        if r.event in ("baton_typing", "user_uttered")
    ]
    assert order[-2:] == [("baton_typing", False), ("user_uttered", None)]


def test_history_after_a_reload_labels_the_agents_messages(
    page: Page, widget: ChatWidget, fake: FakeServers
) -> None:
    widget.ask("I want to talk to a person")
    session = page.evaluate("(k) => localStorage.getItem(k)", f"baton.session.{fake.state.url}")
    fake.state.transcripts[session].append(
        {"sender": "bot", "text": "Hello, Sam here.", "timestamp": time.time(), **SAM}
    )

    page.reload()

    widget.wait_online()
    agent = widget.from_sender("agent")
    expect(agent).to_have_count(1)
    expect(agent.get_by_test_id("baton-agent-name")).to_have_text("Sam")
    expect(agent.locator(".bubble")).to_have_text("Hello, Sam here.")
    expect(widget.from_sender("bot")).to_have_text([re.compile("You said: I want to talk")])


def test_names_and_texts_from_the_desk_are_shown_as_text(
    page: Page, widget: ChatWidget, fake: FakeServers
) -> None:
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    name = '<img src=x onerror="window.__pwned = 1">'

    fake.state.emit("baton_status", {"state": "agent_joined", "agent_name": name})
    fake.state.emit("baton_typing", {"typing": True, "agent_name": name})
    fake.state.emit("bot_uttered", {"text": "<b>hi</b>", "baton": {"agent": {"name": name}}})

    expect(widget.from_sender("system")).to_have_text([f"{name} joined the conversation"])
    expect(widget.from_sender("agent").get_by_test_id("baton-agent-name")).to_have_text(name)
    expect(widget.from_sender("agent").locator(".bubble")).to_have_text("<b>hi</b>")
    expect(widget.panel.locator("img, b")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
