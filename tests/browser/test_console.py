"""The agent console in a real Chromium, against the fake desk (fake_desk_server.py).

The fake holds three queued conversations, in the order the desk sorts them:
BW-1003 (P1, first response overdue), BW-1001 (P2, Jane Doe, with markup in her
messages and sentiment labels) and BW-1002 (P3, a guest, offered to this agent).
"""

import datetime as dt
import re
import secrets
from typing import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.fake_desk_server import FakeDesk, conversation, iso, message
from tests.browser.pages import DeskConsole

pytestmark = pytest.mark.browser

EMAIL = "sam@example.com"
MARKUP = "<img src=x onerror=alert(1)>"


@pytest.fixture
def password() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture
def desk(context: BrowserContext, password: str) -> Iterator[FakeDesk]:
    fake = FakeDesk(password=password)
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=12)
    fake.add(
        conversation(
            "c-billing",
            reference="BW-1001",
            customer_name="Jane Doe",
            customer_tier="business",
            priority="P2",
            waiting_minutes=12,
            transcript=[
                message(
                    "customer",
                    "I was charged twice",
                    at=started,
                    sentiment="negative",
                    cues=["repeated_attempt"],
                ),
                message("bot", "Sorry to hear that. What is your order number?", at=started),
                message("customer", MARKUP, at=started, sentiment="neutral"),
            ],
            details={"case_category": "billing", "case_order_number": "<b>ORD-77</b>"},
            reasons=[
                {"type": "functional", "code": "category", "text": "Billing question"},
                {"type": "priority", "code": "tier_bump", "text": "Business customer"},
            ],
        )
    )
    fake.add(
        conversation(
            "c-outage",
            reference="BW-1003",
            customer_name="Ravi Patel",
            priority="P1",
            team="technical",
            category="technical",
            first_response_in_minutes=-3,
        )
    )
    fake.add(
        conversation(
            "c-guest",
            reference="BW-1002",
            customer_name=None,
            verified=False,
            customer_tier=None,
            priority="P3",
            offered_to_me=True,
            transcript=[message("customer", "Can I speak to a person?")],
        )
    )
    yield fake
    # Pages first: their open sockets would hold the server's shutdown.
    context.close()
    fake.close()


@pytest.fixture
def console(page: Page, desk: FakeDesk, password: str) -> DeskConsole:
    """Signed in, the queue shown and the live socket open."""
    page.goto(desk.console_url)
    desk_console = DeskConsole(page)
    desk_console.sign_in(EMAIL, password)
    expect(desk_console.rows).to_have_count(3)
    desk_console.wait_live()
    return desk_console


def in_seconds(seconds: float) -> str:
    return iso(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds))


def sync_live(console: DeskConsole, desk: FakeDesk, conversation_id: str) -> None:
    """Wait until every event pushed so far has been handled: push one more and see it."""
    marker = f"marker {secrets.token_hex(4)}"
    desk.customer_says(conversation_id, marker)
    expect(console.messages.filter(has_text=marker)).to_have_count(1)


# --- Signing in ---------------------------------------------------------------------------


def test_wrong_password_is_refused_and_the_right_one_shows_the_queue(
    page: Page, desk: FakeDesk, password: str
) -> None:
    page.goto(desk.console_url)
    console = DeskConsole(page)

    console.sign_in(EMAIL, "not the password")

    expect(console.signin_error).to_have_text("Wrong email or password.")
    expect(console.rows).to_have_count(0)

    console.password.fill(password)
    console.password.press("Enter")

    expect(console.agent).to_have_text("Sam Agent")
    expect(console.role).to_have_text("agent")
    expect(console.status).to_have_value("online")
    expect(console.rows).to_have_count(3)
    expect(console.signin_form).to_be_hidden()


