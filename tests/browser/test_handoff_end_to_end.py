"""A whole hand-off in two browsers against the real product (`bot run`), no fakes.

A customer on the demo page asks for a person; an agent signs in to the console, sees
the conversation in the queue with its context, accepts and chats with the customer
(markup in both directions stays text); the customer reloads and keeps the conversation;
the agent resolves and the customer answers the bot's satisfaction survey. Then the
tracker and the ticket store are checked: every message once, in order, and the rating.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from rasa.shared.core.constants import IS_EXTERNAL
from sqlalchemy import create_engine, text

from tests.browser.conftest import EXPECT_TIMEOUT_MS
from tests.browser.pages import ChatWidget, DeskConsole
from tests.e2e.desk_client import TEST_PASSWORD, create_agent
from tests.e2e.test_desk_api import ALL_TEAMS
from tests.e2e.tracker_reader import tracker_events_when

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The bot parses every message with the trained model, on a possibly busy machine.
LIVE_TIMEOUT_MS = 60_000

AGENT_NAME = "Robin Desk"
CUSTOMER_ASKS = "I want to talk to a person"
AGENT_GREETING = "Hi, I'm Robin. Is this <b>bold?</b> for you? How can I help?"
CUSTOMER_REPLY = "It shows <b>bold?</b> as typed. My router drops every evening."
AGENT_ANSWER = "I've reset your line from here; it should stay up now."
CUSTOMER_THANKS = "Thanks, it works again"
RATING_PAYLOAD = '/rate_support{"csat_rating": "4"}'
CSAT_COMMENT = "Robin sorted it out quickly"


@pytest.fixture
def live_timeouts(browser: Browser) -> Iterator[None]:
    """Auto-waiting assertions wait as long as the bot may take; back to the default after."""
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    yield
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def new_page(browser: Browser, contexts: List[BrowserContext], errors: List[str]) -> Page:
    """A page in its own browser context (its own cookies and storage), errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(LIVE_TIMEOUT_MS)
    contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


@pytest.fixture
def two_pages(browser: Browser, live_timeouts: None) -> Iterator[Tuple[Page, Page]]:
    """The customer's page and the agent's page, in two contexts; no script may throw."""
    contexts: List[BrowserContext] = []
    errors: List[str] = []
    customer = new_page(browser, contexts, errors)
    agent = new_page(browser, contexts, errors)
    yield customer, agent
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


def bubbles(messages: Locator) -> Locator:
    """The text bubbles of some widget messages (an agent's also holds their name)."""
    return messages.locator(".bubble")


def agent_of(event: Dict[str, Any]) -> Dict[str, Any] | None:
    """The agent who wrote a bot event at the desk (None for the bot's own)."""
    return (event.get("metadata") or {}).get("agent") if event.get("event") == "bot" else None


def spoken_in_tracker(events: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """Customer and agent messages in tracker order. Rasa's external events (the desk
    resuming the bot with `handoff_resolved`) are in the tracker too, but nobody said them."""
    spoken = []
    for event in events:
        metadata = event.get("metadata") or {}
        if event.get("event") == "user" and not metadata.get(IS_EXTERNAL):
            spoken.append(("customer", event.get("text")))
        elif agent_of(event):
            spoken.append(("agent", event.get("text")))
    return spoken


def csat_answers(database_url: str, reference: str) -> List[Tuple[int, str]]:
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT csat_answers.rating, csat_answers.comment FROM csat_answers"
                    " JOIN tickets ON tickets.id = csat_answers.ticket_id"
                    " WHERE tickets.reference = :reference"
                ),
                {"reference": reference},
            ).all()
    finally:
        engine.dispose()
    return [(row.rating, row.comment) for row in rows]


