"""Signals from the conversation that call for a person before it gets worse.

The `signals:` rules of escalation.yml read the customer's turns since the bot
last took the conversation (a new session, or an agent handing it back):
frustration over the last few messages, abuse, shouting, messages the bot did
not understand, the same question asked again right after an answer, and
threats to leave or complain. Each rule either offers a person or hands off.

Two readers share this module, so the bot decides and the ticket explains from
the same evidence:
- the dialogue policy (bot/rasa_components/signal_policy.py) asks `decide()`
  after every customer message: offer, hand off, or carry on;
- the handoff action asks `matching_signals()` for the ticket's reasons and
  priority (`EscalationType.SENTIMENT` for the mood-based rules).

Turns are read from Rasa's event dicts (the wire format both processes see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Sequence,
    Tuple,
)

from bot.constants import (
    ACTION_HANDLE_FALLBACK,
    INTENT_AFFIRM,
    INTENT_BOT_CHALLENGE,
    INTENT_CHITCHAT,
    INTENT_DENY,
    INTENT_GOODBYE,
    INTENT_GREET,
    INTENT_HANDOFF_RESOLVED,
    INTENT_HANDOFF_RETURNED,
    INTENT_INFORM,
    INTENT_NLU_FALLBACK,
    INTENT_OUT_OF_SCOPE,
    INTENT_RATE_SUPPORT,
    INTENT_REQUEST_HUMAN,
    INTENT_STOP,
    INTENT_THANK,
    SLOT_HUMAN_OFFERED,
)
from bot.parse_data import full_intent_name

if TYPE_CHECKING:
    from bot.escalation.policy import SignalRule

# Signal types (escalation.yml `type:`).
FRUSTRATION = "frustration"
ABUSIVE = "abusive"
SHOUTING = "shouting"
REPEATED_FALLBACK = "repeated_fallback"
REPEATED_QUESTION = "repeated_question"
LEAVE_OR_COMPLAIN = "leave_or_complain"
SIGNAL_TYPES: Tuple[str, ...] = (
    FRUSTRATION,
    ABUSIVE,
    SHOUTING,
    REPEATED_FALLBACK,
    REPEATED_QUESTION,
    LEAVE_OR_COMPLAIN,
)
# The rules that read the customer's mood are the article's sentiment-driven escalation.
MOOD_SIGNAL_TYPES: FrozenSet[str] = frozenset({FRUSTRATION, ABUSIVE, SHOUTING, LEAVE_OR_COMPLAIN})

OFFER = "offer"
HANDOFF = "handoff"
SIGNAL_ACTIONS: Tuple[str, ...] = (OFFER, HANDOFF)

# Cue names the sentiment analyzer (bot/sentiment) puts on a message.
CUE_ABUSIVE = "abusive"
CUE_SHOUTING = "shouting"
CUE_LEAVE = "threat_to_leave"
CUE_COMPLAINT = "complaint"

FALLBACK_INTENTS = frozenset({INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE})
# Turns that are not a question in their own right: asking one twice is not "asking again".
NOT_A_QUESTION = frozenset(
    {
        INTENT_GREET,
        INTENT_GOODBYE,
        INTENT_THANK,
        INTENT_AFFIRM,
        INTENT_DENY,
        INTENT_STOP,
        INTENT_INFORM,
        INTENT_CHITCHAT,
        INTENT_RATE_SUPPORT,
        INTENT_BOT_CHALLENGE,
        INTENT_REQUEST_HUMAN,
        *FALLBACK_INTENTS,
    }
)
# Triggered by the desk when it gives the conversation back: not the customer's words.
DESK_INTENTS = frozenset({INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED})
# What the bot does that is not an answer to the customer.
NOT_AN_ANSWER = frozenset(
    {"action_listen", ACTION_HANDLE_FALLBACK, "action_default_fallback", "action_session_start"}
)
# Events after which the bot has the conversation afresh: earlier turns were
# another session, or were a person's to answer.
FRESH_START_EVENTS = frozenset({"session_started", "restart", "resume"})

# The analyzer's output for one message, as stored in parse_data["sentiment"].
SentimentReader = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class CustomerTurn:
    """One customer message and what the bot did with it."""

    text: str
    intent: str  # the full retrieval intent when there is one: faq/returns
    compound: float  # [-1, 1]
    frustrated: bool  # the analyzer's verdict for this message alone
    cues: FrozenSet[str]
    answered: bool = False  # the bot replied with something other than a fallback
    offered_person: bool = False  # the bot offered a person in reply to this message

    @property
    def not_understood(self) -> bool:
        return self.intent in FALLBACK_INTENTS


@dataclass(frozen=True)
class SignalMatch:
    """A signal rule that fired, and what the customer did to fire it."""

    rule: SignalRule
    detail: str

    @property
    def mood(self) -> bool:
        """Whether the rule reads the customer's mood (the `sentiment` escalation type)."""
        return self.rule.type in MOOD_SIGNAL_TYPES


