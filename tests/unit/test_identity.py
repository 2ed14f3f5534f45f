"""Customer tokens: only a token signed with our secret, unexpired, for Baton's widget,
from the expected issuer and not longer-lived than allowed, names a customer."""

from __future__ import annotations

import time
from typing import Any, Dict

import jwt
import pytest

from bot.identity import (
    InvalidToken,
    TokenRules,
    customer_from_token,
    mint_token,
    verify_token,
)
from bot.settings import Settings, SettingsError

SECRET = "s" * 40
RULES = TokenRules()  # the defaults: aud baton-widget, iss baton, at most 24 h


def _signed(**claims: Any) -> str:
    """A token with exactly these claims; `now` stands for the current time."""
    now = int(time.time())
    body: Dict[str, Any] = {
        key: now + value if key in ("iat", "exp") and isinstance(value, int) else value
        for key, value in claims.items()
    }
    return jwt.encode(body, SECRET, algorithm="HS256")


_VALID = {"sub": "C-1001", "iat": 0, "exp": 600, "aud": "baton-widget", "iss": "baton"}


def _without(claim: str) -> Dict[str, Any]:
    return {key: value for key, value in _VALID.items() if key != claim}


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
    ids=[
        "none",
        "empty",
        "garbage",
        "other key",
        "expired",
        "no secret",
        "no exp",
        "hs512",
        "alg none",
    ],
)
def test_anything_else_is_refused(token, secret):
    with pytest.raises(InvalidToken):
        verify_token(token, secret)
    assert customer_from_token(token, secret) is None


def test_a_host_token_with_every_claim_verifies():
    assert verify_token(_signed(**_VALID), SECRET, RULES).customer_id == "C-1001"


def test_an_audience_list_naming_the_widget_verifies():
    token = _signed(**{**_VALID, "aud": ["https://api.example", "baton-widget"]})
    assert verify_token(token, SECRET, RULES).customer_id == "C-1001"


@pytest.mark.parametrize(
    "claims",
    [
        _without("aud"),
        {**_VALID, "aud": "billing-api"},
        _without("iss"),
        {**_VALID, "iss": "https://evil.example"},
        _without("iat"),
        {**_VALID, "iat": "yesterday"},
        {**_VALID, "iat": 120},  # issued in the future
        {**_VALID, "iat": 0, "exp": 86_401},  # one second over the 24 h ceiling
        {**_VALID, "iat": -400 * 86_400, "exp": 600},  # a year-long token, still unexpired
        {"sub": "C-1001", "exp": 600},  # what the README asked of websites before
    ],
    ids=[
        "no aud",
        "other aud",
        "no iss",
        "other iss",
        "no iat",
        "iat not a number",
        "iat in the future",
        "lives too long",
        "lives a year",
        "sub and exp only",
    ],
)
def test_a_token_for_someone_else_or_too_long_lived_is_refused(claims):
    token = _signed(**claims)
    with pytest.raises(InvalidToken):
        verify_token(token, SECRET, RULES)
    assert customer_from_token(token, SECRET, RULES) is None


def test_a_token_at_exactly_the_longest_lifetime_verifies():
    token = _signed(**{**_VALID, "iat": 0, "exp": 86_400})
    assert verify_token(token, SECRET, RULES).customer_id == "C-1001"


def test_mint_and_verify_read_the_same_settings(monkeypatch):
    monkeypatch.setenv("BATON_JWT_AUDIENCE", "brightwave-chat")
    monkeypatch.setenv("BATON_JWT_ISSUER", "https://www.brightwave.example")
    monkeypatch.setenv("BATON_JWT_MAX_LIFETIME_SECONDS", "900")
    token = mint_token("C-1001", SECRET)  # as `bot token` and the demo page call it
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["iss"]) == ("brightwave-chat", "https://www.brightwave.example")
    # The default lifetime (an hour) is cut to the configured ceiling.
    assert claims["exp"] - claims["iat"] == 900
    assert verify_token(token, SECRET).customer_id == "C-1001"
    # A token minted under the defaults names another audience and issuer.
    assert customer_from_token(mint_token("C-1001", SECRET, rules=RULES), SECRET) is None


def test_the_rules_of_the_settings_are_the_rules_of_the_environment():
    env = {
        "BATON_JWT_AUDIENCE": "chat",
        "BATON_JWT_ISSUER": "site",
        "BATON_JWT_MAX_LIFETIME_SECONDS": "3600",
    }
    assert TokenRules.from_settings(Settings.from_env(env)) == TokenRules.from_env(env)
    assert TokenRules.from_env(env) == TokenRules("chat", "site", 3600)
    assert TokenRules.from_env({}) == RULES


def test_minting_a_token_longer_lived_than_allowed_is_refused():
    with pytest.raises(ValueError, match="BATON_JWT_MAX_LIFETIME_SECONDS"):
        mint_token("C-1001", SECRET, lifetime_seconds=86_401, rules=RULES)


def test_a_malformed_setting_stops_verification_naming_the_variable(monkeypatch):
    monkeypatch.setenv("BATON_JWT_MAX_LIFETIME_SECONDS", "a day")
    with pytest.raises(SettingsError, match="BATON_JWT_MAX_LIFETIME_SECONDS"):
        verify_token(_signed(**_VALID), SECRET)
