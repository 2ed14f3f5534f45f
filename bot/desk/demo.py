"""The demo desk: two people to sign in as, so `make run` shows the handoff end to end.

Created by `bot run` in demo mode only, with one password generated on the first
run (var/secrets.env, `BATON_DEMO_AGENT_PASSWORD`) and printed in its banner.
There is no built-in password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List

from bot.desk.agents import AgentDirectory
from bot.desk.records import AgentRecord


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str


DEMO_AGENT = DemoPerson(email="sam@demo.baton", name="Sam Carter", role="agent")
DEMO_SUPERVISOR = DemoPerson(email="dana@demo.baton", name="Dana Reyes", role="supervisor")
DEMO_PEOPLE = (DEMO_AGENT, DEMO_SUPERVISOR)
DEMO_CAPACITY = 3


def ensure_demo_people(
    directory: AgentDirectory, password: str, now: dt.datetime
) -> List[AgentRecord]:
    """Sam (agent) and Dana (supervisor) exist, in every team, and sign in with `password`.

    Idempotent: an existing person keeps their status; their teams follow
    escalation.yml and their password follows var/secrets.env (which may have
    been regenerated while the database stayed).

    Raises:
        ValueError: the password is too short.
    """
    teams = [team.key for team in directory.teams()]
    people = []
    for person in DEMO_PEOPLE:
        agent = directory.agent_by_email(person.email)
        if agent is None:
            agent = directory.create_agent(
                email=person.email,
                name=person.name,
                password=password,
                role=person.role,
                teams=teams,
                capacity=DEMO_CAPACITY,
                now=now,
            )
        else:
            if set(agent.teams) != set(teams):
                agent = directory.set_teams(agent.id, teams)
            directory.ensure_password(agent.id, password)
        people.append(agent)
    return people
