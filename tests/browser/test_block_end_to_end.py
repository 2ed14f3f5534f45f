"""An abusive customer, ended and blocked from the console, against the real product (`bot run`).

The agent accepts the conversation and uses "End and block…"; the customer's widget says
the team ended the conversation and stops reconnecting; a reload of the customer's page
(the same conversation) is turned away again, and the ticket's history says who blocked it.
"""

from __future__ import annotations

import re
from typing import Iterator, Tuple

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import EXPECT_TIMEOUT_MS
from tests.browser.pages import ChatWidget, DeskConsole, live_pages
from tests.e2e.desk_client import TEST_PASSWORD, create_agent

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LIVE_TIMEOUT_MS = 60_000
ALL_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")
ENDED = "Our team has ended this conversation"


@pytest.fixture
def two_pages(browser: Browser) -> Iterator[Tuple[Page, Page]]:
    """The customer's page and the agent's, each in its own context; no script may throw."""
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    try:
        with live_pages(browser, LIVE_TIMEOUT_MS) as (customer, agent):
            yield customer, agent
    finally:
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def test_an_agent_ends_and_blocks_an_abusive_customer_from_the_console(
    two_pages: Tuple[Page, Page], baton_server
) -> None:
    customer_page, agent_page = two_pages
    customer_page.goto(f"{baton_server.url}/webhooks/webchat/demo")
    widget = ChatWidget(customer_page)
    widget.open()
    reply = widget.ask("I want to talk to a person")
    expect(reply).to_contain_text(re.compile(r"\bCS-[0-9A-Z]{6}\b"))
    reference = re.search(r"\bCS-[0-9A-Z]{6}\b", reply.inner_text()).group(0)
    conversation_id = customer_page.evaluate(
        "() => localStorage.getItem('baton.session.' + location.origin)"
    )

    agent = create_agent(baton_server.database_url, name="Blocking Robin", teams=ALL_TEAMS)
    agent_page.goto(f"{baton_server.url}/desk/")
    console = DeskConsole(agent_page)
    console.sign_in(agent.email, TEST_PASSWORD)
    console.wait_live()
    console.select(conversation_id, reference)
    console.accept()

    agent_page.get_by_test_id("desk-block").click()
    expect(agent_page.get_by_test_id("desk-block-address")).not_to_be_checked()
    agent_page.get_by_test_id("desk-action-reason").fill("insults after a warning")
    console.action_submit.click()
    expect(agent_page.get_by_test_id("desk-notice")).to_have_text(
        "Conversation ended; the customer is blocked."
    )
    expect(console.context_field("status")).to_contain_text("ticket closed")

    expect(widget.from_sender("system").filter(has_text=ENDED)).to_have_count(1)
    expect(widget.status).to_have_text("Conversation ended")

    # The same conversation, reloaded: turned away again, no new chat with the bot.
    customer_page.reload()
    widget = ChatWidget(customer_page)
    if not widget.panel.is_visible():
        widget.launcher.click()
    expect(widget.from_sender("system").filter(has_text=ENDED)).to_have_count(1)
    expect(widget.status).to_have_text("Conversation ended")
    expect(widget.from_sender("bot")).to_have_count(0)