@dataclass(frozen=True)
class SignalDecision:
    """What the bot should do after the latest customer message."""

    action: str | None  # OFFER, HANDOFF, or None to carry on
    matches: Tuple[SignalMatch, ...]  # every rule that fired on the new evidence
    held_back: str = ""  # why a matching offer was not made (recently declined, ...)

    @property
    def deciding(self) -> Tuple[SignalMatch, ...]:
        """The matches that chose `action` (a handoff beats an offer)."""
        return tuple(m for m in self.matches if m.rule.action == self.action)


def _sentiment_of(
    text: str, parse_data: Mapping[str, Any], analyze: SentimentReader | None
) -> Mapping[str, Any]:
    sentiment = parse_data.get("sentiment")
    if isinstance(sentiment, Mapping) and "compound" in sentiment:
        return sentiment
    # Turns parsed before the sentiment component existed, or written by a test
    # story with only a labelled intent, are scored from their text.
    return analyze(text) if analyze is not None and text else {}


def conversation_turns(
    events: Iterable[Mapping[str, Any]], analyze: SentimentReader | None = None
) -> List[CustomerTurn]:
    """The customer's turns since the bot last took the conversation, oldest first.

    Args:
        events: Rasa events as dicts (a tracker's `events`, or `Event.as_dict()`).
        analyze: Scores a message that carries no `sentiment` in its parse data.
    """
    turns: List[CustomerTurn] = []
    paused = False
    current: Dict[str, Any] | None = None

    def close() -> None:
        if current is not None:
            turns.append(CustomerTurn(**current))

    for event in events:
        kind = event.get("event")
        if kind in FRESH_START_EVENTS:
            current = None
            turns.clear()
            paused = False
        elif kind == "pause":
            close()
            current = None
            paused = True
        elif paused:
            # Messages while queued or with an agent are the agent's to answer.
            continue
        elif kind == "user":
            close()
            current = None
            parse_data = event.get("parse_data") or {}
            if (parse_data.get("intent") or {}).get("name") in DESK_INTENTS:
                continue
            text = str(event.get("text") or "")
            sentiment = _sentiment_of(text, parse_data, analyze)
            compound = sentiment.get("compound")
            current = {
                "text": text,
                "intent": full_intent_name(parse_data),
                "compound": float(compound) if isinstance(compound, (int, float)) else 0.0,
                "frustrated": bool(sentiment.get("frustrated")),
                "cues": frozenset(str(c) for c in sentiment.get("cues") or ()),
            }
        elif current is None:
            continue
        elif kind == "action" and event.get("name") not in NOT_AN_ANSWER:
            current["answered"] = True
        elif (
            kind == "slot"
            and event.get("name") == SLOT_HUMAN_OFFERED
            and event.get("value") is True
        ):
            current["offered_person"] = True
    close()
    return turns


def _declined_at(turns: Sequence[CustomerTurn]) -> int | None:
    """The index of the latest turn that answered an offer of a person with anything but yes."""
    for index in range(len(turns) - 1, 0, -1):
        if turns[index - 1].offered_person and turns[index].intent not in (
            INTENT_AFFIRM,
            INTENT_REQUEST_HUMAN,
        ):
            return index
    return None


