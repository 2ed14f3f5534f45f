"""Hardening of single units: each test failed on the code before its fix.

- Regular expressions that read customer text take time linear in its length: an
  adversarial message of 100,000 characters is read well inside a 5-second guard
  (before: minutes, since each one rescanned the rest of the text from every position).
- The customer-token settings are checked at start and name the variable.
"""

from __future__ import annotations

import pytest

from bot.csat import parse_rating
from bot.sentiment.lexicon import load_lexicon
from bot.sentiment.rules import FrustrationRules
from bot.settings import Settings, SettingsError

# Far beyond BATON_MAX_MESSAGE_LENGTH's default (2,000), so the guard is about the shape of
# the cost, not the machine: quadratic is tens of minutes here, linear well under a second.
ADVERSARIAL_LENGTH = 100_000


@pytest.fixture(scope="module")
def rules() -> FrustrationRules:
    return FrustrationRules(load_lexicon())


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "unit",
    [
        "a",  # one run without a digit: `\S*\d\S*` tried each position against the rest
        "hi, ",  # lead-ins across commas: each comma rescanned the rest of the message
        "which, ",  # an opener per clause, no "?": each one scanned to the sentence's end
        "WHY-",  # a capitalised run with dashes, no digit
    ],
    ids=["letters", "lead-ins", "openers", "dashes"],
)
def test_an_adversarial_message_is_read_in_linear_time(rules: FrustrationRules, unit: str):
    text = (unit * (ADVERSARIAL_LENGTH // len(unit) + 1))[:ADVERSARIAL_LENGTH]
    assert rules.read(text).weight is not None


@pytest.mark.parametrize(
    "text, capitals",
    [
        ("my order BW-100234 is LATE", "LATE"),  # the reference is not shouting
        ("4G DOWN since 9am", "DOWN"),
        ("x1y NOW", "NOW"),  # a digit anywhere in the run takes the whole run out
        ("ROUTER\tfault\nAGAIN", "ROUTERAGAIN"),
    ],
)
def test_words_with_a_digit_are_still_left_out_of_shouting(
    rules: FrustrationRules, text: str, capitals: str
):
    letters = sum(len(word) for word in text.split() if not any(c.isdigit() for c in word))
    assert rules.read(text).capital_share == pytest.approx(len(capitals) / letters)


@pytest.mark.parametrize(
    "text, calm",
    [
        ("Hi, how do I reset my router?", True),
        ("hi,how do i pay my bill?", True),
        ("OK so, hello, please is there an outage?", True),
        ("I tried. How do I pay? Thanks", True),
        ("My bill is wrong, which one do I pay?", True),
        ("How do I pay. Now!", False),  # the sentence with the opener ends in "."
        ("Why is this so slow?", False),  # no calm opener
        ("hello hello", False),
    ],
)
def test_a_calm_question_is_found_as_before(rules: FrustrationRules, text: str, calm: bool):
    assert rules.read(text).evidence["calm_question"] is calm


@pytest.mark.timeout(5)
def test_a_rating_with_a_long_run_of_spaces_is_read_in_linear_time():
    assert parse_rating("4" + " " * ADVERSARIAL_LENGTH + "stars") == 4


@pytest.mark.parametrize(
    "text, rating", [("4/5", 4), ("4 / 5", 4), ("3 out of 5", 3), ("five  OUT  OF  5", 5)]
)
def test_the_scale_is_still_not_a_second_rating(text: str, rating: int):
    assert parse_rating(text) == rating


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
