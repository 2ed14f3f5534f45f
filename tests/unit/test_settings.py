"""Settings come from the environment, and a bad one names the variable and what is allowed."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError


def test_defaults_are_embedded_and_secretless():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.jwt_secret is None
    assert settings.account_backend == "demo"
    assert settings.max_message_length == 2000
    assert settings.allowed_origins == ()
    assert settings.demo_enabled is False


def test_values_are_read():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://db/baton",
            "BATON_JWT_SECRET": "k" * 32,
            "BATON_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "BATON_MAX_MESSAGE_LENGTH": "500",
            "BATON_DEMO": "1",
        }
    )
    assert settings.database_url == "postgresql://db/baton"
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.max_message_length == 500
    assert settings.demo_enabled is True


@pytest.mark.parametrize(
    "env, names",
    [
        ({"BATON_JWT_SECRET": "short"}, "BATON_JWT_SECRET"),
        ({"BATON_ACCOUNT_BACKEND": "ldap"}, "'demo' or 'http'"),
        ({"BATON_ACCOUNT_BACKEND": "http"}, "BATON_ACCOUNT_API_URL"),
        ({"BATON_MAX_MESSAGE_LENGTH": "lots"}, "BATON_MAX_MESSAGE_LENGTH"),
        ({"BATON_MAX_MESSAGE_LENGTH": "0"}, "at least 1"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env, names):
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)