class SignalEvaluator:
    """The `signals:` rules of escalation.yml, applied to a conversation's turns."""

    def __init__(self, rules: Sequence[SignalRule], declined_offer_cooldown_turns: int) -> None:
        self.rules = tuple(rules)
        self.cooldown = declined_offer_cooldown_turns

    def matching_signals(self, turns: Sequence[CustomerTurn]) -> Tuple[SignalMatch, ...]:
        """Every rule that fired at any point of the turns, in file order (the ticket's reasons).

        A customer who was furious two messages ago and then said "yes please" to a
        person still raises the ticket's priority; the latest firing explains it.
        """
        matches = []
        for rule in self.rules:
            for end in range(len(turns), 0, -1):
                detail = self._check(rule, turns[:end])
                if detail is not None:
                    matches.append(SignalMatch(rule, detail))
                    break
        return tuple(matches)

    def _firing_now(self, turns: Sequence[CustomerTurn]) -> Tuple[SignalMatch, ...]:
        """The rules the latest message fires."""
        return tuple(
            SignalMatch(rule, detail)
            for rule in self.rules
            if (detail := self._check(rule, turns)) is not None
        )

    def decide(self, turns: Sequence[CustomerTurn]) -> SignalDecision:
        """Offer a person, hand off, or carry on, after the latest customer turn.

        Only turns after a declined offer count as evidence, so a customer who
        said no is not asked again on the strength of what they said before; and
        offers (not handoffs) wait `declined_offer_cooldown_turns` turns after it.
        """
        if not turns:
            return SignalDecision(None, ())
        if len(turns) > 1 and turns[-2].offered_person:
            # This message answers the offer; the offer's own rules handle it.
            return SignalDecision(None, ())
        if turns[-1].intent == INTENT_REQUEST_HUMAN:
            # They asked for a person already; the request's own rules hand off.
            return SignalDecision(None, ())
        declined = _declined_at(turns)
        evidence = turns if declined is None else turns[declined + 1 :]
        matches = self._firing_now(evidence)
        if any(m.rule.action == HANDOFF for m in matches):
            return SignalDecision(HANDOFF, matches)
        if not matches:
            return SignalDecision(None, ())
        if declined is not None:
            since = len(turns) - 1 - declined
            if since < self.cooldown:
                return SignalDecision(
                    None,
                    matches,
                    held_back=(
                        f"a person was declined {since} message(s) ago; "
                        f"not offered again for {self.cooldown}"
                    ),
                )
        return SignalDecision(OFFER, matches)

    # --- one rule --------------------------------------------------------------------

    def _check(self, rule: SignalRule, turns: Sequence[CustomerTurn]) -> str | None:
        """What matched, or None when `rule` does not fire on `turns`."""
        if not turns:
            return None
        window = turns[-(rule.over_last_turns or 1) :]
        if rule.type == FRUSTRATION:
            return self._frustration(rule, window)
        if rule.type == ABUSIVE:
            return _cue_count(rule, window, frozenset({CUE_ABUSIVE}), "abusive")
        if rule.type == SHOUTING:
            return _cue_count(rule, window, frozenset({CUE_SHOUTING}), "shouting")
        if rule.type == LEAVE_OR_COMPLAIN:
            return _cue_count(
                rule,
                window,
                frozenset({CUE_LEAVE, CUE_COMPLAINT}),
                "threatening to leave or complain",
            )
        if rule.type == REPEATED_FALLBACK:
            if not turns[-1].not_understood:
                return None
            count = sum(1 for turn in turns if turn.not_understood)
            if rule.fallbacks and count >= rule.fallbacks:
                return f"{count} messages not understood (limit {rule.fallbacks}) → {rule.action}"
            return None
        if rule.type == REPEATED_QUESTION:
            return _repeated_question(rule, turns)
        return None

    @staticmethod
    def _frustration(rule: SignalRule, window: Sequence[CustomerTurn]) -> str | None:
        latest = window[-1]
        if not latest.frustrated and latest.compound >= 0:
            # The customer has calmed down: answer them rather than offer a person.
            return None
        over = rule.over_last_turns or 1
        found: List[str] = []
        if rule.frustrated_messages:
            flagged = sum(1 for turn in window if turn.frustrated)
            if flagged >= rule.frustrated_messages:
                found.append(f"{flagged} of the last {len(window)} messages frustrated")
        # An average needs the full window: one grumpy word is not a trend.
        if rule.below is not None and len(window) >= over:
            average = sum(turn.compound for turn in window) / len(window)
            if average < rule.below:
                found.append(
                    f"average sentiment {average:.2f} over the last {len(window)} messages "
                    f"is below {rule.below:g}"
                )
        if not found:
            return None
        return f"{'; '.join(found)} → {rule.action}"


def _cue_count(
    rule: SignalRule, window: Sequence[CustomerTurn], cues: FrozenSet[str], what: str
) -> str | None:
    # The latest message must carry the cue: an old outburst is not a reason to act now.
    if not window[-1].cues & cues:
        return None
    needed = rule.messages or 1
    count = sum(1 for turn in window if turn.cues & cues)
    if count < needed:
        return None
    quoted = _quote(window[-1].text)
    return f"{count} of the last {len(window)} messages {what} (latest: {quoted}) → {rule.action}"


def _repeated_question(rule: SignalRule, turns: Sequence[CustomerTurn]) -> str | None:
    """The same question asked `times` times in a row, each time after an answer."""
    needed = rule.times or 2
    latest = turns[-1].intent
    if not latest or latest in NOT_A_QUESTION:
        return None
    count = 1
    for turn in reversed(turns[:-1]):
        if turn.intent != latest or not turn.answered:
            break
        count += 1
    if count < needed:
        return None
    return f"asked {latest!r} {count} times in a row after an answer → {rule.action}"


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
