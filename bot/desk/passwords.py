"""Agents' passwords: Argon2id hashes (argon2-cffi), checked without raising on bad input.

The hash string carries its own parameters and salt, so a stronger default
later only needs `needs_rehash` at the next sign-in, not a migration.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
# Hashing cost does not grow much with length, but a megabyte "password" in a
# login request is not a password: refuse it before hashing.
MAX_PASSWORD_LENGTH = 1024

# argon2-cffi's defaults: Argon2id, RFC 9106's low-memory profile (64 MiB, t=3, p=4).
DEFAULT_HASHER = PasswordHasher()


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long to be set.

    Raises:
        ValueError: with a message a person can act on.
    """
    if not isinstance(password, str):
        raise ValueError("the password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"the password is {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(a passphrase of a few words is easiest)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The Argon2id hash of an acceptable password (see `check_password`).

    Raises:
        ValueError: the password is too short or too long.
    """
    check_password(password)
    return hasher.hash(password)


def verify_password(
    password: str, password_hash: str | None, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """Whether `password` matches `password_hash`; False (no error) for a bad or missing hash."""
    if not password_hash or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Whether a hash was made with other parameters than `hasher`'s (an unreadable one does)."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
