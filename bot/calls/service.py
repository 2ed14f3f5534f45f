"""`CallService`: the call use cases (docs/calls.md 1.1), synchronous and framework-free.

Each method loads the facts, asks `auth` and `machine`, writes through `store`,
asks the provider for join info and returns an `Outcome`: the ordered deliveries
for the connector to carry out. It never sends anything itself. Refusals are
`CallRefused`, logged here once (`calls.rejected`, section 4.2).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Set, Tuple, TypeVar, Union

from bot.calls import auth
from bot.calls import machine as m
from bot.calls import protocol as p
from bot.calls.auth import AgentFacts, ConversationFacts, CustomerSocket
from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused
from bot.calls.notices import notice_metadata, notice_text
from bot.calls.providers import CallProvider, Participant
from bot.calls.records import CallRecord, iso, wire_by
from bot.calls.store import CallStore
from bot.tickets.states import CONVERSATION_WITH_AGENT

logger = logging.getLogger("bot.calls")

T = TypeVar("T")


@dataclass(frozen=True)
class ToCustomer:
    conversation_id: str
    signal: Dict[str, Any]
    sid: str | None = None
    skip_sid: str | None = None


@dataclass(frozen=True)
class ToAgent:
    agent_id: int
    conversation_id: str
    connection_id: str | None
    signal: Dict[str, Any]


@dataclass(frozen=True)
class Notice:
    conversation_id: str
    team: str
    text: str
    metadata: Dict[str, Any]


@dataclass(frozen=True)
class Changed:
    conversation_id: str
    team: str


Delivery = Union[ToCustomer, ToAgent, Notice, Changed]


@dataclass
class Outcome:
    deliveries: List[Delivery] = field(default_factory=list)

    def add(self, *items: Delivery) -> Outcome:
        self.deliveries.extend(items)
        return self

    def extend(self, other: Outcome) -> Outcome:
        self.deliveries.extend(other.deliveries)
        return self

    def __iter__(self) -> Any:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)


def agent_facts(agent: Any) -> AgentFacts:
    """An `AgentRecord` (or anything with id, name, teams, sees_all_teams) as plain facts."""
    return AgentFacts(
        id=agent.id,
        name=agent.name,
        teams=tuple(agent.teams),
        sees_all_teams=bool(agent.sees_all_teams),
    )


class CallService:
    """Args: session_factory, settings, provider (None: calls are off)."""

    def __init__(
        self, session_factory: Any, settings: CallSettings, provider: CallProvider | None
    ) -> None:
        self.store = CallStore(session_factory)
        self.settings = settings
        self.provider = provider
        # Per replica, like the sign-in limiter (1.6): ICE per call and side, SDP sent.
        self._lock = threading.Lock()
        self._ice: Dict[Tuple[str, str], int] = {}
        self._sdp: Dict[str, Set[str]] = {}

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    # --- customer side -----------------------------------------------------------------

    def customer_signal(
        self, session_id: str | None, sid: str, data: Any, now: dt.datetime
    ) -> Outcome:
        signal_type = p.signal_type_of(data)
        call_id = (
            data.get("call_id")
            if isinstance(data, dict) and p.is_hex_id(data.get("call_id"))
            else None
        )
        try:
            return self._customer_signal(session_id, sid, data, now)
        except CallRefused as refused:
            refused.call_id = refused.call_id or call_id
            auth.log_refusal("customer", refused, signal_type, session_id, sid=sid)
            raise

    def _customer_signal(
        self, session_id: str | None, sid: str, data: Any, now: dt.datetime
    ) -> Outcome:
        auth.check_calls_on(self.enabled)
        if not session_id:
            auth.check_customer(CustomerSocket(sid, None), None, p.signal_type_of(data) or "-")
        signal = p.parse_customer_signal(data)
        kind = signal["type"]
        if kind == p.REQUEST:
            conversation = self.store.conversation(session_id)  # type: ignore[arg-type]
            with_agent = bool(
                conversation
                and conversation.state == CONVERSATION_WITH_AGENT
                and conversation.assigned_agent_id
            )
            auth.check_customer(CustomerSocket(sid, session_id, with_agent), None, kind)
            assert conversation is not None
            return self._request(conversation, sid, signal["media"], now)
        call = self.store.get(signal["call_id"])
        auth.check_customer(CustomerSocket(sid, session_id), call, kind)
        assert call is not None
        if kind == p.ACCEPT:
            return self._accept(call, m.CUSTOMER, now, sid=sid)
        if kind in (p.DECLINE, p.HANGUP):
            return self._end_by(
                call, kind, m.CUSTOMER, p.ACTOR_CUSTOMER, signal["reason"], now, sid=sid
            )
        if kind == p.SDP:
            return self._relay_sdp(call, m.CUSTOMER, signal["description"])
        if kind == p.ICE:
            return self._relay_ice(call, m.CUSTOMER, signal["candidate"])
        return self._connected(call, m.CUSTOMER, now)

    def customer_socket_closed(self, session_id: str, sid: str, now: dt.datetime) -> Outcome:
        """The bound socket dropped: its webrtc calls end `customer_disconnected`."""
        outcome = Outcome()
        for call in self.store.live_calls_bound_to(customer_sid=sid):
            if call.provider == p.PROVIDER_WEBRTC and call.conversation_id == session_id:
                outcome.extend(self._end(call, p.CUSTOMER_DISCONNECTED, p.ACTOR_DESK, now))
        return outcome

    def customer_session_started(self, session_id: str, sid: str, now: dt.datetime) -> Outcome:
        """A widget (re)joined: `available`, and the pending invite or the Jitsi link again."""
        outcome = Outcome()
        if not self.enabled:
            return outcome
        conversation = self.store.conversation(session_id)
        if conversation is None or conversation.state != CONVERSATION_WITH_AGENT:
            return outcome
        outcome.add(ToCustomer(session_id, p.available(self.provider.name), sid=sid))  # type: ignore[union-attr]
        call = self.store.live_call(session_id)
        if call is None:
            return outcome
        if call.state == p.STATE_INVITING:
            outcome.add(ToCustomer(session_id, self._invite_signal(call), sid=sid))
        elif call.state == p.STATE_REQUESTED:
            outcome.add(
                ToCustomer(
                    session_id, p.requested(call.id, call.media, iso(call.expires_at)), sid=sid
                )
            )
        elif call.state == p.STATE_ACTIVE and call.provider == p.PROVIDER_JITSI:
            outcome.add(
                ToCustomer(
                    session_id, self._active_signal(call, m.CUSTOMER, conversation, now), sid=sid
                )
            )
        return outcome

    # --- agent side --------------------------------------------------------------------

    def invite(
        self, agent: Any, conversation_id: str, media: str, connection_id: str, now: dt.datetime
    ) -> Tuple[CallRecord, Outcome]:
        return self._as_agent(
            agent,
            conversation_id,
            "invite",
            lambda: self._invite(agent, conversation_id, media, connection_id, now),
        )

    def agent_accept(
        self, agent: Any, conversation_id: str, call_id: str, connection_id: str, now: dt.datetime
    ) -> Tuple[CallRecord, Outcome]:
        def accept() -> Tuple[CallRecord, Outcome]:
            auth.check_calls_on(self.enabled)
            auth.check_writer(agent_facts(agent), self.store.conversation(conversation_id))
            call = self._agent_call(agent, conversation_id, call_id, None, p.ACCEPT)
            outcome = self._accept(
                call, m.AGENT, now, connection_id=connection_id, agent_id=agent.id
            )
            return self._reload(call), outcome

        return self._as_agent(agent, conversation_id, p.ACCEPT, accept, call_id)

    def agent_decline(
        self, agent: Any, conversation_id: str, call_id: str, reason: str, now: dt.datetime
    ) -> Tuple[CallRecord, Outcome]:
        def decline() -> Tuple[CallRecord, Outcome]:
            auth.check_calls_on(self.enabled)
            call = self._agent_call(agent, conversation_id, call_id, None, p.DECLINE)
            outcome = self._end_by(call, p.DECLINE, m.AGENT, f"agent:{agent.id}", reason, now)
            return self._reload(call), outcome

        return self._as_agent(agent, conversation_id, p.DECLINE, decline, call_id)

    def agent_signal(
        self, agent: Any, conversation_id: str, call_id: str, body: Any, now: dt.datetime
    ) -> Outcome:
        signal_type = (
            body.get("type")
            if isinstance(body, dict) and isinstance(body.get("type"), str)
            else None
        )

        def relay() -> Outcome:
            auth.check_calls_on(self.enabled)
            signal = p.parse_agent_signal(body)
            call = self._agent_call(
                agent, conversation_id, call_id, signal["connection_id"], signal["type"]
            )
            if signal["type"] == p.SDP:
                return self._relay_sdp(call, m.AGENT, signal["description"])
            if signal["type"] == p.ICE:
                return self._relay_ice(call, m.AGENT, signal["candidate"])
            return self._connected(call, m.AGENT, now)

        return self._as_agent(
            agent,
            conversation_id,
            signal_type if signal_type in p.AGENT_SIGNAL_TYPES else "signal",
            relay,
            call_id,
        )

    def agent_hangup(
        self, agent: Any, conversation_id: str, call_id: str, reason: str, now: dt.datetime
    ) -> Tuple[CallRecord, Outcome]:
        def hangup() -> Tuple[CallRecord, Outcome]:
            auth.check_calls_on(self.enabled)
            call = self._agent_call(agent, conversation_id, call_id, None, p.HANGUP)
            outcome = self._end_by(call, p.HANGUP, m.AGENT, f"agent:{agent.id}", reason, now)
            return self._reload(call), outcome

        return self._as_agent(agent, conversation_id, p.HANGUP, hangup, call_id)

    def console_closed(self, agent_id: int, connection_id: str, now: dt.datetime) -> Outcome:
        """The bound console's WebSocket closed: its webrtc calls end `agent_disconnected`."""
        outcome = Outcome()
        for call in self.store.live_calls_bound_to(agent_connection=connection_id):
            if call.provider == p.PROVIDER_WEBRTC and call.agent_id == agent_id:
                outcome.extend(self._end(call, p.AGENT_DISCONNECTED, p.ACTOR_DESK, now))
        return outcome

    def conversation_closed(
        self, conversation_id: str, reason: str, actor: str, now: dt.datetime
    ) -> Outcome:
        """The conversation left its agent (resolve, transfer, ...): its live call ends."""
        call = self.store.live_call(conversation_id)
        if call is None:
            return Outcome()
        return self._end(call, reason, actor, now)

    def expire(self, now: dt.datetime) -> Outcome:
        """End every live call whose deadline passed (section 2.3), as `desk`."""
        outcome = Outcome()
        for call in self.store.expired(now):
            step = m.step(call.state, m.EXPIRE, m.SYSTEM, call.starter, provider=call.provider)
            outcome.extend(self._apply_end(call, step, p.ACTOR_DESK, now))
        return outcome

    def live_call(self, conversation_id: str) -> CallRecord | None:
        return self.store.live_call(conversation_id)

    def join_url_for_agent(self, call: CallRecord, now: dt.datetime) -> str | None:
        """The agent's own Jitsi link for a live Jitsi call with a room."""
        if (
            self.provider is None
            or call.provider != p.PROVIDER_JITSI
            or not call.room
            or not call.live
        ):
            return None
        who = Participant("agent", call.agent_name, call.agent_id)
        return self.provider.join(call, who, now).join_url

    # --- the steps ---------------------------------------------------------------------

    def _request(
        self, conversation: ConversationFacts, sid: str, media: str, now: dt.datetime
    ) -> Outcome:
        assert self.provider is not None
        previous = self.store.latest_customer_request(conversation.conversation_id)
        if (
            previous is not None
            and previous.ended_at is not None
            and previous.end_reason in (p.UNANSWERED, p.DECLINED, p.CANCELLED)
            and (now - previous.ended_at).total_seconds() < p.REQUEST_COOLDOWN_SECONDS
        ):
            raise CallRefused(
                p.RATE_LIMITED, "rate_limited", "Wait a little before asking again.", previous.id
            )
        step = m.step(None, p.REQUEST, m.CUSTOMER, None)
        call = self.store.create(
            call_id=secrets.token_hex(16),
            conversation=conversation,
            agent_id=conversation.assigned_agent_id,
            media=media,
            provider=self.provider.name,
            step=step,
            started_by=p.ACTOR_CUSTOMER,
            now=now,
            expires_at=m.deadline(step.to, self.settings, now),
            customer_sid=sid if self.provider.relays_signalling else None,
        )
        logger.info(
            "calls.offered call=%s conversation=%s media=%s provider=%s by=customer",
            call.id[:8],
            call.conversation_id[:8],
            call.media,
            call.provider,
        )
        expires = iso(call.expires_at)
        return Outcome().add(
            ToCustomer(call.conversation_id, p.requested(call.id, call.media, expires)),
            self._to_agent(
                call,
                p.requested(
                    call.id, call.media, expires, conversation.customer_name, to_agent=True
                ),
            ),
            Changed(call.conversation_id, call.team),
        )

    def _invite(
        self, agent: Any, conversation_id: str, media: str, connection_id: str, now: dt.datetime
    ) -> Tuple[CallRecord, Outcome]:
        auth.check_calls_on(self.enabled)
        assert self.provider is not None
        conversation = self.store.conversation(conversation_id)
        auth.check_writer(agent_facts(agent), conversation)
        assert conversation is not None
        step = m.step(None, m.INVITE, m.AGENT, None)
        call = self.store.create(
            call_id=secrets.token_hex(16),
            conversation=conversation,
            agent_id=agent.id,
            media=media,
            provider=self.provider.name,
            step=step,
            started_by=f"agent:{agent.id}",
            now=now,
            expires_at=m.deadline(step.to, self.settings, now),
            agent_connection=connection_id if self.provider.relays_signalling else None,
            busy_agent_id=agent.id,
        )
        logger.info(
            "calls.offered call=%s conversation=%s media=%s provider=%s by=agent",
            call.id[:8],
            call.conversation_id[:8],
            call.media,
            call.provider,
        )
        outcome = Outcome().add(
            self._to_agent(
                call, p.inviting(call.id, call.media, call.provider, iso(call.expires_at))
            ),
            ToCustomer(call.conversation_id, self._invite_signal(call)),
            Changed(call.conversation_id, call.team),
        )
        return call, outcome

    def _accept(
        self,
        call: CallRecord,
        role: str,
        now: dt.datetime,
        *,
        sid: str | None = None,
        connection_id: str | None = None,
        agent_id: int | None = None,
    ) -> Outcome:
        assert self.provider is not None
        if (
            role == m.CUSTOMER
            and call.state in (p.STATE_CONNECTING, p.STATE_ACTIVE)
            and call.starter == m.AGENT
            and call.customer_sid != sid
        ):
            # Another tab of the session said yes first.
            return Outcome().add(ToCustomer(call.conversation_id, p.elsewhere(call.id), sid=sid))
        step = m.step(call.state, p.ACCEPT, role, call.starter, provider=call.provider)
        changes: Dict[str, Any] = {"answered_at": now}
        if call.provider == p.PROVIDER_JITSI:
            changes["room"] = self.provider.new_room()
        elif role == m.CUSTOMER:
            changes["customer_sid"] = sid
        else:
            changes["agent_connection"] = connection_id
        updated = self.store.apply(
            call,
            step,
            now,
            expires_at=m.deadline(step.to, self.settings, now),
            busy_agent_id=agent_id,
            **changes,
        )
        if updated is None:
            current = self._reload(call)
            if role == m.CUSTOMER and current.customer_sid not in (None, sid) and current.live:
                return Outcome().add(
                    ToCustomer(call.conversation_id, p.elsewhere(call.id), sid=sid)
                )
            raise CallRefused(
                p.INVALID_STATE, "invalid_state", "The call changed a moment ago.", call.id
            )
        outcome = Outcome()
        if updated.provider == p.PROVIDER_WEBRTC:
            bound_sid = updated.customer_sid
            outcome.add(
                ToCustomer(
                    updated.conversation_id,
                    self._connecting_signal(updated, m.CUSTOMER, now),
                    sid=bound_sid,
                ),
                ToCustomer(updated.conversation_id, p.elsewhere(updated.id), skip_sid=bound_sid),
                self._to_agent(updated, self._connecting_signal(updated, m.AGENT, now)),
                Changed(updated.conversation_id, updated.team),
            )
            return outcome
        return self._started(updated, now)

    def _started(self, call: CallRecord, now: dt.datetime) -> Outcome:
        """A call became active: `active` to both, the notice, the history panel."""
        logger.info(
            "calls.started call=%s conversation=%s media=%s provider=%s",
            call.id[:8],
            call.conversation_id[:8],
            call.media,
            call.provider,
        )
        conversation = self.store.conversation(call.conversation_id)
        customer_signal = self._active_signal(call, m.CUSTOMER, conversation, now)
        agent_signal = self._active_signal(call, m.AGENT, conversation, now)
        to_customer = (
            ToCustomer(call.conversation_id, customer_signal, sid=call.customer_sid)
            if call.provider == p.PROVIDER_WEBRTC
            else ToCustomer(call.conversation_id, customer_signal)
        )
        return Outcome().add(
            to_customer,
            self._to_agent(call, agent_signal),
            Notice(
                call.conversation_id, call.team, notice_text(call), notice_metadata(call, "started")
            ),
            Changed(call.conversation_id, call.team),
        )

    def _connected(self, call: CallRecord, role: str, now: dt.datetime) -> Outcome:
        step = m.step(call.state, p.CONNECTED, role, call.starter, provider=call.provider)
        if step.late:
            logger.debug("calls.signal.late call=%s type=connected", call.id[:8])
            return Outcome()
        if not step.changed:
            return Outcome()
        updated = self.store.apply(
            call, step, now, expires_at=m.deadline(step.to, self.settings, now)
        )
        if updated is None:  # the other side's `connected` (or an end) got there first
            return Outcome()
        return self._started(updated, now)

    def _relay_sdp(self, call: CallRecord, role: str, description: p.Description) -> Outcome:
        action = m.SDP_OFFER if role == m.AGENT else m.SDP_ANSWER
        step = m.step(call.state, action, role, call.starter, provider=call.provider)
        if step.late:
            logger.debug("calls.signal.late call=%s type=sdp", call.id[:8])
            return Outcome()
        with self._lock:
            sent = self._sdp.setdefault(call.id, set())
            if action in sent:
                raise CallRefused(
                    p.INVALID_STATE,
                    "invalid_state",
                    "Only one offer and one answer per call.",
                    call.id,
                )
            sent.add(action)
        signal = p.sdp(call.id, description)
        if role == m.AGENT:
            return Outcome().add(ToCustomer(call.conversation_id, signal, sid=call.customer_sid))
        return Outcome().add(self._to_agent(call, signal))

    def _relay_ice(self, call: CallRecord, role: str, candidate: p.Candidate) -> Outcome:
        step = m.step(call.state, p.ICE, role, call.starter, provider=call.provider)
        if step.late:
            logger.debug("calls.signal.late call=%s type=ice", call.id[:8])
            return Outcome()
        with self._lock:
            key = (call.id, role)
            self._ice[key] = self._ice.get(key, 0) + 1
            if self._ice[key] > p.MAX_ICE_PER_SIDE:
                raise CallRefused(
                    p.RATE_LIMITED, "rate_limited", "Too many ICE candidates for one call.", call.id
                )
        signal = p.ice(call.id, candidate)
        if role == m.AGENT:
            return Outcome().add(ToCustomer(call.conversation_id, signal, sid=call.customer_sid))
        return Outcome().add(self._to_agent(call, signal))

    def _end_by(
        self,
        call: CallRecord,
        action: str,
        role: str,
        actor: str,
        reason: str,
        now: dt.datetime,
        sid: str | None = None,
    ) -> Outcome:
        """A participant's `decline` or `hangup`."""
        step = m.step(call.state, action, role, call.starter, provider=call.provider, reason=reason)
        if not step.changed:  # hangup of an ended call: answered with the call as it is
            signal = p.ended(
                call.id, call.end_reason, wire_by(call.ended_by), call.duration_seconds
            )
            if role == m.CUSTOMER:
                return Outcome().add(ToCustomer(call.conversation_id, signal, sid=sid))
            return Outcome().add(self._to_agent(call, signal))
        return self._apply_end(call, step, actor, now)

    def _end(self, call: CallRecord, reason: str, actor: str, now: dt.datetime) -> Outcome:
        step = m.step(
            call.state, m.END, m.SYSTEM, call.starter, provider=call.provider, reason=reason
        )
        if not step.changed:
            return Outcome()
        return self._apply_end(call, step, actor, now)

    def _apply_end(self, call: CallRecord, step: m.Step, actor: str, now: dt.datetime) -> Outcome:
        updated = self.store.apply(call, step, now, actor=actor)
        if updated is None:  # ended (or moved) a moment ago by someone else: theirs stands
            current = self.store.get(call.id)
            if current is not None and current.live:
                retry = m.step(
                    current.state, m.END, m.SYSTEM, current.starter, reason=step.end_reason
                )
                return self._apply_end(current, retry, actor, now)
            return Outcome()
        self._forget(updated.id)
        logger.info(
            "calls.ended call=%s conversation=%s media=%s provider=%s reason=%s by=%s "
            "duration_s=%s",
            updated.id[:8],
            updated.conversation_id[:8],
            updated.media,
            updated.provider,
            updated.end_reason,
            wire_by(updated.ended_by),
            updated.duration_seconds,
        )
        signal = p.ended(
            updated.id, updated.end_reason, wire_by(updated.ended_by), updated.duration_seconds
        )
        return Outcome().add(
            ToCustomer(updated.conversation_id, signal),
            self._to_agent(updated, signal),
            Notice(
                updated.conversation_id,
                updated.team,
                notice_text(updated),
                notice_metadata(updated, "ended"),
            ),
            Changed(updated.conversation_id, updated.team),
        )

    # --- helpers -----------------------------------------------------------------------

    def _as_agent(
        self,
        agent: Any,
        conversation_id: str,
        signal_type: str,
        work: Callable[[], T],
        call_id: str | None = None,
    ) -> T:
        try:
            return work()
        except CallRefused as refused:
            refused.call_id = refused.call_id or (call_id if p.is_hex_id(call_id) else None)
            auth.log_refusal("agent", refused, signal_type, conversation_id, agent_id=agent.id)
            raise

    def _agent_call(
        self,
        agent: Any,
        conversation_id: str,
        call_id: str,
        connection_id: str | None,
        signal_type: str,
    ) -> CallRecord:
        if not p.is_hex_id(call_id):
            raise CallRefused(
                p.NO_SUCH_CALL, "unknown_call", "There is no such call in this conversation."
            )
        call = self.store.get(call_id)
        auth.check_agent(agent.id, conversation_id, connection_id, call, signal_type)
        assert call is not None
        return call

    def _reload(self, call: CallRecord) -> CallRecord:
        return self.store.get(call.id) or call

    def _forget(self, call_id: str) -> None:
        with self._lock:
            self._sdp.pop(call_id, None)
            for role in (m.AGENT, m.CUSTOMER):
                self._ice.pop((call_id, role), None)

    def _to_agent(self, call: CallRecord, signal: Dict[str, Any]) -> ToAgent:
        return ToAgent(call.agent_id or 0, call.conversation_id, call.agent_connection, signal)

    def _invite_signal(self, call: CallRecord) -> Dict[str, Any]:
        return p.invite(call.id, call.media, call.provider, call.agent_name, iso(call.expires_at))

    def _connecting_signal(self, call: CallRecord, role: str, now: dt.datetime) -> Dict[str, Any]:
        assert self.provider is not None
        who = Participant(role, call.agent_name if role == m.AGENT else None, call.agent_id)
        rtc = self.provider.join(call, who, now).rtc
        return p.connecting(call.id, call.media, "offerer" if role == m.AGENT else "answerer", rtc)

    def _active_signal(
        self, call: CallRecord, role: str, conversation: ConversationFacts | None, now: dt.datetime
    ) -> Dict[str, Any]:
        join_url = None
        if call.provider == p.PROVIDER_JITSI and self.provider is not None and call.room:
            name = (
                call.agent_name
                if role == m.AGENT
                else (conversation.customer_name if conversation else None)
            )
            join_url = self.provider.join(
                call, Participant(role, name, call.agent_id), now
            ).join_url
        return p.active(call.id, call.media, call.provider, iso(call.connected_at), join_url)
