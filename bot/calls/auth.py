"""Who may send which call signal (docs/calls.md 4.1), as pure functions over plain facts.

The service loads the facts (the socket's session, the call, the conversation)
and passes them in; the first failing check decides the answer. `log_refusal`
writes the one structured line per refused signal of section 4.2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Tuple

from bot.calls import protocol as p
from bot.calls.errors import CallRefused
from bot.calls.records import CallRecord
from bot.tickets.states import CONVERSATION_WITH_AGENT

logger = logging.getLogger("bot.calls")

# Section 4.2: authorisation failures are warnings; misuse is info.
WARNING_REASONS = frozenset(
    {
        "no_session",
        "csrf",
        "unknown_call",
        "wrong_conversation",
        "wrong_socket",
        "not_with_agent",
        "other_team",
        "not_assigned",
        "wrong_agent",
        "wrong_console",
        "no_conversation",
    }
)
BOUND_TYPES = (p.SDP, p.ICE, p.CONNECTED)


@dataclass(frozen=True)
class CustomerSocket:
    """A widget's socket: its sid, its confirmed session (None if none) and the conversation's
    state."""

    sid: str
    session_id: str | None
    conversation_with_agent: bool = False


@dataclass(frozen=True)
class ConversationFacts:
    """What the desk knows of a handed-off conversation, for the agent checks."""

    conversation_pk: int
    conversation_id: str
    state: str
    ticket_id: int
    team: str
    reference: str
    assigned_agent_id: int | None
    customer_name: str | None


@dataclass(frozen=True)
class AgentFacts:
    id: int
    name: str
    teams: Tuple[str, ...]
    sees_all_teams: bool


def check_calls_on(enabled: bool) -> None:
    if not enabled:
        raise CallRefused(p.CALLS_DISABLED, "calls_disabled", "Calls are turned off here.")


def check_customer(socket: CustomerSocket, call: CallRecord | None, signal_type: str) -> None:
    """A widget's signal (calls being on is checked before).

    Args:
        socket: the sending socket.
        call: the call its `call_id` names (None: unknown, or a `request`).
        signal_type: the signal's `type`.
    """
    if not socket.session_id:
        raise CallRefused(p.NO_SESSION, "no_session", "Send session_request first.")
    if signal_type == p.REQUEST:
        if not socket.conversation_with_agent:
            raise CallRefused(
                p.NOT_ALLOWED, "not_with_agent", "A call needs a person in the chat first."
            )
        return
    if call is None:
        raise CallRefused(p.NO_SUCH_CALL, "unknown_call", "There is no such call.")
    if call.conversation_id != socket.session_id:
        # The same answer as an unknown id: a probe learns nothing.
        raise CallRefused(p.NO_SUCH_CALL, "wrong_conversation", "There is no such call.", call.id)
    if (
        signal_type in BOUND_TYPES
        and call.provider == p.PROVIDER_WEBRTC
        and call.customer_sid != socket.sid
    ):
        raise CallRefused(p.NOT_ALLOWED, "wrong_socket", "This call runs in another tab.", call.id)


def check_writer(agent: AgentFacts, conversation: ConversationFacts | None) -> None:
    """`invite` and `accept`: the conversation is with this agent (DeskService.check_can_write)."""
    if conversation is None:
        raise CallRefused(
            p.NO_SUCH_CONVERSATION,
            "no_conversation",
            "There is no handed-off conversation with that id.",
        )
    if not (agent.sees_all_teams or conversation.team in agent.teams):
        raise CallRefused(
            p.NOT_ALLOWED, "other_team", f"Ticket {conversation.reference} belongs to another team."
        )
    if conversation.state != CONVERSATION_WITH_AGENT or conversation.assigned_agent_id != agent.id:
        raise CallRefused(
            p.NOT_WITH_YOU, "not_assigned", "Accept the conversation before starting a call."
        )


def check_agent(
    agent_id: int,
    conversation_id: str,
    connection_id: str | None,
    call: CallRecord | None,
    signal_type: str,
) -> None:
    """A console's call request on `/conversations/{conversation_id}/calls/{call}/...`.

    `connection_id` is checked only for `sdp`, `ice` and `connected` (the bound console).
    """
    if call is None:
        raise CallRefused(
            p.NO_SUCH_CALL, "unknown_call", "There is no such call in this conversation."
        )
    if call.conversation_id != conversation_id:
        raise CallRefused(
            p.NO_SUCH_CALL,
            "wrong_conversation",
            "There is no such call in this conversation.",
            call.id,
        )
    if call.agent_id != agent_id:
        raise CallRefused(p.NOT_ALLOWED, "wrong_agent", "This call is not yours.", call.id)
    if signal_type in BOUND_TYPES and call.agent_connection != connection_id:
        raise CallRefused(
            p.CALL_ELSEWHERE,
            "wrong_console",
            "This call is running in another console window.",
            call.id,
        )


def _short(value: str | None) -> str:
    return f"{value[:8]}…" if value else "-"


def log_refusal(
    side: str,
    refused: CallRefused,
    signal_type: str | None,
    conversation_id: str | None,
    *,
    sid: str | None = None,
    agent_id: int | None = None,
) -> None:
    """The `calls.rejected` line: stable keys, ids shortened, never a payload."""
    level = logging.WARNING if refused.log_reason in WARNING_REASONS else logging.INFO
    who = f"sid={_short(sid)}" if side == "customer" else f"agent={agent_id}"
    logger.log(
        level,
        "calls.rejected side=%s code=%s reason=%s type=%s call=%s conversation=%s %s",
        side,
        refused.code,
        refused.log_reason,
        signal_type or "-",
        _short(refused.call_id),
        _short(conversation_id),
        who,
    )
