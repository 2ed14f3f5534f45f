"""An agent's side of the desk for tests: the HTTP API with a session, and the live socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any, Dict, List

import requests
import websockets

from bot.db import make_engine, make_session_factory
from bot.desk.agents import AgentDirectory
from bot.desk.records import AgentRecord

LIVE_TIMEOUT_SECONDS = 30
TEST_PASSWORD = "correct horse battery staple"


def create_agent(
    database_url: str,
    *,
    name: str,
    role: str = "agent",
    teams: tuple = (),
    capacity: int = 3,
    status: str = "online",
) -> AgentRecord:
    """A new agent with a unique e-mail address and `TEST_PASSWORD`, straight into the store."""
    engine = make_engine(database_url)
    try:
        directory = AgentDirectory(make_session_factory(engine))
        now = dt.datetime.now(dt.timezone.utc)
        agent = directory.create_agent(
            email=f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}@example.com",
            name=name,
            password=TEST_PASSWORD,
            role=role,
            teams=teams,
            capacity=capacity,
            now=now,
        )
        if status != agent.status:
            agent = directory.set_status(agent.id, status, now)
        return agent
    finally:
        engine.dispose()


class DeskClient:
    """One signed-in console: `call` sends the CSRF header on writes, as the console does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf_token: str | None = None
        self.agent: Dict[str, Any] | None = None

    def login(self, email: str, password: str = TEST_PASSWORD) -> requests.Response:
        answer = self.http.post(
            f"{self.base_url}/desk/api/login",
            json={"email": email, "password": password},
            timeout=30,
        )
        if answer.status_code == 200:
            self.csrf_token = answer.json()["csrf_token"]
            self.agent = answer.json()["agent"]
        return answer

    def call(
        self, method: str, path: str, body: Any = None, csrf: bool = True
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf_token} if csrf and self.csrf_token else {}
        return self.http.request(
            method, f"{self.base_url}/desk/api{path}", json=body, headers=headers, timeout=30
        )

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.http.cookies)


class LiveSocket:
    """The console's WebSocket: collects every event the desk pushes."""

    def __init__(self, base_url: str, cookie: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/desk/api/live"
        self.cookie = cookie
        self.events: asyncio.Queue = asyncio.Queue()
        self._socket: Any = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> LiveSocket:
        self._socket = await websockets.connect(self.url, extra_headers={"Cookie": self.cookie})
        self._reader = asyncio.get_running_loop().create_task(self._read())
        # A ping answered means the server registered this console.
        await self._socket.send(json.dumps({"type": "ping"}))
        await self.next_of("pong")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self._socket.close()

    async def _read(self) -> None:
        async for text in self._socket:
            self.events.put_nowait(json.loads(text))

    async def next_of(self, kind: str, **match: Any) -> Dict[str, Any]:
        """The next event of `kind` whose fields equal `match` (others are skipped)."""
        while True:
            event = await asyncio.wait_for(self.events.get(), LIVE_TIMEOUT_SECONDS)
            if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    async def messages(
        self, conversation_id: str, count: int, sender: str = "customer"
    ) -> List[Dict[str, Any]]:
        """The next `count` messages of `sender` in one conversation."""
        found = []
        while len(found) < count:
            event = await self.next_of("message", conversation_id=conversation_id)
            if event["message"]["sender"] == sender:
                found.append(event["message"])
        return found
