"""The agent directory: accounts, sign-in, statuses and teams, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.desk.agents import AgentDirectory, AgentExists, UnknownAgent, UnknownTeam
from bot.desk.passwords import hash_password, verify_password
from bot.store.models import Agent
from tests.desk.conftest import CHEAP_HASHER, PASSWORD, T0, TEAMS

LATER = T0 + dt.timedelta(hours=1)


def stored(session_factory, agent_id: int) -> Agent:
    with session_factory() as session:
        return session.execute(select(Agent).where(Agent.id == agent_id)).scalar_one()


def test_an_agent_is_created_offline_with_a_hashed_password(directory, session_factory):
    agent = directory.create_agent(
        email="  Sam@Example.COM ",
        name="Sam  Carter",
        password=PASSWORD,
        teams=("technical", "billing", "billing"),
        capacity=2,
        languages=("EN", "cy"),
        now=T0,
    )

    assert (agent.email, agent.name, agent.role, agent.status) == (
        "sam@example.com",
        "Sam Carter",
        "agent",
        "offline",
    )
    assert (agent.capacity, agent.languages, agent.teams) == (
        2,
        ("en", "cy"),
        ("billing", "technical"),
    )
    assert directory.agent(agent.id) == agent
    assert directory.agent_by_email("SAM@example.com") == agent
    row = stored(session_factory, agent.id)
    assert PASSWORD not in row.password_hash
    assert verify_password(PASSWORD, row.password_hash, CHEAP_HASHER)
    assert row.created_at == T0
    with pytest.raises(dataclasses.FrozenInstanceError):
        agent.role = "admin"  # type: ignore[misc]


def test_the_agent_json_is_the_contract_shape(directory):
    agent = directory.create_agent(
        email="sam@example.com", name="Sam", password=PASSWORD, teams=["billing"], now=T0
    )

    assert agent.as_json(active_chats=2) == {
        "id": agent.id,
        "email": "sam@example.com",
        "name": "Sam",
        "role": "agent",
        "status": "offline",
        "capacity": 3,
        "languages": ["en"],
        "teams": ["billing"],
        "active_chats": 2,
    }


@pytest.mark.parametrize(
    "role, visible",
    [
        ("agent", {"billing"}),
        ("supervisor", {"billing", "technical", "shop"}),
        ("admin", {"billing", "technical", "shop"}),
    ],
)
def test_agents_see_their_teams_and_supervisors_and_admins_see_all(directory, role, visible):
    person = directory.create_agent(
        email=f"{role}@example.com",
        name=role,
        password=PASSWORD,
        role=role,
        teams=["billing"],
        now=T0,
    )

    assert {
        team for team in ("billing", "technical", "shop") if person.can_see_team(team)
    } == visible


def test_an_email_is_taken_whatever_its_case(directory):
    directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)

    with pytest.raises(AgentExists, match="an agent with the email sam@example.com already exists"):
        directory.create_agent(email="SAM@example.com", name="Other Sam", password=PASSWORD, now=T0)
    assert len(directory.agents()) == 1


def test_an_unknown_team_is_refused_with_the_known_ones(directory):
    with pytest.raises(UnknownTeam, match="unknown team 'biling'; known teams: billing, technical"):
        directory.create_agent(
            email="sam@example.com", name="Sam", password=PASSWORD, teams=["biling"], now=T0
        )
    assert directory.agents() == []


def test_without_synced_teams_the_error_says_where_teams_come_from(session_factory):
    directory = AgentDirectory(session_factory, hasher=CHEAP_HASHER)

    with pytest.raises(UnknownTeam, match="no teams are loaded yet.*escalation.yml"):
        directory.create_agent(
            email="sam@example.com", name="Sam", password=PASSWORD, teams=["billing"], now=T0
        )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"email": "not-an-email"}, "'not-an-email' is not an email address"),
        ({"name": "   "}, "the name is empty"),
        ({"role": "owner"}, "role 'owner' is not a role; allowed: agent, supervisor, admin"),
        ({"capacity": -1}, "capacity -1 is out of range"),
        ({"capacity": 51}, "capacity 51 is out of range"),
        ({"capacity": True}, "not a whole number"),
        ({"languages": ()}, "at least one language"),
        ({"languages": ("english",)}, "'english' is not a language code"),
        ({"password": "too short"}, "the password is 9 characters; use at least 12"),
    ],
)
def test_bad_details_are_refused_with_a_clear_message(directory, changes, message):
    details = {"email": "sam@example.com", "name": "Sam", "password": PASSWORD, "now": T0}
    details.update(changes)

    with pytest.raises(ValueError, match=message):
        directory.create_agent(**details)
    assert directory.agents() == []


def test_the_right_password_signs_in_and_is_a_sign_of_life(directory, session_factory):
    agent = directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)

    signed_in = directory.authenticate(" SAM@example.com", PASSWORD, LATER)

    assert signed_in == agent
    assert stored(session_factory, agent.id).last_seen_at == LATER


@pytest.mark.parametrize(
    "email, password",
    [
        ("sam@example.com", PASSWORD + "x"),
        ("sam@example.com", ""),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("", ""),
    ],
)
def test_a_wrong_password_or_unknown_email_signs_nobody_in(
    directory, session_factory, email, password
):
    agent = directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)

    assert directory.authenticate(email, password, LATER) is None
    assert stored(session_factory, agent.id).last_seen_at is None


class CountingHasher(PasswordHasher):
    """Argon2 itself, counting its verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("email", ["nobody@example.com", "sam@example.com"])
