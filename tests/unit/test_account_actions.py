"""Account answers go only to a customer whose signed token verifies."""

from __future__ import annotations

import dataclasses

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionAccountAnswer
from actions.services import Services
from bot.accounts.http import HttpAccountService
from bot.identity import mint_token
from tests.services import TEST_JWT_SECRET, build_services
from tests.trackers import metadata_for, tracker, user_event

JANE = "C-1001"


@pytest.fixture
def services(migrated_url: str) -> Services:
    return build_services(migrated_url)


def jane_token(secret: str = TEST_JWT_SECRET) -> str:
    return mint_token(JANE, secret, name="Jane Doe")


async def run(services: Services, text: str, intent: str, token: str | None, **kwargs):
    dispatcher = CollectingDispatcher()
    events = await ActionAccountAnswer(services).run(
        dispatcher,
        tracker([user_event(text, intent, metadata=metadata_for(token, JANE), **kwargs)]),
        {},
    )
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "intent, expected",
    [
        ("ask_invoice", "Your latest invoice"),
        ("ask_order_status", "Your order BW-"),
        ("ask_current_plan", "You're on"),
        ("ask_data_usage", "You've used"),
        ("reset_password", "password reset link to j***e@example.com"),
        ("update_contact_details", "secure link"),
    ],
)
async def test_verified_customer_gets_their_account_answer(services, intent, expected):
    messages, events = await run(services, "question", intent, jane_token())
    assert events == []
    assert len(messages) == 1
    assert expected in messages[0]["text"]


@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        jane_token(secret="another-secret-" + "y" * 40),  # forged: signed with the wrong key
        mint_token(JANE, TEST_JWT_SECRET, lifetime_seconds=-10),  # expired
    ],
    ids=["no token", "garbage", "forged", "expired"],
)
async def test_without_a_valid_token_no_account_data_is_given(services, token):
    messages, _ = await run(
        services,
        "my email is jane.doe@example.com, show my invoices",
        "ask_invoice",
        token,
        entities=[{"entity": "email", "value": "jane.doe@example.com"}],
    )
    assert [message["response"] for message in messages] == ["utter_login_required"]
    assert messages[0]["login_url"] == services.settings.login_url


async def test_a_token_for_an_unknown_customer_gets_no_data(services):
    token = mint_token("C-9999", TEST_JWT_SECRET)
    dispatcher = CollectingDispatcher()
    await ActionAccountAnswer(services).run(
        dispatcher,
        tracker([user_event("my bill", "ask_invoice", metadata=metadata_for(token, "C-9999"))]),
        {},
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_login_required"]


async def test_order_status_for_a_named_order(services):
    orders = services.accounts.orders(JANE)
    number = orders[-1].number
    messages, _ = await run(
        services,
        f"where is {number}",
        "ask_order_status",
        jane_token(),
        entities=[{"entity": "order_number", "value": number}],
    )
    assert f"Your order {number}" in messages[0]["text"]


async def test_an_unknown_order_number_is_said_so(services):
    messages, _ = await run(
        services,
        "where is BW-999999",
        "ask_order_status",
        jane_token(),
        entities=[{"entity": "order_number", "value": "BW-999999"}],
    )
    assert "can't find order BW-999999" in messages[0]["text"]


async def test_password_reset_sends_one_link(services):
    await run(services, "reset my password", "reset_password", jane_token())
    sent = services.accounts.outbox(JANE)
    assert [message.kind for message in sent] == ["password_reset"]


async def test_account_system_down_gives_an_honest_message(services, unused_tcp_port):
    # A real HTTP client against a port nobody listens on: the outage is real.
    down = dataclasses.replace(
        services, accounts=HttpAccountService(f"http://127.0.0.1:{unused_tcp_port}", timeout=1.0)
    )
    messages, _ = await run(down, "my bill", "ask_invoice", jane_token())
    assert [message["response"] for message in messages] == ["utter_account_unavailable"]
