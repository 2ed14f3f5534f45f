"""The chat widget in a real Chromium, against the fake webchat server.

The fake (fake_webchat_server.py) echoes each message as "You said: <text>" with
two quick replies, "Yes please" (/affirm) and "No thanks" (/deny).
"""

import re
from typing import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.fake_webchat_server import (
    DEMO_TOKEN,
    PREFIX,
    SAY_IMAGE,
    SAY_REFUSED,
    FakeServers,
)
from tests.browser.pages import ChatWidget

pytestmark = pytest.mark.browser


@pytest.fixture
def fake(context: BrowserContext) -> Iterator[FakeServers]:
    servers = FakeServers()
    yield servers
    # Pages first: their open websockets would hold the server's shutdown for seconds.
    context.close()
    servers.close()


@pytest.fixture
def widget(page: Page, fake: FakeServers) -> ChatWidget:
    """The demo page, loaded from the fake server, with the widget open and online."""
    page.goto(f"{fake.state.url}{PREFIX}/demo")
    chat = ChatWidget(page)
    chat.open()
    return chat


def test_question_gets_an_answer(widget: ChatWidget) -> None:
    reply = widget.ask("How do I return an item?")

    expect(widget.from_sender("user")).to_have_text(["How do I return an item?"])
    expect(reply).to_contain_text("You said: How do I return an item?")
    expect(widget.typing).to_be_hidden()


