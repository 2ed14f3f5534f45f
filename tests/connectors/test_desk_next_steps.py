"""What follows each desk action (bot.desk.next_steps), and how the connector answers a refusal
(connectors/desk/errors.py): plain data in, plain data out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.calls.errors import CallRefused
from bot.constants import INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED
from bot.desk import events
from bot.desk.next_steps import (
    CloseCalls,
    EndCustomerChat,
    OfferWaiting,
    ResumeBot,
    TellQueuePosition,
    ToConsoles,
    ToCustomer,
    after_block,
    after_escalate,
    after_handoff,
    after_note,
    after_requeue,
    after_resolve,
    after_return_to_bot,
    after_transfer,
)
from bot.desk.service import Conflict, DeskError, Forbidden, InvalidRequest, NotFound
from bot.tickets.states import (
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_RESOLVED,
    CONVERSATION_WITH_AGENT,
)
from connectors.desk.errors import (
    Busy,
    CallError,
    TooManyAttempts,
    Unauthorized,
    UnsupportedMediaType,
    http_status,
    refusal_response,
)

CONVERSATION = "c" * 32


@dataclass(frozen=True)
class Handoff:
    conversation_id: str
    team: str
    state: str


def _changed(team: str, state: str, queue: bool = True) -> list:
    steps = [ToConsoles(events.conversation_changed(CONVERSATION, state), team)]
    return steps + [ToConsoles(events.queue_changed(), team)] if queue else steps


def test_a_transfer_tells_both_teams_then_the_customer_then_offers():
    before = Handoff(CONVERSATION, "billing", CONVERSATION_WITH_AGENT)
    after = Handoff(CONVERSATION, "tech", CONVERSATION_QUEUED)
    assert after_transfer(before, after, 7) == [
        CloseCalls(CONVERSATION, "agent:7"),
        *_changed("billing", CONVERSATION_QUEUED),
        *_changed("tech", CONVERSATION_QUEUED),
        TellQueuePosition(CONVERSATION, force=True),
        OfferWaiting(),
    ]


@pytest.mark.parametrize(
    ("new_team", "teams_told"),
    [("billing", ["billing"]), ("supervisors", ["billing", "supervisors"])],
)
def test_an_escalation_tells_the_new_team_only_when_there_is_one(new_team, teams_told):
    before = Handoff(CONVERSATION, "billing", CONVERSATION_WITH_AGENT)
    after = Handoff(CONVERSATION, new_team, CONVERSATION_QUEUED)
    steps = after_escalate(before, after, 7)
    told = [step.team for step in steps if isinstance(step, ToConsoles)]
    assert told == [team for team in teams_told for _ in range(2)]
    assert steps[0] == CloseCalls(CONVERSATION, "agent:7")
    assert steps[-2:] == [TellQueuePosition(CONVERSATION, force=True), OfferWaiting()]


def test_resolving_tells_the_customer_then_resumes_the_bot_with_the_csat_intent():
    handoff = Handoff(CONVERSATION, "billing", CONVERSATION_RESOLVED)
    assert after_resolve(handoff, 7, "Ada") == [
        CloseCalls(CONVERSATION, "agent:7"),
        ToCustomer(
            CONVERSATION, "baton_status", {"state": CONVERSATION_RESOLVED, "agent_name": "Ada"}
        ),
        ResumeBot(CONVERSATION, INTENT_HANDOFF_RESOLVED),
        *_changed("billing", CONVERSATION_RESOLVED),
        OfferWaiting(),
    ]


def test_returning_to_the_bot_says_back_to_bot_and_resumes_with_its_intent():
    handoff = Handoff(CONVERSATION, "billing", CONVERSATION_BOT)
    assert after_return_to_bot(handoff, 7) == [
        CloseCalls(CONVERSATION, "agent:7"),
        ToCustomer(CONVERSATION, "baton_status", {"state": "back_to_bot"}),
        ResumeBot(CONVERSATION, INTENT_HANDOFF_RETURNED),
        *_changed("billing", CONVERSATION_BOT),
        OfferWaiting(),
    ]


def test_a_block_closes_the_chat_before_the_team_hears():
    handoff = Handoff(CONVERSATION, "billing", CONVERSATION_RESOLVED)
    assert after_block(handoff, 7) == [
        CloseCalls(CONVERSATION, "agent:7"),
        EndCustomerChat(CONVERSATION),
        *_changed("billing", CONVERSATION_RESOLVED),
        OfferWaiting(),
    ]


def test_a_requeue_closes_every_call_then_tells_every_customer():
    other = "d" * 32
    assert after_requeue([CONVERSATION, other]) == [
        CloseCalls(CONVERSATION, "desk"),
        CloseCalls(other, "desk"),
        ToConsoles({"type": "queue_changed"}),
        TellQueuePosition(CONVERSATION, force=True),
        TellQueuePosition(other, force=True),
        OfferWaiting(),
    ]
    assert after_requeue([]) == []


def test_a_new_handoff_names_the_conversation_in_the_queue_change():
    assert after_handoff(CONVERSATION, "billing") == [
        ToConsoles({"type": "queue_changed", "conversation_id": CONVERSATION}, "billing"),
        TellQueuePosition(CONVERSATION, force=True),
        OfferWaiting(),
    ]


def test_a_note_changes_the_conversation_but_not_the_queue():
    handoff = Handoff(CONVERSATION, "billing", CONVERSATION_WITH_AGENT)
    assert after_note(handoff) == [
        ToConsoles(
            {
                "type": "conversation_changed",
                "conversation_id": CONVERSATION,
                "state": CONVERSATION_WITH_AGENT,
            },
            "billing",
        )
    ]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DeskError("bad"), 400),
        (InvalidRequest("bad"), 422),
        (NotFound("gone"), 404),
        (Forbidden("no"), 403),
        (Conflict("taken"), 409),
        (Unauthorized("who"), 401),
        (TooManyAttempts("slow", 3), 429),
        (Busy("busy", 2), 503),
        (UnsupportedMediaType("json"), 415),
        (CallError(CallRefused("no_such_call", "missing", "No such call.")), 404),
    ],
)
def test_each_refusal_answers_its_status(error, status):
    assert http_status(error) == status


def test_a_refusal_with_a_wait_says_when_to_come_back():
    answer = refusal_response(TooManyAttempts("Too many sign-ins; wait.", 12))
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "12"
    assert answer.body == b'{"error":"Too many sign-ins; wait."}'


def test_a_refused_call_carries_its_code():
    answer = refusal_response(CallError(CallRefused("no_such_call", "missing", "No such call.")))
    assert answer.status == 404
    assert b'"code":"no_such_call"' in answer.body
