"""The live relay under load: 100 handed-off conversations, both sides talking.

Starts the product as `make run` does (`bot run`, embedded SQLite), hands off
100 customers (socket.io clients speaking the widget's protocol), has one
supervisor accept them all, then every customer and the agent in every
conversation send a message every 4 s (50 messages/s in all) for a while.

Measures, on loopback:
- relay latency customer → agent (customer's emit to the console's WebSocket
  event) and agent → customer (the agent's POST to the widget's socket.io event);
- how long a new handoff takes to appear in the console (the customer's request
  to the console's `queue_changed` for it).

Run: `python -m benchmarks.relay`.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import List

from tests.baton_server import ONE_ADDRESS_FOR_EVERYBODY, start_baton_server
from tests.e2e.relay_load import exchange, latencies, open_floor

CONVERSATIONS = 100
INTERVAL_SECONDS = 4.0
MESSAGES_PER_SIDE = 10


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def milliseconds(samples: List[float]) -> str:
    return (
        f"p50 {percentile(samples, 0.5) * 1000:.1f} ms, p95 "
        f"{percentile(samples, 0.95) * 1000:.1f} ms, "
        f"max {max(samples) * 1000:.1f} ms ({len(samples)} messages)"
    )


async def measure(server) -> None:
    # Handoffs one after the other: each is timed alone, as a customer would see it.
    floor = await open_floor(server, CONVERSATIONS, concurrency=1)
    try:
        await exchange(floor, MESSAGES_PER_SIDE, INTERVAL_SECONDS)
        to_agent, to_customer = latencies(floor)
    finally:
        await floor.close()
    expected = CONVERSATIONS * MESSAGES_PER_SIDE
    print("| measure | result |")
    print("|---|---|")
    print(
        f"| new handoff → console (`queue_changed`), {CONVERSATIONS} handoffs, one at a time | "
        f"{milliseconds(floor.handoff_seconds).replace('messages', 'handoffs')} |"
    )
    print(
        f"| customer → agent, {CONVERSATIONS} conversations, each side every "
        f"{INTERVAL_SECONDS:.0f} s | {milliseconds(to_agent)} |"
    )
    print(f"| agent → customer, same load | {milliseconds(to_customer)} |")
    print(
        f"| lost | customer → agent {expected - len(to_agent)}, agent → customer "
        f"{expected - len(to_customer)} |"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = start_baton_server(Path(folder), extra_env=ONE_ADDRESS_FOR_EVERYBODY)
        try:
            asyncio.run(measure(server))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