@pytest.mark.parametrize(
    "text",
    [
        '<img src=x onerror="window.__pwned = 1">',
        "<script>window.__pwned = 1; alert(1)</script>",
        '<b>bold</b> &amp; <a href="javascript:window.__pwned=1">link</a>',
    ],
)
def test_markup_is_shown_as_text_and_never_run(page: Page, widget: ChatWidget, text: str) -> None:
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))

    reply = widget.ask(text)

    expect(widget.from_sender("user").last).to_have_text(text)
    expect(reply.locator(".bubble")).to_have_text(f"You said: {text}")
    expect(widget.log.locator("img, script, b, a")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None


def test_empty_or_blank_message_is_not_sent(widget: ChatWidget, fake: FakeServers) -> None:
    widget.input.fill("   \n  ")
    widget.input.press("Enter")
    widget.send_button.click()
    widget.input.fill("")
    widget.send_button.click()

    widget.ask("hello")  # a real message, answered: everything before it has arrived too

    assert [m["message"] for m in fake.state.events("user_uttered")] == ["hello"]
    expect(widget.from_sender("user")).to_have_count(1)


def test_quick_reply_sends_payload_and_shows_title(widget: ChatWidget, fake: FakeServers) -> None:
    widget.ask("Can I upgrade my plan?")
    expect(widget.quick_replies).to_have_text(["Yes please", "No thanks"])

    widget.quick_replies.first.click()

    expect(widget.from_sender("bot").last).to_have_text("You chose /affirm")
    expect(widget.from_sender("user").last).to_have_text("Yes please")
    expect(widget.quick_replies).to_have_count(0)
    assert fake.state.events("user_uttered")[-1]["message"] == "/affirm"


def test_reload_keeps_the_conversation(page: Page, widget: ChatWidget, fake: FakeServers) -> None:
    widget.ask("Where is my order?")
    first_confirmed = page.evaluate(
        "(key) => localStorage.getItem(key)", f"baton.session.{fake.state.url}"
    )
    assert first_confirmed and fake.state.events("session_request")[0]["session_id"] is None

    page.reload()

    expect(widget.panel).to_be_visible()  # it was open before the reload
    widget.wait_online()
    expect(widget.messages).to_have_text(
        ["Where is my order?", re.compile("You said: Where is my order?")]
    )
    expect(widget.quick_replies).to_have_count(2)  # the last bot message keeps its buttons
    assert fake.state.events("session_request")[-1]["session_id"] == first_confirmed


def test_server_issued_session_id_replaces_a_stale_one(page: Page, fake: FakeServers) -> None:
    key = f"baton.session.{fake.state.url}"
    page.goto(f"{fake.state.url}{PREFIX}/demo")
    page.evaluate("(key) => localStorage.setItem(key, 'stale-id')", key)
    page.reload()
    widget = ChatWidget(page)

    widget.open()

    assert fake.state.events("session_request")[-1]["session_id"] == "stale-id"
    stored = page.evaluate("(key) => localStorage.getItem(key)", key)
    assert stored in fake.state.transcripts and stored != "stale-id"


def test_keyboard_only(page: Page, fake: FakeServers) -> None:
    page.goto(f"{fake.state.url}{PREFIX}/demo")
    widget = ChatWidget(page)
    widget.launcher.focus()

    page.keyboard.press("Enter")

    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.wait_online()
    page.keyboard.type("I want to talk to a person")
    page.keyboard.press("Enter")
    expect(widget.from_sender("bot")).to_contain_text(["You said: I want to talk to a person"])
    page.keyboard.press("Tab")
    expect(widget.send_button).to_be_focused()

    page.keyboard.press("Escape")

    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")


def test_accessible_names_and_roles(widget: ChatWidget) -> None:
    page = widget.page
    expect(page.get_by_role("dialog", name="Brightwave help")).to_be_visible()
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    expect(page.get_by_role("button", name="Close chat: Brightwave help")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_over_the_limit_is_refused_client_side(widget: ChatWidget, fake: FakeServers) -> None:
    widget.input.fill("x" * 2001)

    expect(widget.counter).to_contain_text("2001 / 2000")
    expect(widget.send_button).to_be_disabled()
    widget.input.press("Enter")
    widget.input.fill("x" * 2000)
    expect(widget.send_button).to_be_enabled()
    widget.input.press("Enter")

    expect(widget.from_sender("bot")).to_have_count(1)
    assert [len(m["message"]) for m in fake.state.events("user_uttered")] == [2000]


def test_server_notice_is_shown_as_system_message(widget: ChatWidget) -> None:
    widget.send(SAY_REFUSED)

    expect(widget.from_sender("system")).to_have_text(re.compile("too long"))
    expect(widget.typing).to_be_hidden()


def test_image_message(widget: ChatWidget, fake: FakeServers) -> None:
    reply = widget.ask(SAY_IMAGE)

    image = reply.locator("img")
    expect(image).to_have_attribute("src", f"{fake.state.url}{PREFIX}/demo/pixel.png")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1


def test_reconnects_with_the_stored_session(
    page: Page, widget: ChatWidget, fake: FakeServers
) -> None:
    widget.ask("hello")
    confirmed = fake.state.events("session_request")
    widget.record_states()

    fake.state.disconnect_all()

    # A function, not an expression: Playwright evals an expression again on every poll,
    # which the page's CSP (no 'unsafe-eval') refuses once the first check was false.
    page.wait_for_function("() => window.__batonStates.includes('reconnecting')")
    widget.wait_online()
    expect(widget.messages).to_have_count(2)
    requests = fake.state.events("session_request")
    assert len(requests) == len(confirmed) + 1
    assert requests[-1]["session_id"] in fake.state.transcripts


def test_embedded_in_a_page_of_another_origin(page: Page, fake: FakeServers) -> None:
    host_page = fake.serve_host_page(allow=True)
    page.goto(host_page)
    widget = ChatWidget(page)

    widget.open()  # the host page's hostile CSS hides its own buttons, not ours
    reply = widget.ask("hello from a partner site")

    expect(reply).to_contain_text("You said: hello from a partner site")
    assert page.evaluate("location.origin") != fake.state.url


def test_origin_not_allowed_by_the_server_cannot_connect(page: Page, fake: FakeServers) -> None:
    page.goto(fake.serve_host_page(allow=False))
    widget = ChatWidget(page)

    widget.launcher.click()

    expect(widget.panel).to_have_attribute("data-state", "reconnecting")
    assert fake.state.events("session_request") == []


def test_demo_login_and_logout(page: Page, widget: ChatWidget, fake: FakeServers) -> None:
    widget.ask("hello")
    guest_session = page.evaluate(
        "(k) => localStorage.getItem(k)", f"baton.session.{fake.state.url}"
    )

    page.get_by_role("button", name="Log in as Jane Doe (demo customer)").click()

    expect(page.get_by_text("Logged in as Jane Doe")).to_be_visible()
    # Sent only once the new session_request is confirmed: after it, the fake has seen both.
    widget.ask("where is my order?")
    expect(widget.messages).to_have_count(4)  # the same conversation goes on
    login = fake.state.events("session_request")[-1]
    assert login == {"session_id": guest_session, "customData": {"token": DEMO_TOKEN}}
    assert fake.state.events("user_uttered")[-1]["customData"] == {"token": DEMO_TOKEN}

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_text("You are chatting as a guest.")).to_be_visible()
    expect(widget.messages).to_have_count(0)
    widget.ask("hello again")
    logout = fake.state.events("session_request")[-1]
    assert logout == {"session_id": None, "customData": {}}
    assert fake.state.events("user_uttered")[-1]["customData"] == {}


def test_web_addresses_become_safe_links(widget: ChatWidget) -> None:
    reply = widget.ask("See https://brightwave.example/help/returns. Thanks")

    link = reply.get_by_role("link")
    expect(link).to_have_attribute("href", "https://brightwave.example/help/returns")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(reply.locator(".bubble")).to_have_text(
        "You said: See https://brightwave.example/help/returns. Thanks"
    )
