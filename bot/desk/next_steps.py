"""What must happen after a desk action: the deliveries, as data.

The desk's use cases (bot.desk.service) change the database; what follows a change
(calls closed, consoles told, the customer told their place, the bot resumed, the
queue offered again) is the same few steps in a set order. Each `after_*` function
here returns them as a list of `NextStep`s, and the connector's one executor
(connectors/desk/delivery.py) carries them out in that order, as it does the
`Outcome` of a call use case (bot.calls.service). Nothing here sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Protocol, Sequence, Union

from bot import audit
from bot.constants import INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED
from bot.desk import events

# The actor of steps the desk takes on its own (a requeue after an agent left).
DESK_ACTOR = "desk"


class HandoffFacts(Protocol):
    """What the steps need of a conversation at the desk (bot.desk.service.Handoff)."""

    @property
    def conversation_id(self) -> str: ...

    @property
    def team(self) -> str: ...

    @property
    def state(self) -> str: ...


@dataclass(frozen=True)
class ToConsoles:
    """An event for the consoles of agents who may see `team` (all: None), or of one agent."""

    event: Dict[str, Any]
    team: str | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class ToCustomer:
    """A socket.io event for the widget(s) of the conversation's customer."""

    conversation_id: str
    event: str
    data: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CloseCalls:
    """The conversation left its agent: its live call ends, the widget hides the button."""

    conversation_id: str
    actor: str


@dataclass(frozen=True)
class EndCustomerChat:
    """The customer is blocked: their widget is told the chat is over (a failure is logged,
    the block stands: the widget is turned away at its next message)."""

    conversation_id: str


@dataclass(frozen=True)
class ResumeBot:
    """Unpause the conversation and let the bot speak, as if the customer sent `intent`."""

    conversation_id: str
    intent: str


@dataclass(frozen=True)
class TellQueuePosition:
    """Tell a waiting customer their place and wait; only a change unless `force`."""

    conversation_id: str
    force: bool = True


@dataclass(frozen=True)
class OfferWaiting:
    """Ask the router to offer waiting conversations to free agents."""


NextStep = Union[ToConsoles, ToCustomer, CloseCalls, EndCustomerChat, ResumeBot,
                 TellQueuePosition, OfferWaiting]  # fmt: skip


def changed(conversation_id: str, team: str, state: str, queue: bool = True) -> List[NextStep]:
    """The team's consoles hear the conversation changed (and, unless not, the queue)."""
    steps: List[NextStep] = [ToConsoles(events.conversation_changed(conversation_id, state), team)]
    if queue:
        steps.append(ToConsoles(events.queue_changed(), team))
    return steps


def after_handoff(conversation_id: str, team: str) -> List[NextStep]:
    """The customer's message handed the conversation off: it joined the team's queue."""
    return [
        ToConsoles(events.queue_changed(conversation_id), team),
        TellQueuePosition(conversation_id, force=True),
        OfferWaiting(),
    ]


def after_note(handoff: HandoffFacts) -> List[NextStep]:
    return changed(handoff.conversation_id, handoff.team, handoff.state, queue=False)


def after_transfer(before: HandoffFacts, after: HandoffFacts, agent_id: int) -> List[NextStep]:
    """Moved to another team's queue: both teams hear it, the customer hears their place."""
    conversation_id = after.conversation_id
    return [
        CloseCalls(conversation_id, audit.agent_actor(agent_id)),
        *changed(conversation_id, before.team, after.state),
        *changed(conversation_id, after.team, after.state),
        TellQueuePosition(conversation_id, force=True),
        OfferWaiting(),
    ]


def after_escalate(before: HandoffFacts, after: HandoffFacts, agent_id: int) -> List[NextStep]:
    """Up a level (perhaps to another team): as a transfer, the new team told only if new."""
    conversation_id = after.conversation_id
    steps: List[NextStep] = [
        CloseCalls(conversation_id, audit.agent_actor(agent_id)),
        *changed(conversation_id, before.team, after.state),
    ]
    if after.team != before.team:
        steps += changed(conversation_id, after.team, after.state)
    return steps + [TellQueuePosition(conversation_id, force=True), OfferWaiting()]


def after_resolve(handoff: HandoffFacts, agent_id: int, agent_name: str) -> List[NextStep]:
    """Resolved: the customer is told, and the bot takes over (it asks for the CSAT)."""
    return _back_to_the_bot(handoff, agent_id, events.resolved(agent_name), INTENT_HANDOFF_RESOLVED)


def after_return_to_bot(handoff: HandoffFacts, agent_id: int) -> List[NextStep]:
    """Handed back: the customer is told, and the bot says they are back with it."""
    return _back_to_the_bot(handoff, agent_id, events.back_to_bot(), INTENT_HANDOFF_RETURNED)


def after_block(handoff: HandoffFacts, agent_id: int) -> List[NextStep]:
    """An abusive customer's conversation ended: the widget is closed, the team told."""
    conversation_id = handoff.conversation_id
    return [
        CloseCalls(conversation_id, audit.agent_actor(agent_id)),
        EndCustomerChat(conversation_id),
        *changed(conversation_id, handoff.team, handoff.state),
        OfferWaiting(),
    ]


def after_requeue(conversation_ids: Sequence[str]) -> List[NextStep]:
    """An agent left (signed out, went offline, disconnected): their chats wait again."""
    if not conversation_ids:
        return []
    return [
        *(CloseCalls(conversation_id, DESK_ACTOR) for conversation_id in conversation_ids),
        ToConsoles(events.queue_changed()),
        *(TellQueuePosition(conversation_id, force=True) for conversation_id in conversation_ids),
        OfferWaiting(),
    ]


def _back_to_the_bot(
    handoff: HandoffFacts, agent_id: int, status: Dict[str, Any], intent: str
) -> List[NextStep]:
    conversation_id = handoff.conversation_id
    return [
        CloseCalls(conversation_id, audit.agent_actor(agent_id)),
        ToCustomer(conversation_id, events.CUSTOMER_STATUS, status),
        ResumeBot(conversation_id, intent),
        *changed(conversation_id, handoff.team, handoff.state),
        OfferWaiting(),
    ]
