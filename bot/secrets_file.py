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

# The one password of the demo desk people (bot.desk.demo), shown in `bot run`'s banner.
DEMO_AGENT_PASSWORD = "BATON_DEMO_AGENT_PASSWORD"
# Readable aloud and typeable: no 0/O, 1/l/I.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _random_secret() -> str:
    return secrets.token_urlsafe(48)


def _readable_password() -> str:
    """Three groups of four (`k7mq-3xwz-p9rt`): 59 random bits, 14 characters."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


GENERATORS: Dict[str, Callable[[], str]] = {
    "BATON_JWT_SECRET": _random_secret,
    DEMO_AGENT_PASSWORD: _readable_password,
}
# What every run needs; the demo password only when the demo is on.
GENERATED_SECRETS = ("BATON_JWT_SECRET",)


def ensure_local_secrets(
    path: Path, env: MutableMapping[str, str], keys: Sequence[str] = GENERATED_SECRETS
) -> Dict[str, str]:
    """Fill `env` with each of `keys` it lacks, from `path`, creating them there once."""
    stored = {key: value for key, value in dotenv_values(path).items() if value} if path.exists() else {}
    missing = [key for key in keys if key not in stored]
    if missing:
        for key in missing:
            stored[key] = GENERATORS[key]()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={value}\n" for key, value in stored.items()))
        os.chmod(path, 0o600)
    for key, value in stored.items():
        env.setdefault(key, value)
    return stored
