"""What the desk's directory and sessions hand out: frozen snapshots, never live ORM objects."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any, Dict, Tuple

# Roles that work across every team (see "Roles" in docs/desk.md).
ALL_TEAMS_ROLES = ("supervisor", "admin")


@dataclass(frozen=True)
class AgentRecord:
    """A person who signs in to the desk.

    `teams` are team keys of escalation.yml; `languages` are language codes ("en").
    """

    id: int
    email: str
    name: str
    role: str
    status: str
    capacity: int
    languages: Tuple[str, ...]
    teams: Tuple[str, ...]

    @property
    def sees_all_teams(self) -> bool:
        """Supervisors and admins see every team's conversations."""
        return self.role in ALL_TEAMS_ROLES

    def can_see_team(self, team: str) -> bool:
        """Whether this person may see a conversation queued at `team`."""
        return self.sees_all_teams or team in self.teams

    def as_json(self, active_chats: int = 0) -> Dict[str, Any]:
        """The "Agent" object of the desk API (docs/desk.md)."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "status": self.status,
            "capacity": self.capacity,
            "languages": list(self.languages),
            "teams": list(self.teams),
            "active_chats": active_chats,
        }


@dataclass(frozen=True)
class TeamRecord:
    """A team of escalation.yml as the desk lists it."""

    key: str
    name: str

    def as_json(self) -> Dict[str, str]:
        return {"key": self.key, "name": self.name}


@dataclass(frozen=True)
class DeskSession:
    """A signed-in console: who it is and the CSRF token its writes must carry."""

    agent: AgentRecord
    csrf_token: str
    expires_at: dt.datetime

    def csrf_matches(self, presented: str | None) -> bool:
        """Whether a request's `X-CSRF-Token` is this session's (constant-time compare)."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.csrf_token.encode())
