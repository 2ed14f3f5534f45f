"""Local secrets for a laptop run: generated once into var/, never committed.

A deployment sets its secrets in the environment. `make run` on a laptop must
work without that, and without any default password: so the first run writes
random secrets to var/secrets.env (git-ignored) and later runs reuse them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Dict, MutableMapping, Sequence

from dotenv import dotenv_values

# The one password of the demo desk people (bot.desk.demo); `bot run`'s banner says where it is.
DEMO_AGENT_PASSWORD = "BATON_DEMO_AGENT_PASSWORD"  # noqa: S105 -- a variable's name, not a password
# What the Rasa server sends the action server (endpoints.yml) and the action server requires.
ACTION_SERVER_TOKEN = "BATON_ACTION_SERVER_TOKEN"  # noqa: S105 -- a variable's name, not a token
# Only the owner may read or write a secrets file (or any file `bot run` creates).
PRIVATE_FILE_MODE = 0o600
# Readable aloud and typeable: no 0/O, 1/l/I.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 -- the characters drawn from, not a password


def _random_secret() -> str:
    return secrets.token_urlsafe(48)


def _readable_password() -> str:
    """Three groups of four (`k7mq-3xwz-p9rt`): 59 random bits, 14 characters."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


GENERATORS: Dict[str, Callable[[], str]] = {
    "BATON_JWT_SECRET": _random_secret,
    ACTION_SERVER_TOKEN: _random_secret,
    DEMO_AGENT_PASSWORD: _readable_password,
}
# What every run needs; the demo password only when the demo is on.
GENERATED_SECRETS = ("BATON_JWT_SECRET", ACTION_SERVER_TOKEN)


def read_local_secrets(path: Path) -> Dict[str, str]:
    """The secrets kept in `path` (empty when there is no such file); never creates anything.

    A file an older Baton left readable by others (it wrote, then chmod-ed) is
    made private on the way: its secrets may have leaked, but not from now on.
    """
    if not path.exists():
        return {}
    if path.stat().st_mode & 0o077:
        os.chmod(path, PRIVATE_FILE_MODE)
    return {key: value for key, value in dotenv_values(path).items() if value}


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by its owner only from the first byte.

    The content goes to a new file created with mode 0600 (O_EXCL: never an
    existing file, nor a planted symlink), which then takes the place of `path`
    in one rename: there is no moment when a secret sits in a file others can
    read, nor a half-written file after a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE_MODE
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def ensure_local_secrets(
    path: Path, env: MutableMapping[str, str], keys: Sequence[str] = GENERATED_SECRETS
) -> Dict[str, str]:
    """Fill `env` with each of `keys` it lacks, from `path`, creating them there once.

    Returns:
        Every secret kept in `path` (the environment's own values win in `env`).
    """
    stored = read_local_secrets(path)
    missing = [key for key in keys if key not in stored]
    if missing:
        for key in missing:
            stored[key] = GENERATORS[key]()
        write_private_file(path, "".join(f"{key}={value}\n" for key, value in stored.items()))
    for key, value in stored.items():
        env.setdefault(key, value)
    return stored
