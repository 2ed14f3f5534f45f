"""Local secrets for a laptop run: generated once into var/, never committed.

A deployment sets its secrets in the environment. `make run` on a laptop must
work without that, and without any default password: so the first run writes
random secrets to var/secrets.env (git-ignored) and later runs reuse them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Dict, MutableMapping

from dotenv import dotenv_values

GENERATED_SECRETS = ("BATON_JWT_SECRET",)


def ensure_local_secrets(path: Path, env: MutableMapping[str, str]) -> Dict[str, str]:
    """Fill `env` with each generated secret it lacks, from `path`, creating them once."""
    stored = {key: value for key, value in dotenv_values(path).items() if value} if path.exists() else {}
    missing = [key for key in GENERATED_SECRETS if key not in stored]
    if missing:
        for key in missing:
            stored[key] = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={value}\n" for key, value in stored.items()))
        os.chmod(path, 0o600)
    for key, value in stored.items():
        env.setdefault(key, value)
    return stored