def test_a_reload_with_the_session_cookie_goes_straight_in(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    page.reload()

    expect(console.rows).to_have_count(3)
    expect(console.signin_form).to_be_hidden()
    assert len(desk.requests("POST", "/login")) == 1
    # The token from GET /me is the one sent from now on.
    console.select("c-billing", "BW-1001")
    console.accept()
    accepted = desk.requests("POST", "/conversations/c-billing/accept")
    assert [r.csrf for r in accepted] == desk.csrf_tokens()


def test_sign_out_forgets_the_session(page: Page, console: DeskConsole) -> None:
    console.sign_out_button.click()

    expect(console.signin_form).to_be_visible()
    expect(console.rows).to_have_count(0)
    page.reload()
    expect(console.signin_form).to_be_visible()


def test_every_change_sends_the_csrf_token(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    with page.expect_response(lambda r: r.url.endswith("/desk/api/me/status")) as answer:
        console.status.select_option("away")
    assert answer.value.status == 200
    console.select("c-billing", "BW-1001")
    console.accept()

    changes = [r for r in desk.requests() if r.method in ("POST", "PUT")]
    assert {r.path for r in changes} >= {"/login", "/me/status", "/conversations/c-billing/accept"}
    assert all(r.csrf == desk.csrf_tokens()[0] for r in changes if r.path != "/login")
    # The fake refuses a change without the header, so the console's changes passed it.
    refused = page.evaluate(
        """() => fetch('/desk/api/me/status', {
            method: 'PUT', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({status: 'offline'}),
        }).then(r => r.status)"""
    )
    assert refused == 403
    expect(console.status).to_have_value("away")


# --- The queue ----------------------------------------------------------------------------


def test_queue_rows_show_priority_sla_and_state_in_the_servers_order(
    console: DeskConsole,
) -> None:
    expect(console.references).to_have_text(["BW-1003", "BW-1001", "BW-1002"])
    expect(console.page.get_by_test_id("desk-priority")).to_have_text(["P1", "P2", "P3"])

    overdue = console.row("c-outage").get_by_test_id("desk-sla")
    expect(overdue).to_have_class(re.compile(r"\boverdue\b"))
    expect(overdue).to_have_text(re.compile(r"^First response overdue by \d+ (s|min)$"))
    in_time = console.row("c-billing").get_by_test_id("desk-sla")
    expect(in_time).to_have_text(re.compile(r"^First response due in \d+ min$"))
    expect(in_time).not_to_have_class(re.compile(r"\boverdue\b"))

    billing = console.row("c-billing")
    expect(billing).to_contain_text("Jane Doe")
    expect(billing).to_contain_text("Billing & Payments")
    expect(billing.get_by_test_id("desk-waiting")).to_have_text(re.compile(r"^waiting 1[23] min$"))
    expect(billing.get_by_test_id("desk-queue-state")).to_have_text("queued")

    guest = console.row("c-guest")
    expect(guest.get_by_test_id("desk-queue-customer")).to_have_text("Guest")
    expect(guest).to_have_attribute("data-offered", "true")
    expect(guest).to_contain_text("Offered to you")


def test_queue_follows_queue_changed_events(console: DeskConsole, desk: FakeDesk) -> None:
    desk.add(conversation("c-new", reference="BW-1004", priority="P4"), notify=True)

    expect(console.references).to_have_text(["BW-1003", "BW-1001", "BW-1002", "BW-1004"])

    desk.assign_elsewhere("c-billing", name="Alex Other")
    desk.push({"type": "queue_changed"})

    expect(console.row("c-billing").get_by_test_id("desk-queue-state")).to_have_text(
        "with agent Alex Other"
    )


def test_queue_is_fetched_again_when_the_live_socket_comes_back(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    page.evaluate(
        """() => {
            window.__liveStates = [];
            new MutationObserver(() => window.__liveStates.push(document.body.dataset.live))
                .observe(document.body, {attributes: true, attributeFilter: ['data-live']});
        }"""
    )
    desk.add(conversation("c-new", reference="BW-1004", priority="P4"))  # nobody is told

    desk.drop_sockets()

    # A function, not an expression: Playwright evals an expression again on every poll,
    # which the console's CSP (no 'unsafe-eval') refuses once the first check was false.
    page.wait_for_function("() => window.__liveStates.includes('reconnecting')")
    console.wait_live()
    expect(console.row("c-new")).to_be_visible()
    expect(console.page.get_by_test_id("desk-live")).to_have_text("Live")


# --- The selected conversation ----------------------------------------------------------


def test_selecting_a_conversation_shows_its_context(console: DeskConsole) -> None:
    console.select("c-billing", "BW-1001")

    field = console.context_field
    expect(field("priority")).to_have_text("P2")
    expect(field("status")).to_have_text("queued · ticket open")
    expect(field("team")).to_have_text("Billing & Payments")
    expect(field("level")).to_have_text("agent · level 0")
    expect(field("customer")).to_have_text(re.compile(r"Jane Doe\s*verified\s*tier: business"))
    expect(field("first-due")).to_have_text(re.compile(r"due in \d+ min$"))
    expect(field("resolution-due")).to_have_text(re.compile(r"due in \d+ h \d+ min$"))
    expect(field("reasons").locator("li")).to_have_text(
        [re.compile("functional.*Billing question"), re.compile("priority.*Business customer")]
    )
    expect(field("details")).to_contain_text("category")
    expect(field("details")).to_contain_text("order number")
    expect(field("history").locator("li")).to_have_text(
        [re.compile(r"opened by bot \(– → open\) \[customer_initiated\]: customer asked")]
    )
    expect(console.sentiment_marks).to_have_count(2)
    expect(console.sentiment_marks.first).to_have_attribute("data-label", "negative")
    expect(console.sentiment_marks.first).to_have_attribute("data-frustrated", "true")
    expect(console.sentiment_marks.first).to_have_attribute(
        "title", "Message 1: negative (-0.60), frustrated: repeated attempt"
    )
    expect(console.sentiment_marks.last).to_have_attribute("data-label", "neutral")
    expect(console.sentiment_marks.last).to_have_attribute("data-frustrated", "false")
    expect(console.notes).to_have_count(0)

    expect(console.messages).to_have_count(3)
    expect(console.from_sender("customer").first).to_contain_text("Jane Doe")
    expect(console.from_sender("bot")).to_contain_text(["Bot"])
    expect(console.composer).to_be_disabled()  # not accepted yet

    console.select("c-guest", "BW-1002")
    # A guest has no tier (the desk answers `tier: null`): no tag, and never "nullnull".
    expect(field("customer")).to_have_text(re.compile(r"^Guest\s*not verified$"))
    expect(field("sentiment")).to_have_text("no sentiment data")
    expect(console.from_sender("customer")).to_have_text(
        [re.compile("Guest.*Can I speak to a person?")]
    )


def test_markup_from_customers_is_shown_as_text_and_never_run(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    console.select("c-billing", "BW-1001")
    desk.customer_says("c-billing", "<script>window.__pwned = 1</script><b>bold</b>")

    expect(console.page.get_by_test_id("desk-message-text").nth(2)).to_have_text(MARKUP)
    expect(console.messages.last).to_contain_text("<script>window.__pwned = 1</script><b>bold</b>")
    expect(console.context_field("details")).to_contain_text("<b>ORD-77</b>")
    expect(page.locator("#app img, #app script, #app b")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None


def test_accept_enables_the_composer_and_a_sent_message_shows_once(
    console: DeskConsole, desk: FakeDesk
) -> None:
    console.select("c-billing", "BW-1001")
    expect(console.accept_button).to_be_enabled()

    console.accept()

    expect(console.context_field("status")).to_have_text("with you · ticket assigned")
    expect(console.accept_button).to_be_disabled()
    expect(console.row("c-billing").get_by_test_id("desk-queue-state")).to_have_text("with you")
    console.composer.fill("Hello Jane, I can help with that.")
    console.composer.press("Enter")

    sent = console.messages.filter(has_text="Hello Jane, I can help with that.")
    expect(sent).to_have_count(1)
    expect(sent.get_by_test_id("desk-message-author")).to_have_text("Sam Agent")
    expect(console.composer).to_have_value("")
    # The server also pushes our message on the live socket: still shown once.
    sync_live(console, desk, "c-billing")
    expect(sent).to_have_count(1)
    agent_messages = [
        m for m in desk.conversation("c-billing")["transcript"] if m["sender"] == "agent"
    ]
    assert [m["text"] for m in agent_messages] == ["Hello Jane, I can help with that."]


def test_shift_enter_is_a_new_line_and_enter_sends(console: DeskConsole, desk: FakeDesk) -> None:
    console.select("c-billing", "BW-1001")
    console.accept()

    console.composer.press_sequentially("line one")
    console.composer.press("Shift+Enter")
    console.composer.press_sequentially("line two")
    console.composer.press("Enter")

    expect(console.from_sender("agent")).to_have_count(1)
    sent = [
        m["text"] for m in desk.conversation("c-billing")["transcript"] if m["sender"] == "agent"
    ]
    assert sent == ["line one\nline two"]


def test_incoming_messages_show_once_even_when_a_refetch_returns_them(
    console: DeskConsole, desk: FakeDesk
) -> None:
    console.select("c-billing", "BW-1001")

    said = desk.customer_says("c-billing", "Are you still there?")

    incoming = console.messages.filter(has_text="Are you still there?")
    expect(incoming).to_have_count(1)
    loads = console.loads()
    desk.push({"type": "conversation_changed", "conversation_id": "c-billing", "state": "queued"})
    console.wait_loads_after(loads)  # the refetched transcript holds the message too
    desk.push({"type": "message", "conversation_id": "c-billing", "message": said})  # and again
    sync_live(console, desk, "c-billing")

    expect(incoming).to_have_count(1)
    expect(console.messages).to_have_count(5)  # three before, this one and the marker


def test_a_message_in_another_conversation_marks_its_row(
    console: DeskConsole, desk: FakeDesk
) -> None:
    console.select("c-billing", "BW-1001")

    desk.customer_says("c-guest", "Hello?")

    expect(console.row("c-guest")).to_contain_text("1 new")
    expect(console.messages.filter(has_text="Hello?")).to_have_count(0)


def test_the_customers_typing_is_shown(console: DeskConsole, desk: FakeDesk) -> None:
    console.select("c-billing", "BW-1001")

    desk.push(
        {"type": "typing", "conversation_id": "c-billing", "sender": "customer", "typing": True}
    )
    expect(console.typing).to_have_text("Jane Doe is typing…")
    desk.push(
        {"type": "typing", "conversation_id": "c-billing", "sender": "customer", "typing": False}
    )
    expect(console.typing).to_be_hidden()

    desk.push(
        {"type": "typing", "conversation_id": "c-billing", "sender": "customer", "typing": True}
    )
    expect(console.typing).to_be_visible()
    desk.customer_says("c-billing", "Here it is: ORD-77")
    expect(console.typing).to_be_hidden()


def test_our_typing_is_sent_and_ends_when_idle_or_on_send(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    console.select("c-billing", "BW-1001")
    console.accept()

    def typing(value: bool):
        return lambda r: (
            r.url.endswith("/desk/api/conversations/c-billing/typing")
            and r.post_data_json == {"typing": value}
        )

    # Both waits start before typing: "false" follows once nothing more is typed for a while.
    with page.expect_request(typing(True)), page.expect_request(typing(False)):
        console.composer.press_sequentially("Let me check")

    with page.expect_request(typing(True)), page.expect_request(typing(False)):
        console.composer.press_sequentially(" that for you")
        console.composer.press("Enter")  # sending ends the typing at once
    expect(console.from_sender("agent")).to_have_text([re.compile("Let me check that for you")])
    sent = desk.requests("POST", "/conversations/c-billing/typing")
    assert [r.body["typing"] for r in sent][-1] is False
    assert all(r.csrf == desk.csrf_tokens()[0] for r in sent)


# --- Actions ----------------------------------------------------------------------------


def test_transfer_to_a_chosen_team(console: DeskConsole, desk: FakeDesk) -> None:
    console.select("c-billing", "BW-1001")
    console.accept()

    console.transfer_button.click()

    expect(console.action_form).to_be_visible()
    expect(console.action_team).to_be_focused()
    expect(console.action_team.locator("option")).to_have_text(
        ["Choose a team", "Technical Support", "Care Managers"]
    )
    console.action_team.select_option(label="Technical Support")
    console.action_reason.fill("needs a router expert")
    console.action_submit.click()

    expect(console.action_form).to_be_hidden()
    expect(console.context_field("team")).to_have_text("Technical Support")
    expect(console.context_field("status")).to_have_text("queued · ticket open")
    expect(console.composer).to_be_disabled()
    expect(console.notice).to_have_text("Transferred.")
    ticket = desk.conversation("c-billing")["ticket"]
    assert ticket["team"] == "technical"
    body = desk.requests("POST", "/conversations/c-billing/transfer")[-1].body
    assert body == {"team": "technical", "reason": "needs a router expert"}


@pytest.mark.parametrize(
    ("button", "submit", "path", "state", "shown"),
    [
        ("escalate_button", "Escalate", "escalate", "queued", "queued · ticket open"),
        ("resolve_button", "Resolve", "resolve", "resolved", "resolved · ticket resolved"),
        (
            "return_button",
            "Return to bot",
            "return-to-bot",
            "bot",
            "back with the bot · ticket closed",
        ),
    ],
)
def test_escalate_resolve_and_return_to_bot(
    console: DeskConsole,
    desk: FakeDesk,
    button: str,
    submit: str,
    path: str,
    state: str,
    shown: str,
) -> None:
    console.select("c-billing", "BW-1001")
    console.accept()

    getattr(console, button).click()
    expect(console.action_submit).to_have_text(submit)
    console.action_reason.fill("as agreed")
    console.action_submit.click()

    expect(console.context_field("status")).to_have_text(shown)
    expect(console.composer).to_be_disabled()
    conv = desk.conversation("c-billing")
    assert conv["state"] == state
    assert conv["history"][-1]["reason"] == "as agreed"
    assert desk.requests("POST", f"/conversations/c-billing/{path}")[-1].body == {
        "reason": "as agreed"
    }
    if state == "queued":
        expect(console.context_field("level")).to_have_text("specialist · level 1")
    else:
        for action in (console.accept_button, console.transfer_button, console.resolve_button):
            expect(action).to_be_disabled()


def test_an_internal_note_is_kept_and_not_sent(
    page: Page, console: DeskConsole, desk: FakeDesk
) -> None:
    console.select("c-guest", "BW-1002")

    console.note_input.fill("Sounds <b>upset</b>; offer a refund")
    console.add_note_button.click()

    expect(console.notes).to_have_count(1)
    expect(console.notes.get_by_test_id("desk-note-text")).to_have_text(
        "Sounds <b>upset</b>; offer a refund"
    )
    expect(console.notes).to_contain_text("Sam Agent")
    expect(console.note_input).to_have_value("")
    expect(page.locator("#app b")).to_have_count(0)
    assert [n["text"] for n in desk.conversation("c-guest")["notes"]] == [
        "Sounds <b>upset</b>; offer a refund"
    ]
    assert desk.requests("POST", "/conversations/c-guest/messages") == []
    expect(console.messages).to_have_count(1)


def test_a_conflict_is_shown_in_the_alert(console: DeskConsole, desk: FakeDesk) -> None:
    console.select("c-billing", "BW-1001")
    desk.assign_elsewhere("c-billing")  # taken a moment ago; this console does not know yet

    console.accept_button.click()

    expect(console.alert).to_be_visible()
    expect(console.page.get_by_role("alert")).to_contain_text("taken by another agent")
    # And the console shows how things stand now.
    expect(console.context_field("status")).to_have_text("with agent Alex Other · ticket assigned")
    expect(console.accept_button).to_be_disabled()
    expect(console.composer).to_be_disabled()


def test_an_offer_is_shown_with_its_countdown_and_can_be_accepted(
    console: DeskConsole, desk: FakeDesk
) -> None:
    desk.push({"type": "offer", "conversation_id": "c-billing", "expires_at": in_seconds(-5)})
    desk.push({"type": "offer", "conversation_id": "c-guest", "expires_at": in_seconds(30)})

    expect(console.offer).to_be_visible()
    expect(console.offer).to_contain_text("New conversation offered")
    expect(console.offer).to_contain_text("Guest · P3 · Billing & Payments · BW-1002")
    expect(console.offer_countdown).to_have_text(re.compile(r"^Accept within \d+ s$"))

    console.offer_accept.click()

    expect(console.offer).to_be_hidden()
    expect(console.context_field("reference")).to_have_text("BW-1002")
    expect(console.composer).to_be_enabled()
    assert desk.conversation("c-guest")["ticket"]["assigned_agent"]["name"] == "Sam Agent"
    assert desk.conversation("c-billing")["state"] == "queued"  # its offer had expired


# --- Layout and keyboard ----------------------------------------------------------------


def test_keyboard_only(page: Page, console: DeskConsole, desk: FakeDesk) -> None:
    console.row("c-outage").focus()

    page.keyboard.press("ArrowDown")
    expect(console.row("c-billing")).to_be_focused()
    page.keyboard.press("Enter")
    expect(console.context_field("reference")).to_have_text("BW-1001")
    console.accept_button.focus()
    page.keyboard.press("Enter")
    expect(console.composer).to_be_focused()
    page.keyboard.type("Hi from the keyboard")
    page.keyboard.press("Enter")
    expect(console.from_sender("agent")).to_have_count(1)

    console.transfer_button.focus()
    page.keyboard.press("Enter")
    expect(console.action_team).to_be_focused()
    page.keyboard.press("Escape")
    expect(console.action_form).to_be_hidden()
    expect(console.transfer_button).to_be_focused()


def test_a_slow_send_does_not_take_focus_from_a_form_opened_meanwhile(
    page: Page, console: DeskConsole
) -> None:
    console.select("c-billing", "BW-1001")
    console.accept()
    held: list = []
    # The answer to the send is held here, and never reaches the fake desk, so the message
    # shows only when the console reads that answer: no live event can show it earlier.
    page.route("**/conversations/c-billing/messages", lambda route: held.append(route))
    console.composer.fill("One moment please")
    console.composer.press("Enter")
    page.wait_for_function("() => document.getElementById('composer-input').value === ''")
    console.transfer_button.click()
    expect(console.action_team).to_be_focused()

    sent = message("agent", "One moment please", agent={"id": "a-1", "name": "Sam Agent"})
    assert held, "the send never reached the network"
    held[0].fulfill(status=201, json={"message": sent})

    expect(console.from_sender("agent")).to_have_count(1)
    expect(console.action_team).to_be_focused()


def test_a_narrow_window_stacks_the_columns(page: Page, console: DeskConsole) -> None:
    page.set_viewport_size({"width": 480, "height": 800})
    console.select("c-billing", "BW-1001")

    queue = page.locator(".queue").bounding_box()
    chat = page.locator(".chat").bounding_box()
    context = page.locator(".context").bounding_box()
    assert queue and chat and context
    assert chat["y"] >= queue["y"] + queue["height"]  # one column
    assert context["y"] >= chat["y"] + chat["height"]
    assert chat["width"] <= 480
    console.composer.scroll_into_view_if_needed()
    expect(console.composer).to_be_in_viewport()
