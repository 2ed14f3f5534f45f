"""Many handed-off conversations at once: shared by the relay load test and `make bench`.

Customers are socket.io clients (the widget's protocol); a room of agents (at most
25 chats each) accept them and speak through the HTTP API; a supervisor's console
listens on the live socket, which carries every conversation's messages.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import aiohttp

from tests.e2e.desk_client import DeskClient, LiveSocket, create_agent
from tests.e2e.widget_client import WidgetClient

CHATS_PER_AGENT = 25


@dataclass
class Conversation:
    customer: WidgetClient
    conversation_id: str
    # The HTTP session of the agent who took it.
    agent_http: aiohttp.ClientSession | None = None
    # (text, monotonic time sent) per side, in sending order
    customer_sent: List[Tuple[str, float]] = field(default_factory=list)
    agent_sent: List[Tuple[str, float]] = field(default_factory=list)
    # (text, monotonic time received) per side, in arrival order
    agent_received: List[Tuple[str, float]] = field(default_factory=list)
    customer_received: List[Tuple[str, float]] = field(default_factory=list)


@dataclass
class Floor:
    """The load's participants: conversations, the agent's desk and its live socket."""

    server: Any
    live: LiveSocket
    agent_sessions: List[aiohttp.ClientSession]
    conversations: Dict[str, Conversation]
    handoff_seconds: List[float]

    async def close(self) -> None:
        for http in self.agent_sessions:
            await http.close()
        await self.live.__aexit__()
        await asyncio.gather(*(c.customer.__aexit__() for c in self.conversations.values()))


async def open_floor(server: Any, count: int, concurrency: int = 10) -> Floor:
    """`count` customers who asked for a person, accepted by agents of 25 chats each.

    `handoff_seconds` holds, per customer, the time from sending "I want to talk
    to a human" to the console's `queue_changed` for it.
    """
    # Capacity 0: the supervisor watches; the router never offers them a chat.
    watcher_desk = _signed_in(server, "Load Supervisor", role="supervisor", capacity=0)
    live = LiveSocket(server.url, watcher_desk.cookie_header())
    await live.__aenter__()
    conversations: Dict[str, Conversation] = {}
    handoff_seconds: List[float] = []
    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    # conversation id → when the console heard of its handoff
    queued: Dict[str, asyncio.Future] = defaultdict(loop.create_future)

    async def hand_off() -> None:
        async with gate:
            customer = WidgetClient(server.url)
            await customer.__aenter__()
            queued[customer.session_id]  # type: ignore[index]  # created before it can arrive
            await customer.send(
                {"message": "I want to talk to a human", "session_id": customer.session_id}
            )
            sent = time.monotonic()
            reply = await customer.next_message()
            assert "CS-" in reply["text"], reply
            appeared = await queued[customer.session_id]
            handoff_seconds.append(appeared - sent)
            conversations[customer.session_id] = Conversation(customer, customer.session_id)  # type: ignore[index]

    async def watch_queue() -> None:
        while True:
            event = await live.next_of("queue_changed")
            future = queued[event.get("conversation_id")] if event.get("conversation_id") else None
            if future is not None and not future.done():
                future.set_result(time.monotonic())

    watcher = asyncio.get_running_loop().create_task(watch_queue())
    try:
        await asyncio.gather(*(hand_off() for _ in range(count)))
    finally:
        watcher.cancel()
    agent_sessions: List[aiohttp.ClientSession] = []
    for index, conversation in enumerate(conversations.values()):
        if index % CHATS_PER_AGENT == 0:
            desk = _signed_in(
                server,
                f"Load Agent {len(agent_sessions) + 1}",
                role="supervisor",
                capacity=CHATS_PER_AGENT,
            )
            agent_sessions.append(
                aiohttp.ClientSession(
                    headers={"Cookie": desk.cookie_header(), "X-CSRF-Token": desk.csrf_token or ""}
                )
            )
        conversation.agent_http = agent_sessions[-1]
        url = f"{server.url}/desk/api/conversations/{conversation.conversation_id}/accept"
        async with conversation.agent_http.post(url) as accepted:
            assert accepted.status == 200, await accepted.text()
    return Floor(server, live, agent_sessions, conversations, handoff_seconds)


def _signed_in(server: Any, name: str, **agent: Any) -> DeskClient:
    record = create_agent(server.database_url, name=name, **agent)
    desk = DeskClient(server.url)
    answer = desk.login(record.email)
    assert answer.status_code == 200, answer.text
    return desk


async def exchange(floor: Floor, per_side: int, interval: float) -> None:
    """Each side of each conversation sends `per_side` messages, one every `interval` seconds.

    Conversations start staggered over one interval, so the load is even. With
    `interval` 0 every message goes as soon as the previous one was sent.
    """
    conversations = list(floor.conversations.values())
    by_id = floor.conversations
    expected = len(conversations) * per_side

    async def collect_agent_side() -> None:
        received = 0
        while received < expected:
            event = await floor.live.next_of("message")
            message = event["message"]
            conversation = by_id.get(event["conversation_id"])
            if conversation is None or message["sender"] != "customer":
                continue
            conversation.agent_received.append((message["text"], time.monotonic()))
            received += 1

    async def collect_customer_side(conversation: Conversation) -> None:
        while len(conversation.customer_received) < per_side:
            message = await conversation.customer.next_message()
            if not (message.get("baton") or {}).get("agent"):
                continue  # the bot's own words (e.g. a second line of the handoff reply)
            conversation.customer_received.append((message["text"], time.monotonic()))

    async def customer_talks(conversation: Conversation, offset: float) -> None:
        await asyncio.sleep(offset)  # pacing the load generator, not timing a behaviour
        for index in range(per_side):
            text = f"customer {conversation.conversation_id[:8]} #{index}"
            conversation.customer_sent.append((text, time.monotonic()))
            await conversation.customer.send(
                {"message": text, "session_id": conversation.conversation_id}
            )
            await asyncio.sleep(interval)

    async def agent_talks(conversation: Conversation, offset: float) -> None:
        await asyncio.sleep(offset + interval / 2)
        url = f"{floor.server.url}/desk/api/conversations/{conversation.conversation_id}/messages"
        for index in range(per_side):
            text = f"agent {conversation.conversation_id[:8]} #{index}"
            conversation.agent_sent.append((text, time.monotonic()))
            assert conversation.agent_http is not None
            async with conversation.agent_http.post(url, json={"text": text}) as answer:
                assert answer.status == 201, await answer.text()
            await asyncio.sleep(interval)

    step = interval / max(len(conversations), 1)
    await asyncio.gather(
        collect_agent_side(),
        *(collect_customer_side(conversation) for conversation in conversations),
        *(
            customer_talks(conversation, index * step)
            for index, conversation in enumerate(conversations)
        ),
        *(
            agent_talks(conversation, index * step)
            for index, conversation in enumerate(conversations)
        ),
    )


def latencies(floor: Floor) -> Tuple[List[float], List[float]]:
    """Seconds customer → agent and agent → customer, per message."""
    to_agent: List[float] = []
    to_customer: List[float] = []
    for conversation in floor.conversations.values():
        sent = dict(conversation.customer_sent)
        to_agent += [at - sent[text] for text, at in conversation.agent_received if text in sent]
        sent = dict(conversation.agent_sent)
        to_customer += [
            at - sent[text] for text, at in conversation.customer_received if text in sent
        ]
    return to_agent, to_customer