def test_a_customer_is_handed_to_an_agent_chats_and_rates_the_help(
    two_pages: Tuple[Page, Page], baton_server
) -> None:
    customer_page, agent_page = two_pages

    # 1. The customer asks for a person on the demo page.
    customer_page.goto(f"{baton_server.url}/webhooks/webchat/demo")
    widget = ChatWidget(customer_page)
    widget.open()
    handoff_reply = widget.ask(CUSTOMER_ASKS)
    expect(handoff_reply).to_contain_text(re.compile(r"\bCS-[0-9A-Z]{6}\b"))
    reference = re.search(r"\bCS-[0-9A-Z]{6}\b", handoff_reply.inner_text()).group(0)
    expect(widget.handoff).to_have_text(re.compile(r"^Waiting for an agent"))
    conversation_id = customer_page.evaluate(
        "() => localStorage.getItem('baton.session.' + location.origin)"
    )
    assert conversation_id, "the widget stored no session id"

    # 2. An agent of every team signs in and finds the conversation, with its context.
    agent = create_agent(baton_server.database_url, name=AGENT_NAME, teams=ALL_TEAMS)
    agent_page.goto(f"{baton_server.url}/desk/")
    console = DeskConsole(agent_page)
    console.sign_in(agent.email, TEST_PASSWORD)
    expect(console.agent).to_have_text(AGENT_NAME)
    console.wait_live()
    row = console.row(conversation_id)
    expect(row.get_by_test_id("desk-queue-reference")).to_have_text(reference)
    expect(row.get_by_test_id("desk-queue-state")).to_have_text("queued")
    console.select(conversation_id, reference)
    expect(console.context_field("status")).to_have_text("queued · ticket open")
    expect(console.context_field("priority")).to_have_text(re.compile(r"^P[1-4]$"))
    expect(console.context_field("reasons")).to_contain_text("customer_initiated")
    customer_texts = console.from_sender("customer").get_by_test_id("desk-message-text")
    expect(customer_texts).to_have_text([CUSTOMER_ASKS])

    # 3. The agent accepts; the customer is told who joined; they chat both ways.
    console.accept()
    expect(console.context_field("status")).to_have_text("with you · ticket assigned")
    expect(widget.from_sender("system").filter(has_text=f"{AGENT_NAME} joined")).to_have_count(1)
    expect(widget.handoff).to_be_hidden()

    console.composer.fill(AGENT_GREETING)
    console.composer.press("Enter")
    greeting = widget.from_sender("agent").filter(has_text=AGENT_GREETING)
    expect(greeting).to_have_count(1)
    expect(greeting.get_by_test_id("baton-agent-name")).to_have_text(AGENT_NAME)
    expect(bubbles(greeting)).to_have_text(AGENT_GREETING)

    widget.send(CUSTOMER_REPLY)
    reply = console.from_sender("customer").filter(has_text=CUSTOMER_REPLY)
    expect(reply).to_have_count(1)
    expect(reply.get_by_test_id("desk-message-text")).to_have_text(CUSTOMER_REPLY)

    console.composer.fill(AGENT_ANSWER)
    console.composer.press("Enter")
    answer = widget.from_sender("agent").filter(has_text=AGENT_ANSWER)
    expect(answer).to_have_count(1)
    widget.send(CUSTOMER_THANKS)
    expect(console.from_sender("customer").filter(has_text=CUSTOMER_THANKS)).to_have_count(1)

    # Each message once on both sides, the markup as text: no element was made of it.
    expect(console.from_sender("agent").get_by_test_id("desk-message-text")).to_have_text(
        [AGENT_GREETING, AGENT_ANSWER]
    )
    expect(customer_texts).to_have_text([CUSTOMER_ASKS, CUSTOMER_REPLY, CUSTOMER_THANKS])
    expect(agent_page.locator("#app b")).to_have_count(0)
    expect(bubbles(widget.from_sender("agent"))).to_have_text([AGENT_GREETING, AGENT_ANSWER])
    expect(bubbles(widget.from_sender("user"))).to_have_text(
        [CUSTOMER_ASKS, CUSTOMER_REPLY, CUSTOMER_THANKS]
    )
    expect(widget.log.locator("b")).to_have_count(0)

    # 4. A reload keeps the conversation, the agent's messages labelled with their name.
    customer_page.reload()
    widget.wait_online()
    expect(bubbles(widget.from_sender("user"))).to_have_text(
        [CUSTOMER_ASKS, CUSTOMER_REPLY, CUSTOMER_THANKS]
    )
    expect(bubbles(widget.from_sender("agent"))).to_have_text([AGENT_GREETING, AGENT_ANSWER])
    expect(widget.from_sender("agent").get_by_test_id("baton-agent-name")).to_have_text(
        [AGENT_NAME, AGENT_NAME]
    )
    expect(widget.from_sender("bot").filter(has_text=reference)).to_have_count(1)
    expect(widget.log.locator("b")).to_have_count(0)

    # 5. The agent resolves; the bot is back and asks for a rating. The resolve answers
    # once the bot has spoken, so the console's transcript is final here.
    console.resolve_button.click()
    console.action_reason.fill("line reset, connection stable")
    console.action_submit.click()
    expect(console.context_field("status")).to_have_text("resolved · ticket resolved")
    expect(console.composer).to_be_disabled()
    expect(console.from_sender("bot").filter(has_text="How would you rate the help")).to_have_count(
        1
    )
    # Each message once however often the detail was fetched, and nothing the customer
    # did not write (the desk resumes the bot with an intent, not a message).
    expect(console.from_sender("agent").get_by_test_id("desk-message-text")).to_have_text(
        [AGENT_GREETING, AGENT_ANSWER]
    )
    expect(customer_texts).to_have_text([CUSTOMER_ASKS, CUSTOMER_REPLY, CUSTOMER_THANKS])

    expect(
        widget.from_sender("system").filter(has_text=f"{AGENT_NAME} closed the conversation")
    ).to_have_count(1)
    question = widget.from_sender("bot").filter(has_text="How would you rate the help")
    expect(question).to_have_count(1)
    expect(question.get_by_test_id("baton-quick-reply")).to_have_count(5)
    bot_before = widget.from_sender("bot").count()
    question.get_by_test_id("baton-quick-reply").filter(has_text=re.compile(r"^4$")).click()
    expect(widget.from_sender("bot").nth(bot_before)).to_contain_text(
        "anything you'd like to tell us"
    )
    expect(widget.ask(CSAT_COMMENT)).to_contain_text("Thanks for your feedback")
    # What the customer sees after a reload is what they saw before it.
    customer_page.reload()
    widget.wait_online()
    expect(widget.from_sender("bot").filter(has_text="Thanks for your feedback")).to_have_count(1)
    expect(bubbles(widget.from_sender("user"))).to_have_text(
        [CUSTOMER_ASKS, CUSTOMER_REPLY, CUSTOMER_THANKS, "4", CSAT_COMMENT]
    )

    # 6. The tracker holds every customer and agent message once, in order; the rating is stored.
    # The last turn is saved after the bot's thanks went out: wait for the comment.
    events = tracker_events_when(
        baton_server.tracker_db,
        conversation_id,
        lambda events: ("customer", CSAT_COMMENT) in spoken_in_tracker(events),
    )
    assert spoken_in_tracker(events) == [
        ("customer", CUSTOMER_ASKS),
        ("agent", AGENT_GREETING),
        ("customer", CUSTOMER_REPLY),
        ("agent", AGENT_ANSWER),
        ("customer", CUSTOMER_THANKS),
        ("customer", RATING_PAYLOAD),
        ("customer", CSAT_COMMENT),
    ]
    agent_events = [e for e in events if agent_of(e)]
    assert {(agent_of(e)["id"], agent_of(e)["name"]) for e in agent_events} == {
        (agent.id, AGENT_NAME)
    }
    assert csat_answers(baton_server.database_url, reference) == [(4, CSAT_COMMENT)]