def test_a_known_and_an_unknown_email_cost_one_hash_verification_each(session_factory, email):
    hasher = CountingHasher()
    directory = AgentDirectory(session_factory, hasher=hasher)
    directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)

    assert directory.authenticate(email, "a wrong password", T0) is None
    assert hasher.verified == 1


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(session_factory, directory):
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    agent = AgentDirectory(session_factory, hasher=older).create_agent(
        email="sam@example.com", name="Sam", password=PASSWORD, now=T0
    )
    old_hash = stored(session_factory, agent.id).password_hash

    assert directory.authenticate("sam@example.com", PASSWORD, LATER) == agent

    new_hash = stored(session_factory, agent.id).password_hash
    assert new_hash != old_hash
    assert CHEAP_HASHER.check_needs_rehash(new_hash) is False
    assert verify_password(PASSWORD, new_hash, CHEAP_HASHER)


def test_an_agent_without_a_password_cannot_sign_in_with_one(directory, session_factory):
    agent = directory.create_agent(email="sso@example.com", name="Sso", password=PASSWORD, now=T0)
    with session_factory.begin() as session:
        session.get(Agent, agent.id).password_hash = None

    assert directory.authenticate("sso@example.com", PASSWORD, LATER) is None


def test_a_status_change_is_stored_and_refused_when_unknown(directory, session_factory):
    agent = directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)

    online = directory.set_status(agent.id, "online", LATER)

    assert online.status == "online"
    assert directory.agent(agent.id).status == "online"
    assert stored(session_factory, agent.id).last_seen_at == LATER
    with pytest.raises(
        ValueError, match="status 'busy' is not a status; allowed: online, away, offline"
    ):
        directory.set_status(agent.id, "busy", LATER)
    with pytest.raises(UnknownAgent):
        directory.set_status(agent.id + 100, "online", LATER)
    assert directory.agent(agent.id).status == "online"


def test_has_admin_is_true_only_once_an_admin_exists(directory):
    directory.create_agent(
        email="sup@example.com", name="Sup", password=PASSWORD, role="supervisor", now=T0
    )
    assert directory.has_admin() is False

    directory.create_agent(
        email="boss@example.com", name="Boss", password=PASSWORD, role="admin", now=T0
    )
    assert directory.has_admin() is True


def test_agents_are_listed_in_the_order_they_were_added(directory):
    for name in ("Zoe", "Adam", "Mia"):
        directory.create_agent(email=f"{name}@example.com", name=name, password=PASSWORD, now=T0)

    assert [agent.name for agent in directory.agents()] == ["Zoe", "Adam", "Mia"]


def test_sync_teams_adds_missing_renames_changed_and_keeps_the_rest(directory):
    agent = directory.create_agent(
        email="sam@example.com", name="Sam", password=PASSWORD, teams=["technical"], now=T0
    )

    changed = directory.sync_teams([("billing", "Billing"), ("shop", "Online Shop")])

    assert changed == 2  # billing renamed, shop added; technical stays
    assert [(team.key, team.name) for team in directory.teams()] == [
        ("billing", "Billing"),
        ("technical", "Technical Support"),
        ("shop", "Online Shop"),
    ]
    assert directory.agent(agent.id).teams == ("technical",)
    assert directory.sync_teams([("billing", "Billing"), ("shop", "Online Shop")]) == 0
    assert directory.sync_teams(TEAMS) == 1


def test_set_teams_replaces_the_memberships(directory):
    agent = directory.create_agent(
        email="sam@example.com", name="Sam", password=PASSWORD, teams=["technical"], now=T0
    )

    assert directory.set_teams(agent.id, ["billing", "technical"]).teams == ("billing", "technical")
    assert directory.set_teams(agent.id, []).teams == ()
    with pytest.raises(UnknownTeam):
        directory.set_teams(agent.id, ["nope"])
    assert directory.agent(agent.id).teams == ()


def test_ensure_password_changes_it_only_when_it_does_not_verify(directory, session_factory):
    agent = directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)
    first = stored(session_factory, agent.id).password_hash

    assert directory.ensure_password(agent.id, PASSWORD) is False
    assert stored(session_factory, agent.id).password_hash == first
    assert directory.ensure_password(agent.id, "another long passphrase") is True
    assert directory.authenticate("sam@example.com", "another long passphrase", LATER) is not None
    assert directory.authenticate("sam@example.com", PASSWORD, LATER) is None


def test_a_hash_made_elsewhere_verifies(directory, session_factory):
    agent = directory.create_agent(email="sam@example.com", name="Sam", password=PASSWORD, now=T0)
    with session_factory.begin() as session:
        session.get(Agent, agent.id).password_hash = hash_password(
            "set by another tool", CHEAP_HASHER
        )

    assert directory.authenticate("sam@example.com", "set by another tool", LATER) is not None
