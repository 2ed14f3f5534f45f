"""Understanding and checking the details of a customer's case, as the case form asks them.

Pure functions: each takes what the customer typed and returns the normalised
value, or raises `InvalidDetail` with a message that tells the customer what to type.
"""

from __future__ import annotations

import re
from typing import Dict, Tuple

from bot.constants import CASE_CATEGORIES, CASE_URGENCIES

MIN_DESCRIPTION_LENGTH = 10
MAX_DESCRIPTION_LENGTH = 1000
ORDER_NUMBER_PATTERN = re.compile(r"\bBW-?\s?(\d{6})\b", re.IGNORECASE)
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")

# Words customers use for each category, in the order they are tried.
CATEGORY_WORDS: Dict[str, Tuple[str, ...]] = {
    "billing": ("bill", "invoice", "charge", "payment", "refund", "price", "money", "debit"),
    "technical": (
        "technical",
        "tech",
        "internet",
        "broadband",
        "wifi",
        "wi-fi",
        "router",
        "signal",
        "connection",
        "outage",
        "slow",
        "phone line",
        "network",
        "tv",
    ),
    "orders": ("order", "delivery", "parcel", "package", "shipping", "return", "shop"),
    "account": ("account", "login", "log in", "password", "email", "address", "profile"),
    "other": ("other", "something else", "else", "none", "not sure"),
}
URGENCY_WORDS: Dict[str, Tuple[str, ...]] = {
    "critical": (
        "critical",
        "emergency",
        "nothing works",
        "everything is down",
        "asap",
        "immediately",
    ),
    "high": ("high", "urgent", "very", "important", "soon"),
    "low": ("low", "not urgent", "no rush", "whenever", "not important", "minor"),
    "normal": ("normal", "medium", "moderate", "average", "regular", "standard"),
}


class InvalidDetail(ValueError):
    """What the customer typed does not fit; the message says what would."""


def parse_category(text: str) -> str:
    lowered = text.strip().lower()
    if lowered in CASE_CATEGORIES:
        return lowered
    for category, words in CATEGORY_WORDS.items():
        if any(word in lowered for word in words):
            return category
    raise InvalidDetail(
        "Sorry, I didn't catch which kind of problem it is. "
        "Please pick one: billing, technical, an order, your account, or something else."
    )


def parse_urgency(text: str) -> str:
    lowered = text.strip().lower()
    if lowered in CASE_URGENCIES:
        return lowered
    # "not urgent" must win over "urgent": try the longest phrases first.
    phrases = sorted(
        ((phrase, urgency) for urgency, words in URGENCY_WORDS.items() for phrase in words),
        key=lambda pair: -len(pair[0]),
    )
    for phrase, urgency in phrases:
        if phrase in lowered:
            return urgency
    raise InvalidDetail("Please choose how urgent it is: low, normal, high or critical.")


def parse_description(text: str) -> str:
    description = " ".join(text.split())
    if len(description) < MIN_DESCRIPTION_LENGTH:
        raise InvalidDetail(
            "Could you tell me a little more? A sentence about what happened helps our team "
            "fix it without asking you again."
        )
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidDetail(
            f"That's a bit long for the summary (over {MAX_DESCRIPTION_LENGTH} characters). "
            "Please shorten it; you can tell the agent the rest."
        )
    return description


def parse_order_number(text: str) -> str:
    match = ORDER_NUMBER_PATTERN.search(text)
    if not match:
        raise InvalidDetail(
            "That doesn't look like an order number. It starts with BW- followed by "
            "six digits, for example BW-123456; you'll find it in your confirmation email."
        )
    return f"BW-{match.group(1)}"


def parse_email(text: str) -> str:
    email = text.strip().strip(".,;<>()").lower()
    if not EMAIL_PATTERN.match(email):
        raise InvalidDetail(
            "That email address doesn't look right. Please type it in full, like name@example.com."
        )
    return email
