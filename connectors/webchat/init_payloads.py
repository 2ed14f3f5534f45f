"""Payloads a third-party widget sends by itself, accepted as intents at any time.

E.g. Rasa Webchat's `initPayload`, `/get_started`: from credentials.yml's
`init_payloads` and `BATON_WEBCHAT_INIT_PAYLOADS` (comma-separated). Empty by default.
"""

from __future__ import annotations

from typing import Any, List, Mapping

from bot.settings import SettingsError

INIT_PAYLOADS_VARIABLE = "BATON_WEBCHAT_INIT_PAYLOADS"


def init_payloads_from_env(env: Mapping[str, str]) -> List[str]:
    """The payloads of `BATON_WEBCHAT_INIT_PAYLOADS` (comma-separated, each starting with `/`)."""
    return parse_payloads(env.get(INIT_PAYLOADS_VARIABLE) or "", INIT_PAYLOADS_VARIABLE)


def init_payloads_from_credentials(credentials: Mapping[str, Any]) -> List[str]:
    """The payloads of credentials.yml's `init_payloads` list."""
    configured = ",".join(str(payload) for payload in credentials.get("init_payloads") or [])
    return parse_payloads(configured, "credentials.yml init_payloads")


def parse_payloads(raw: str, source: str) -> List[str]:
    """Comma-separated payloads; each must start with `/` (`source` names where they came from)."""
    payloads = [part.strip() for part in raw.split(",") if part.strip()]
    wrong = [payload for payload in payloads if not payload.startswith("/")]
    if wrong:
        raise SettingsError(
            f"{source} holds {', '.join(wrong)}; each payload starts with '/', e.g. /get_started"
        )
    return payloads
