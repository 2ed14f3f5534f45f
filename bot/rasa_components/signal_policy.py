"""A dialogue policy that brings in a person when the conversation's signals say so.

After each customer message it asks bot/escalation/signals.py what the
`signals:` rules of escalation.yml say, and predicts, with full confidence and
a priority above RulePolicy's:
- `action_request_handoff` straight after the message, when a `handoff` rule
  fires (the person answers it, not the bot);
- `action_offer_human` right after the bot's answer, when an `offer` rule
  fires (the customer gets their answer, then the offer);
- `action_listen` after either of them.
Otherwise it abstains (all zeros) and the other policies decide.

It never acts while the conversation is paused (queued or with an agent: Rasa
predicts nothing then anyway) or inside a form: a customer filling in the case
form is already on the way to a person, and in the satisfaction survey the
case is over; their mood still raises the ticket's priority at handoff.

escalation.yml is read when the model is loaded, not at training time, so a
change to the signals needs a restart but no retraining.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.constants import (
    ACTION_ANSWER_HUMAN_OFFER,
    ACTION_CANCEL_CASE,
    ACTION_OFFER_HUMAN,
    ACTION_RECORD_CSAT,
    ACTION_REQUEST_HANDOFF,
    ACTION_SESSION_START,
    FORM_CASE,
    FORM_CSAT,
    SLOT_HUMAN_OFFERED,
)
from bot.escalation.engine import load_default_policy
from bot.escalation.signals import (
    HANDOFF,
    OFFER,
    SentimentReader,
    SignalEvaluator,
    conversation_turns,
)
from bot.sentiment.analyzer import shared_analyzer

ACTION_LISTEN = "action_listen"
# Above RulePolicy (4), MemoizationPolicy (3) and TEDPolicy (1): a signal that
# fires outranks the rule that would otherwise answer or listen.
SIGNAL_POLICY_PRIORITY = 5
# What this policy predicts; the bot listens after either.
LISTEN_AFTER = frozenset({ACTION_REQUEST_HANDOFF, ACTION_OFFER_HUMAN})
# After these the bot is not answering a question, so an offer would not follow an answer.
NOT_AN_ANSWER = frozenset(
    {
        ACTION_REQUEST_HANDOFF,
        ACTION_OFFER_HUMAN,
        ACTION_ANSWER_HUMAN_OFFER,
        ACTION_RECORD_CSAT,
        ACTION_CANCEL_CASE,
        ACTION_SESSION_START,
        FORM_CASE,
        FORM_CSAT,
        "action_deactivate_loop",
        "action_restart",
    }
)


def _wire_events(events: Iterable[Event]) -> Iterator[Dict[str, Any]]:
    """The events `conversation_turns` reads, as the dicts it expects (cheaper than as_dict)."""
    for event in events:
        if isinstance(event, UserUttered):
            yield {"event": "user", "text": event.text, "parse_data": event.parse_data}
        elif isinstance(event, ActionExecuted):
            yield {"event": "action", "name": event.action_name}
        elif isinstance(event, SlotSet):
            if event.key == SLOT_HUMAN_OFFERED:
                yield {"event": "slot", "name": event.key, "value": event.value}
        elif isinstance(event, ConversationPaused):
            yield {"event": "pause"}
        elif isinstance(event, ConversationResumed):
            yield {"event": "resume"}
        elif isinstance(event, SessionStarted):
            yield {"event": "session_started"}
        elif isinstance(event, Restarted):
            yield {"event": "restart"}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class SignalEscalationPolicy(Policy):
    """Offers a person, or hands off, when escalation.yml's signals fire."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": SIGNAL_POLICY_PRIORITY}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        evaluator: SignalEvaluator | None = None,
        analyze: SentimentReader | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._evaluator = evaluator
        self._analyze = analyze

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SignalEscalationPolicy:
        """The policy ready to predict: escalation.yml read now, not at training time.

        Raises:
            EscalationConfigError: escalation.yml has mistakes (all of them are listed).
        """
        analyzer = shared_analyzer()
        return cls(
            config,
            model_storage,
            resource,
            execution_context,
            evaluator=load_default_policy().signal_evaluator,
            analyze=lambda text: analyzer.analyze(text).as_dict(),
        )

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        # Nothing to learn: the rules are escalation.yml's. The resource must exist
        # for the graph to load the policy from it.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self._action_for(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(self._default_predictions(domain))
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    def _action_for(self, tracker: DialogueStateTracker) -> str | None:
        if self._evaluator is None or tracker.is_paused() or tracker.active_loop_name:
            return None
        actions_since_message = _actions_since_latest_message(tracker.events)
        if actions_since_message is None:
            return None
        if actions_since_message and actions_since_message[-1] in LISTEN_AFTER:
            # The bot has said its piece. Without this, a handoff this policy chose (no
            # rule leads to it) would be followed by a low-confidence guess, i.e. the
            # core fallback, whenever the handoff could not pause the conversation.
            return ACTION_LISTEN
        if actions_since_message:
            # Only straight after the bot's one answer to the message.
            if len(actions_since_message) > 1 or actions_since_message[0] in NOT_AN_ANSWER:
                return None
        turns = conversation_turns(_wire_events(tracker.events), self._analyze)
        if not turns or turns[-1].offered_person:
            return None
        decision = self._evaluator.decide(turns)
        if decision.action == HANDOFF:
            return ACTION_REQUEST_HANDOFF
        if decision.action == OFFER and actions_since_message:
            return ACTION_OFFER_HUMAN
        return None


def _actions_since_latest_message(events: Iterable[Event]) -> List[str] | None:
    """The bot's actions since the customer's latest message, or None if there is none."""
    actions: List[str] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            return list(reversed(actions))
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN:
            actions.append(str(event.action_name))
    return None
