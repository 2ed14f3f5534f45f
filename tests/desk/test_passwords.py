"""Passwords: Argon2id hashes, a length rule with a clear message, no exception on a bad hash."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bot.desk.passwords import (
    MIN_PASSWORD_LENGTH,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.desk.conftest import CHEAP_HASHER

GOOD = "correct horse battery staple"


def test_a_hash_verifies_its_password_and_no_other():
    hashed = hash_password(GOOD)

    assert hashed.startswith("$argon2id$")
    assert GOOD not in hashed
    assert verify_password(GOOD, hashed) is True
    assert verify_password(GOOD + "!", hashed) is False
    assert verify_password("", hashed) is False


def test_the_same_password_hashes_differently_each_time():
    assert hash_password(GOOD, CHEAP_HASHER) != hash_password(GOOD, CHEAP_HASHER)


@pytest.mark.parametrize(
    "bad_hash", [None, "", "plain text", "$argon2id$v=19$m=65536,t=3,p=4$broken", "$2b$12$bcrypt"]
)
def test_a_bad_or_missing_hash_never_verifies_and_never_raises(bad_hash):
    assert verify_password(GOOD, bad_hash) is False


@pytest.mark.parametrize(
    "password, message",
    [
        ("short", "the password is 5 characters; use at least 12"),
        ("x" * (MIN_PASSWORD_LENGTH - 1), "use at least 12"),
        ("x" * 1025, "longer than 1024"),
    ],
)
def test_a_password_outside_the_length_rule_is_refused_with_its_reason(password, message):
    with pytest.raises(ValueError, match=message):
        hash_password(password)
    with pytest.raises(ValueError, match=message):
        check_password(password)


def test_twelve_characters_are_enough():
    check_password("x" * MIN_PASSWORD_LENGTH)


def test_a_hash_made_with_other_parameters_needs_rehashing():
    weaker = hash_password(GOOD, CHEAP_HASHER)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)

    assert needs_rehash(weaker, CHEAP_HASHER) is False
    assert needs_rehash(weaker, stronger) is True
    assert verify_password(GOOD, weaker, stronger) is True  # still verifies meanwhile
    assert needs_rehash("not a hash") is True
