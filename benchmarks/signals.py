"""What the sentiment component and the signal policy cost per customer message.

The trained model (models/baton.tar.gz) is loaded as `rasa run` loads it, and
its two graph nodes (the SentimentAnnotator and the SignalEscalationPolicy) are
timed where they run: each node's function is wrapped with a clock. Each
customer message goes through what a real turn does in the graph: the NLU
parse (with sentiment), the prediction after the message, and the prediction
after the bot's answer. The actions themselves are not run (they live in the
action server); the predicted action is written to the tracker instead.

Per message it reports the two components' own time (their cost: the same
pipeline without them does everything else), the MiniLM sentence features' and
the nearest-examples vote's own time (timed the same way, reported apart: they
serve the FAQ answers, not the signals) and the whole graph's time, p50 and p95, over conversations
of 20
messages written by hand for the frustration detector (bot/sentiment/labelled/,
so moods vary as in real chats).
Run: `python -m benchmarks.signals`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from ruamel.yaml import YAML

from bot.network_loading import build_networks_eagerly
from bot.rasa_components.nearest_examples import NearestExamplesVote
from bot.rasa_components.sentence_embeddings import SentenceEmbeddingFeaturizer
from bot.rasa_components.sentiment_annotator import SentimentAnnotator
from bot.rasa_components.signal_policy import SignalEscalationPolicy

PROJECT = Path(__file__).resolve().parents[1]
MODEL = PROJECT / "models" / "baton.tar.gz"
LABELLED_MESSAGES = PROJECT / "bot" / "sentiment" / "labelled"
CONVERSATIONS = 15
MESSAGES_PER_CONVERSATION = 20
SIGNALS = "sentiment + signal policy"
SENTENCE_FEATURES = "MiniLM sentence features"
NEAREST_VOTE = "nearest-examples vote"
WHOLE = "whole graph"
TIMED_COMPONENTS = {
    SentimentAnnotator: SIGNALS,
    SignalEscalationPolicy: SIGNALS,
    SentenceEmbeddingFeaturizer: SENTENCE_FEATURES,
    NearestExamplesVote: NEAREST_VOTE,
}


class ComponentClock:
    """Adds up the time the timed graph nodes spend, until `take()` reads and resets it."""

    def __init__(self) -> None:
        self._spent = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._spent += time.perf_counter() - start

        return timed

    def take(self) -> float:
        spent, self._spent = self._spent, 0.0
        return spent


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def instrument(agent: Any, clocks: Dict[str, ComponentClock]) -> Dict[str, List[str]]:
    """Wraps the timed nodes' functions, each with its group's clock; the node names by group."""
    wrapped: Dict[str, List[str]] = {label: [] for label in clocks}
    for name, node in agent.processor.graph_runner._instantiated_nodes.items():
        label = TIMED_COMPONENTS.get(node._component_class)
        if label is not None:
            node._fn = clocks[label].wrap(node._fn)
            wrapped[label].append(name)
    return wrapped


async def measure(
    agent: Any,
    texts: List[str],
    clocks: Dict[str, ComponentClock],
    conversations: int = CONVERSATIONS,
) -> Dict[str, List[float]]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    processor = agent.processor
    actions = processor.domain.action_names_or_texts
    samples: Dict[str, List[float]] = {label: [] for label in (*clocks, WHOLE)}
    for conversation in range(conversations):
        sender = f"bench-{conversation}-of-{conversations}"
        # The session is started here: action_session_start is a custom action, and
        # the action server is not part of what is measured.
        tracker = await processor.get_tracker(sender)
        tracker.update_with_events(
            [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ],
            processor.domain,
        )
        await processor.save_tracker(tracker)
        for index in range(MESSAGES_PER_CONVERSATION):
            text = texts[(conversation * MESSAGES_PER_CONVERSATION + index) % len(texts)]
            for clock in clocks.values():
                clock.take()
            start = time.perf_counter()
            tracker = await processor.log_message(
                UserMessage(text, sender_id=sender), should_save_tracker=False
            )
            answer = processor._predict_next_with_tracker(tracker)
            tracker.update(ActionExecuted(actions[answer.max_confidence_index]))
            processor._predict_next_with_tracker(tracker)
            samples[WHOLE].append(time.perf_counter() - start)
            for label, clock in clocks.items():
                samples[label].append(clock.take())
            tracker.update(ActionExecuted("action_listen"))
            await processor.save_tracker(tracker)
    return samples


def main() -> None:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa's per-message debug lines would cost more than what is measured.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    texts = [
        message["text"]
        for path in sorted(LABELLED_MESSAGES.glob("*.yml"))
        for message in YAML(typ="safe").load(path.read_text())["messages"]
    ]
    build_networks_eagerly()
    agent = Agent.load(str(MODEL))
    clocks = {label: ComponentClock() for label in (SIGNALS, SENTENCE_FEATURES, NEAREST_VOTE)}
    nodes = instrument(agent, clocks)
    if (
        len(nodes[SIGNALS]) != 2
        or len(nodes[SENTENCE_FEATURES]) != 1
        or len(nodes[NEAREST_VOTE]) != 1
    ):
        raise SystemExit(
            "expected the sentiment, signal, sentence-feature and vote nodes in the model, found "
            f"{nodes}"
        )
    # One conversation first, untimed: the first parse builds TensorFlow's graphs.
    asyncio.run(measure(agent, texts[:5], clocks, conversations=1))
    samples = asyncio.run(measure(agent, texts, clocks))
    count = len(samples[WHOLE])
    print(
        f"signals: {count} messages in {CONVERSATIONS} conversations (parse + 2 predictions each)"
    )
    for label in (SIGNALS, SENTENCE_FEATURES, NEAREST_VOTE, WHOLE):
        values = samples[label]
        print(
            f"  {label}: p50 {percentile(values, 0.5) * 1000:.2f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.2f} ms, max {max(values) * 1000:.2f} ms"
        )
    for label in (SIGNALS, SENTENCE_FEATURES, NEAREST_VOTE):
        print(
            f"  {label}, share of the graph's time: {sum(samples[label]) / sum(samples[WHOLE]):.1%}"
        )


if __name__ == "__main__":
    main()
