"""Settings come from the environment, and a bad one names the variable and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.desk.passwords import MIN_PASSWORD_LENGTH
from bot.settings import (
    DEFAULT_DATABASE_URL,
    MIN_ADMIN_PASSWORD_LENGTH,
    Settings,
    SettingsError,
    action_server_host,
    escalation_file,
    rasa_api_settings,
)


def test_defaults_are_embedded_and_secretless():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.jwt_secret is None
    assert settings.account_backend == "demo"
    assert settings.max_message_length == 2000
    assert settings.allowed_origins == ()
    assert settings.demo_enabled is False
    assert (settings.admin_email, settings.admin_password) == (None, None)
    assert settings.desk_session_hours == 8
    assert settings.offer_seconds == 30


def test_values_are_read():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://db/baton",
            "BATON_JWT_SECRET": "k" * 32,
            "BATON_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "BATON_MAX_MESSAGE_LENGTH": "500",
            "BATON_DEMO": "1",
            "BATON_ADMIN_EMAIL": " Admin@Example.com ",
            "BATON_ADMIN_PASSWORD": "a long admin passphrase",
            "BATON_DESK_SESSION_HOURS": "12",
            "BATON_OFFER_SECONDS": "45",
            "BATON_DISCONNECT_GRACE_SECONDS": "0",
        }
    )
    assert settings.database_url == "postgresql://db/baton"
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.max_message_length == 500
    assert settings.demo_enabled is True
    assert settings.admin_email == "Admin@Example.com"
    assert settings.admin_password == "a long admin passphrase"
    assert settings.desk_session_hours == 12
    assert settings.offer_seconds == 45
    assert settings.disconnect_grace_seconds == 0


def test_the_admin_password_is_not_in_the_settings_repr():
    settings = Settings.from_env(
        {
            "BATON_ADMIN_EMAIL": "admin@example.com",
            "BATON_ADMIN_PASSWORD": "a long admin passphrase",
        }
    )
    assert "a long admin passphrase" not in repr(settings)


def test_the_admin_password_rule_is_the_desk_password_rule():
    assert MIN_ADMIN_PASSWORD_LENGTH == MIN_PASSWORD_LENGTH


@pytest.mark.parametrize(
    "env, names",
    [
        ({"BATON_JWT_SECRET": "short"}, "BATON_JWT_SECRET"),
        ({"BATON_ACCOUNT_BACKEND": "ldap"}, "'demo' or 'http'"),
        ({"BATON_ACCOUNT_BACKEND": "http"}, "BATON_ACCOUNT_API_URL"),
        ({"BATON_MAX_MESSAGE_LENGTH": "lots"}, "BATON_MAX_MESSAGE_LENGTH"),
        ({"BATON_MAX_MESSAGE_LENGTH": "0"}, "at least 1"),
        ({"BATON_ADMIN_EMAIL": "admin@example.com"}, "BATON_ADMIN_PASSWORD"),
        ({"BATON_ADMIN_PASSWORD": "a long admin passphrase"}, "BATON_ADMIN_EMAIL"),
        (
            {"BATON_ADMIN_EMAIL": "admin", "BATON_ADMIN_PASSWORD": "a long admin passphrase"},
            "BATON_ADMIN_EMAIL is 'admin'; expected an email address",
        ),
        (
            {"BATON_ADMIN_EMAIL": "admin@example.com", "BATON_ADMIN_PASSWORD": "short"},
            "BATON_ADMIN_PASSWORD is 5 characters; use at least 12",
        ),
        (
            {"BATON_DESK_SESSION_HOURS": "eight"},
            "BATON_DESK_SESSION_HOURS is 'eight'; expected a whole number",
        ),
        ({"BATON_DESK_SESSION_HOURS": "0"}, "BATON_DESK_SESSION_HOURS is 0; allowed: 1 to 24"),
        ({"BATON_DESK_SESSION_HOURS": "25"}, "allowed: 1 to 24"),
        ({"BATON_OFFER_SECONDS": "1.5"}, "BATON_OFFER_SECONDS is '1.5'; expected a whole number"),
        ({"BATON_OFFER_SECONDS": "2"}, "BATON_OFFER_SECONDS is 2; allowed: 5 to 3600"),
        (
            {"BATON_DISCONNECT_GRACE_SECONDS": "-1"},
            "BATON_DISCONNECT_GRACE_SECONDS is -1; allowed: 0 to 600",
        ),
        (
            {"BATON_RASA_API_TOKEN": "short"},
            "BATON_RASA_API_TOKEN is 5 characters; use at least 16",
        ),
        (
            {"BATON_RASA_API_ALLOW_REMOTE": "maybe"},
            "BATON_RASA_API_ALLOW_REMOTE is 'maybe'; allowed: 1",
        ),
        (
            {"BATON_AVERAGE_HANDLING_MINUTES": "0"},
            "BATON_AVERAGE_HANDLING_MINUTES is '0'; expected the minutes",
        ),
        ({"BATON_AVERAGE_HANDLING_MINUTES": "nan"}, "BATON_AVERAGE_HANDLING_MINUTES is 'nan'"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env, names):
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)


def test_the_settings_other_modules_read_come_from_the_environment_too(tmp_path):
    settings = Settings.from_env(
        {
            "BATON_ESCALATION_FILE": str(tmp_path / "policy.yml"),
            "BATON_ACTION_SERVER_HOST": "10.0.0.5",
            "BATON_RASA_API_TOKEN": " a-rasa-api-token-long-enough ",
            "BATON_RASA_API_ALLOW_REMOTE": "yes",
            "BATON_METRICS_TOKEN": "a metrics token",
            "BATON_AVERAGE_HANDLING_MINUTES": "12.5",
        }
    )
    assert settings.escalation_file == tmp_path / "policy.yml"
    assert settings.action_server_host == "10.0.0.5"
    assert settings.rasa_api_token == "a-rasa-api-token-long-enough"
    assert settings.rasa_api_allow_remote is True
    assert settings.metrics_token == "a metrics token"
    assert settings.average_handling_minutes == 12.5
    assert "a-rasa-api-token-long-enough" not in repr(settings)
    assert "a metrics token" not in repr(settings)


def test_unset_they_keep_their_defaults():
    settings = Settings.from_env({"BATON_RASA_API_ALLOW_REMOTE": "0"})
    assert settings.escalation_file is None
    assert settings.action_server_host is None
    assert (settings.rasa_api_token, settings.rasa_api_allow_remote) == (None, False)
    assert settings.metrics_token is None
    assert settings.average_handling_minutes == 8.0


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (None, False)),
        ({"BATON_RASA_API_TOKEN": "   "}, (None, False)),
        (
            {"BATON_RASA_API_TOKEN": "t" * 16, "BATON_RASA_API_ALLOW_REMOTE": "TRUE"},
            ("t" * 16, True),
        ),
        ({"BATON_RASA_API_ALLOW_REMOTE": "no"}, (None, False)),
    ],
)
def test_rasa_api_settings_alone(env, expected):
    assert rasa_api_settings(env) == expected


def test_one_setting_alone_checks_no_other():
    # The escalation policy and the action server's host are read where a bad JWT secret
    # is not their business.
    env = {"BATON_JWT_SECRET": "short", "BATON_ESCALATION_FILE": "p.yml"}
    assert escalation_file(env) == Path("p.yml")
    assert escalation_file({}) is None
    assert action_server_host({**env, "BATON_ACTION_SERVER_HOST": "10.1.2.3"}) == "10.1.2.3"
