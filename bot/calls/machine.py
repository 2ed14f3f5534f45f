"""The call state machine (docs/calls.md section 2), as pure functions: no I/O, no clock.

`step(state, action, role, starter)` answers "what happens if `role` does
`action` to a call in `state` that `starter` started": the next state, the end
reason, the history rows to write. Whether the sender is *bound* to the call is
authorisation (`auth.py`); how often an offer was sent is the service's memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Tuple

from bot.calls import protocol as p
from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused

AGENT = "agent"
CUSTOMER = "customer"
SYSTEM = "system"  # timers, drops, conversation changes (history actor "desk")

# Actions besides the signal types of protocol.py.
INVITE = "invite"
SDP_OFFER = "sdp_offer"
SDP_ANSWER = "sdp_answer"
EXPIRE = "expire"
END = "end"  # drops and conversation changes: the reason comes with it

CALL_OFFERED = "call_offered"
CALL_STARTED = "call_started"
CALL_ENDED = "call_ended"
HISTORY_KINDS = (CALL_OFFERED, CALL_STARTED, CALL_ENDED)


@dataclass(frozen=True)
class Step:
    """The outcome of one action.

    Attributes:
        to: the state after the action (the same state when nothing changes).
        end_reason: set when `to` is `ended` by this step.
        history: the ticket_history kinds this step writes, in order.
        changed: False when the call is left as it was (relay only, or a no-op).
        late: a signal for an ended call, dropped silently.
    """

    to: str
    end_reason: str | None = None
    history: Tuple[str, ...] = ()
    changed: bool = True
    late: bool = False


def _refuse(state: str | None, action: str, role: str) -> CallRefused:
    return CallRefused(
        p.INVALID_STATE,
        "invalid_state",
        f"A {action} is not possible in a call that is {state or 'not started'}.",
    )


def _ended(reason: str) -> Step:
    return Step(p.STATE_ENDED, reason, (CALL_ENDED,))


def _same(state: str) -> Step:
    return Step(state, changed=False)


def step(
    state: str | None,
    action: str,
    role: str,
    starter: str | None,
    *,
    provider: str = p.PROVIDER_WEBRTC,
    reason: str | None = None,
) -> Step:
    """The next step of a call, or `CallRefused("invalid_state")` (table 2.2).

    Args:
        state: the call's state; None for a call that does not exist yet.
        action: a signal type (`accept`, `decline`, `hangup`, `ice`, `connected`),
            `invite`, `request`, `sdp_offer`, `sdp_answer`, `expire` or `end`.
        role: `agent`, `customer` or `system`.
        starter: who started the call (`agent` or `customer`).
        provider: `webrtc` or `jitsi`.
        reason: the reason sent with a `decline`, `hangup` or `end`.
    """
    if state is None:
        if action == INVITE and role == AGENT:
            return Step(p.STATE_INVITING, history=(CALL_OFFERED,))
        if action == p.REQUEST and role == CUSTOMER:
            return Step(p.STATE_REQUESTED, history=(CALL_OFFERED,))
        raise _refuse(state, action, role)

    if action == EXPIRE and role == SYSTEM:
        if state in (p.STATE_REQUESTED, p.STATE_INVITING):
            return _ended(p.UNANSWERED)
        if state == p.STATE_CONNECTING:
            return _ended(p.CONNECT_TIMEOUT)
        if state == p.STATE_ACTIVE:
            return _ended(p.MAX_DURATION)
        return _same(state)
    if action == END and role == SYSTEM:
        if state == p.STATE_ENDED:
            return _same(state)
        return _ended(reason or p.CONVERSATION_CLOSED)

    media_signal = action in (SDP_OFFER, SDP_ANSWER, p.ICE, p.CONNECTED)
    if state == p.STATE_ENDED:
        if media_signal:
            return Step(state, changed=False, late=True)
        if action == p.HANGUP:
            return _same(state)
        raise _refuse(state, action, role)
    if media_signal and provider != p.PROVIDER_WEBRTC:
        raise _refuse(state, action, role)

    waiting = {p.STATE_INVITING: (CUSTOMER, AGENT), p.STATE_REQUESTED: (AGENT, CUSTOMER)}
    if state in waiting:
        answerer, expected_starter = waiting[state]
        if action == p.ACCEPT and role == answerer and starter == expected_starter:
            if provider == p.PROVIDER_JITSI:
                return Step(p.STATE_ACTIVE, history=(CALL_STARTED,))
            return Step(p.STATE_CONNECTING)
        if action == p.DECLINE and role == answerer and starter == expected_starter:
            return _ended(reason if reason in p.DECLINE_REASONS else p.DECLINED)
        if action == p.HANGUP and role in (AGENT, CUSTOMER):
            return _ended(p.CANCELLED if role == starter else p.DECLINED)
        raise _refuse(state, action, role)

    # connecting, active
    if action == SDP_OFFER and role == AGENT and state == p.STATE_CONNECTING:
        return _same(state)
    if action == SDP_ANSWER and role == CUSTOMER and state == p.STATE_CONNECTING:
        return _same(state)
    if action == p.ICE and role in (AGENT, CUSTOMER):
        return _same(state)
    if action == p.CONNECTED and role in (AGENT, CUSTOMER):
        if state == p.STATE_CONNECTING:
            return Step(p.STATE_ACTIVE, history=(CALL_STARTED,))
        return _same(state)
    if action == p.HANGUP and role in (AGENT, CUSTOMER):
        return _ended(reason or p.HUNG_UP)
    raise _refuse(state, action, role)


def deadline(state: str, settings: CallSettings, now: dt.datetime) -> dt.datetime | None:
    """`expires_at` of a call entering `state` at `now` (section 2.3); None when ended."""
    if state in (p.STATE_REQUESTED, p.STATE_INVITING):
        return now + dt.timedelta(seconds=settings.ring_seconds)
    if state == p.STATE_CONNECTING:
        return now + dt.timedelta(seconds=settings.connect_seconds)
    if state == p.STATE_ACTIVE:
        return now + dt.timedelta(minutes=settings.max_minutes)
    return None
