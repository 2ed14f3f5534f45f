"""Customer tokens: only a token signed with our secret, unexpired, names a customer."""

from __future__ import annotations

import jwt
import pytest

from bot.identity import InvalidToken, customer_from_token, mint_token, verify_token

SECRET = "s" * 40


def test_a_minted_token_verifies_to_its_customer():
    customer = verify_token(mint_token("C-1001", SECRET, name="Jane Doe"), SECRET)
    assert (customer.customer_id, customer.name) == ("C-1001", "Jane Doe")


@pytest.mark.parametrize(
    "token, secret",
    [
        (None, SECRET),
        ("", SECRET),
        ("a.b.c", SECRET),
        (mint_token("C-1001", "t" * 40), SECRET),
        (mint_token("C-1001", SECRET, lifetime_seconds=-1), SECRET),
        (mint_token("C-1001", SECRET), None),
        (jwt.encode({"sub": "C-1001"}, SECRET, algorithm="HS256"), SECRET),  # no expiry
        (jwt.encode({"sub": "C-1001", "exp": 9999999999}, SECRET, algorithm="HS512"), SECRET),
        (jwt.encode({"sub": "C-1001", "exp": 9999999999}, key=None, algorithm="none"), SECRET),
    ],
    ids=["none", "empty", "garbage", "other key", "expired", "no secret", "no exp", "hs512", "alg none"],
)
def test_anything_else_is_refused(token, secret):
    with pytest.raises(InvalidToken):
        verify_token(token, secret)
    assert customer_from_token(token, secret) is None
