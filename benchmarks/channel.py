"""Baton's webchat channel against Rasa's own socketio channel, on the same trained model.

Starts one action server and two Rasa servers (Baton's channel with the embedded
SQLite tracker store; Rasa's socketio channel with an in-memory tracker store),
then measures, for each, with socket.io clients on loopback:

- reply latency p50/p95 for FAQ messages in a single conversation;
- p95 at an offered load of 10 messages/s spread over 50 conversations;
- saturation throughput with 16 conversations sending back to back;
- the Rasa server's resident memory afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import requests
import socketio

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "baton.tar.gz"
FAQ_QUESTIONS = [
    "how do I return an item",
    "how long does delivery take",
    "what are your opening hours",
    "do you charge for delivery",
    "how do I change my wifi password",
    "can I use my phone abroad",
    "how do I set up a direct debit",
    "is there an outage in my area",
]
SINGLE_CONVERSATION_MESSAGES = 60
OFFERED_RATE_PER_SECOND = 10
OFFERED_CONVERSATIONS = 50
OFFERED_DURATION_SECONDS = 30
SATURATION_CONVERSATIONS = 16
SATURATION_DURATION_SECONDS = 30
REPLY_TIMEOUT_SECONDS = 60
STARTUP_DEADLINE_SECONDS = 240


@dataclass
class ChannelResult:
    name: str
    single_p50_ms: float = 0.0
    single_p95_ms: float = 0.0
    offered_p95_ms: float = 0.0
    offered_lost: int = 0
    saturation_per_second: float = 0.0
    rss_mb: float = 0.0
    notes: List[str] = field(default_factory=list)


class Conversation:
    """One socket.io client, as a widget: session_request, then messages and replies."""

    def __init__(self, url: str, persistent_session: bool) -> None:
        self.url = url
        self.persistent_session = persistent_session
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.session_id: str | None = None
        self._confirmed: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", self.replies.put_nowait)
        self.sio.on("session_confirm", self._confirmed.put_nowait)

    async def open(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": None})
        self.session_id = await asyncio.wait_for(self._confirmed.get(), REPLY_TIMEOUT_SECONDS)

    async def ask(self, text: str) -> float:
        """Seconds from sending to the first reply."""
        while not self.replies.empty():  # replies to an earlier message, split in parts
            self.replies.get_nowait()
        started = time.perf_counter()
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT_SECONDS)
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.sio.disconnect()


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def single_conversation(url: str, persistent: bool) -> List[float]:
    conversation = Conversation(url, persistent)
    await conversation.open()
    questions = itertools.cycle(FAQ_QUESTIONS)
    # Two warm-up messages: the first parse of a process loads lazily.
    for _ in range(2):
        await conversation.ask(next(questions))
    latencies = [
        await conversation.ask(next(questions)) for _ in range(SINGLE_CONVERSATION_MESSAGES)
    ]
    await conversation.close()
    return latencies


async def offered_load(url: str, persistent: bool) -> tuple[List[float], int]:
    conversations = [Conversation(url, persistent) for _ in range(OFFERED_CONVERSATIONS)]
    await asyncio.gather(*(conversation.open() for conversation in conversations))
    interval = OFFERED_CONVERSATIONS / OFFERED_RATE_PER_SECOND  # each conversation's period
    latencies: List[float] = []
    lost = 0

    async def speak(index: int, conversation: Conversation) -> None:
        nonlocal lost
        await asyncio.sleep(index * interval / OFFERED_CONVERSATIONS)  # stagger the starts
        questions = itertools.cycle(FAQ_QUESTIONS[index % len(FAQ_QUESTIONS) :] + FAQ_QUESTIONS)
        deadline = time.perf_counter() + OFFERED_DURATION_SECONDS
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                latencies.append(await conversation.ask(next(questions)))
            except asyncio.TimeoutError:
                lost += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    await asyncio.gather(*(speak(index, c) for index, c in enumerate(conversations)))
    await asyncio.gather(*(conversation.close() for conversation in conversations))
    return latencies, lost


async def saturation(url: str, persistent: bool) -> float:
    conversations = [Conversation(url, persistent) for _ in range(SATURATION_CONVERSATIONS)]
    await asyncio.gather(*(conversation.open() for conversation in conversations))
    answered = 0
    deadline = time.perf_counter() + SATURATION_DURATION_SECONDS
    started = time.perf_counter()

    async def hammer(index: int, conversation: Conversation) -> None:
        nonlocal answered
        questions = itertools.cycle(FAQ_QUESTIONS[index % len(FAQ_QUESTIONS) :] + FAQ_QUESTIONS)
        while time.perf_counter() < deadline:
            await conversation.ask(next(questions))
            answered += 1

    await asyncio.gather(*(hammer(index, c) for index, c in enumerate(conversations)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(conversation.close() for conversation in conversations))
    return answered / elapsed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def start(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def measure(name: str, url: str, process: subprocess.Popen, persistent: bool) -> ChannelResult:
    result = ChannelResult(name)
    single = asyncio.run(single_conversation(url, persistent))
    result.single_p50_ms = statistics.median(single) * 1000
    result.single_p95_ms = percentile(single, 0.95) * 1000
    offered, lost = asyncio.run(offered_load(url, persistent))
    result.offered_p95_ms = percentile(offered, 0.95) * 1000 if offered else float("nan")
    result.offered_lost = lost
    result.saturation_per_second = asyncio.run(saturation(url, persistent))
    result.rss_mb = rss_mb(process.pid)
    return result


def run(workdir: Path) -> List[ChannelResult]:
    from tests.baton_server import ONE_ADDRESS_FOR_EVERYBODY, free_port

    rasa = str(Path(sys.executable).parent / "rasa")
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": f"sqlite:///{workdir / 'baton.db'}",
        "BATON_JWT_SECRET": "bench-" + "b" * 40,
        # The load comes from one address and, at saturation, from sockets sending as
        # fast as they are answered: the budgets would refuse it, which is their job
        # (tested apart), not what is measured here.
        **ONE_ADDRESS_FOR_EVERYBODY,
        "BATON_LIMIT_WEBCHAT_MESSAGES_PER_SOCKET": "100000/60",
    }
    actions_port, baton_port, baseline_port = free_port(), free_port(), free_port()
    (workdir / "baton-endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "tracker_store:\n  type: connectors.tracker_store.TunedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n"
    )
    (workdir / "baseline-endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
    )
    # Rasa's socketio channel, without session persistence: with it, Rasa 3.6
    # loses replies (RasaHQ/rasa#13027), so the baseline runs the way that works.
    (workdir / "baseline-credentials.yml").write_text("socketio:\n  session_persistence: false\n")
    actions = start(
        [rasa, "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        env,
        workdir / "actions.log",
    )
    results: List[ChannelResult] = []
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions)
        servers = [
            (
                "Baton webchat (SQLite tracker)",
                baton_port,
                True,
                "/webhooks/webchat/",
                [
                    "--credentials",
                    "credentials.yml",
                    "--endpoints",
                    str(workdir / "baton-endpoints.yml"),
                ],
            ),
            (
                "Rasa socketio (in-memory tracker)",
                baseline_port,
                False,
                "/webhooks/socketio/",
                [
                    "--credentials",
                    str(workdir / "baseline-credentials.yml"),
                    "--endpoints",
                    str(workdir / "baseline-endpoints.yml"),
                ],
            ),
        ]
        for name, port, persistent, health, extra in servers:
            server = start(
                [rasa, "run", "--model", str(MODEL), "--port", str(port), *extra],
                env,
                workdir / f"server-{port}.log",
            )
            try:
                wait_until_up(f"http://127.0.0.1:{port}{health}", server)
                print(f"bench: measuring {name} …", flush=True)
                results.append(measure(name, f"http://127.0.0.1:{port}", server, persistent))
            finally:
                server.terminate()
                server.wait()
    finally:
        actions.terminate()
        actions.wait()
    return results


def training_seconds(workdir: Path) -> float:
    rasa = str(Path(sys.executable).parent / "rasa")
    started = time.perf_counter()
    subprocess.run(
        [rasa, "train", "--force", "--out", str(workdir / "models")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def report(results: List[ChannelResult], train_seconds: float | None) -> str:
    baton, baseline = results
    rows = [
        ("single conversation p50 (ms)", baton.single_p50_ms, baseline.single_p50_ms),
        ("single conversation p95 (ms)", baton.single_p95_ms, baseline.single_p95_ms),
        (
            f"p95 at {OFFERED_RATE_PER_SECOND} msg/s over {OFFERED_CONVERSATIONS} conversations "
            "(ms)",
            baton.offered_p95_ms,
            baseline.offered_p95_ms,
        ),
        (
            f"saturation, {SATURATION_CONVERSATIONS} conversations (msg/s)",
            baton.saturation_per_second,
            baseline.saturation_per_second,
        ),
        ("Rasa server RSS after the run (MB)", baton.rss_mb, baseline.rss_mb),
    ]
    lines = [
        f"| measure | {baton.name} | {baseline.name} | Baton ÷ baseline |",
        "|---|---:|---:|---:|",
    ]
    for label, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("nan")
        lines.append(f"| {label} | {ours:.1f} | {theirs:.1f} | {ratio:.2f} |")
    lines.append(
        f"| replies lost under offered load | {baton.offered_lost} | {baseline.offered_lost} | |"
    )
    if train_seconds is not None:
        lines.append(f"\nFull training (`rasa train --force`): {train_seconds:.0f} s")
    return "\n".join(lines)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as directory:
        workdir = Path(directory)
        results = run(workdir)
        train = None if os.environ.get("BATON_BENCH_SKIP_TRAINING") else training_seconds(workdir)
    print(report(results, train))
    return 0


if __name__ == "__main__":
    sys.exit(main())
