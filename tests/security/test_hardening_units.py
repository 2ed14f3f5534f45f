"""Hardening of single units: each test failed on the code before its fix.

- The customer-token settings are checked at start and name the variable.
"""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_the_token_rules_default_to_the_widget_audience_and_a_day():
    settings = Settings.from_env({})
    assert settings.jwt_audience == "baton-widget"
    assert settings.jwt_issuer == "baton"
    assert settings.jwt_max_lifetime_seconds == 86_400


def test_the_token_rules_are_read():
    settings = Settings.from_env(
        {
            "BATON_JWT_AUDIENCE": " brightwave-chat ",
            "BATON_JWT_ISSUER": "https://www.brightwave.example",
            "BATON_JWT_MAX_LIFETIME_SECONDS": "3600",
        }
    )
    assert settings.jwt_audience == "brightwave-chat"
    assert settings.jwt_issuer == "https://www.brightwave.example"
    assert settings.jwt_max_lifetime_seconds == 3600


@pytest.mark.parametrize(
    "env, message",
    [
        ({"BATON_JWT_AUDIENCE": "baton widget"}, "BATON_JWT_AUDIENCE is 'baton widget'; expected"),
        ({"BATON_JWT_ISSUER": "x" * 256}, "BATON_JWT_ISSUER is 'x+'; expected 1 to 255"),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "1d"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is '1d'; expected a whole number",
        ),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "59"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is 59; allowed: 60 to 604800",
        ),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "604801"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is 604801; allowed: 60 to 604800",
        ),
    ],
)
def test_bad_token_rules_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
