"""The NLU's time per customer message, and against another model in the same run.

Each message is parsed as the bot parses it (Rasa's Agent.parse_message: tokenizer,
featurizers with MiniLM, DIET, the selectors, the fallbacks, the second opinion on a
handoff, the sentiment annotator). With `--baseline OTHER.tar.gz` both models are loaded
into the one process and parse the same messages in alternating rounds (this model, the
baseline, this model, …), so that both see the same machine; the report gives each
model's p50, p95 and mean per message and the ratio of the means. A change to the
pipeline is judged by that ratio, not by figures from different runs (issue 21: at most
+10 %).

The messages are the hand-labelled ones of the frustration detector
(bot/sentiment/labelled/: 1 to 70 words, calm and angry, as customers type), a fixed
sample so that every run parses the same texts.
Run: `python -m benchmarks.nlu [--model M] [--baseline B] [--messages N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

from bot.sentiment.training_data import load_labelled

PROJECT = Path(__file__).resolve().parents[1]
MODEL = PROJECT / "models" / "baton.tar.gz"
SAMPLE_SEED = 7
DEFAULT_MESSAGES = 400
DEFAULT_ROUNDS = 3
# Parses before timing: TensorFlow traces its graphs on the first calls.
WARM_UP = 20


def sample_messages(count: int) -> List[str]:
    """The same `count` labelled messages on every run."""
    texts = sorted({message.text for message in load_labelled()})
    return random.Random(SAMPLE_SEED).sample(texts, min(count, len(texts)))


async def _timed_parses(agent: Any, texts: Sequence[str]) -> List[float]:
    seconds = []
    for text in texts:
        started = time.perf_counter()
        await agent.parse_message(text)
        seconds.append(time.perf_counter() - started)
    return seconds


async def _measure(
    models: Dict[str, Path], texts: Sequence[str], rounds: int
) -> Dict[str, List[float]]:
    from rasa.core.agent import Agent

    from bot.network_loading import build_networks_eagerly

    build_networks_eagerly()
    agents = {name: Agent.load(str(path)) for name, path in models.items()}
    for agent in agents.values():
        await _timed_parses(agent, texts[:WARM_UP])
    times: Dict[str, List[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, agent in agents.items():
            times[name] += await _timed_parses(agent, texts)
    return times


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(times: Dict[str, List[float]], models: Dict[str, Path]) -> str:
    """One line per model, then the ratio of the means when there are two."""
    lines = []
    for name, seconds in times.items():
        lines.append(
            f"  {name:<9} {models[name]}: {len(seconds)} parses, p50 "
            f"{1000 * statistics.median(seconds):.1f} ms, p95 "
            f"{1000 * _percentile(seconds, 0.95):.1f} ms, mean "
            f"{1000 * statistics.fmean(seconds):.1f} ms"
        )
    if "baseline" in times:
        ratio = statistics.fmean(times["model"]) / statistics.fmean(times["baseline"])
        lines.append(
            f"  model / baseline, mean per message: {ratio:.3f} ({100 * (ratio - 1):+.1f} %)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.nlu", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="default %(default)s")
    parser.add_argument("--baseline", type=Path, help="another model archive to compare with")
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    args = parser.parse_args(argv)
    for path in (args.model, args.baseline):
        if path is not None and not path.is_file():
            parser.error(f"{path} does not exist (make train builds models/baton.tar.gz)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa's per-message debug lines would cost more than what is measured.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    models = {"model": args.model}
    if args.baseline is not None:
        models["baseline"] = args.baseline
    texts = sample_messages(args.messages)
    started = time.monotonic()
    times = asyncio.run(_measure(models, texts, args.rounds))
    print(
        f"NLU parse time per message ({len(texts)} messages x {args.rounds} rounds, alternating):"
    )
    print(report(times, models))
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
