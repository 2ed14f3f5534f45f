"""A fake webchat server: a test double for the widget's browser tests only.

It speaks the widget's side of the protocol (docs/widget.md) and nothing more:
`session_request` gets `session_confirm` + `history`, and each `user_uttered`
is echoed back as a `bot_uttered` with one quick reply. Tests send the hand-off
events of docs/desk.md (`baton_status`, `baton_typing`, an agent's `bot_uttered`)
with `emit`, and wait for what the widget sends with `wait_for`. It serves bot/web/ at the
same URL paths as the real channel, so the widget cannot tell the difference.
Tests against the real Rasa server use the same page objects (pages.py).
"""

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List

import socketio
from aiohttp import web

if TYPE_CHECKING:
    from tests.browser.fake_calls import FakeCalls

WEB_DIR = Path(__file__).resolve().parents[2] / "bot" / "web"
PREFIX = "/webhooks/webchat"
MAX_MESSAGE_CHARS = 2000
DEMO_TOKEN = "demo-token-C-1001"

# Messages that make the fake send something other than an echo.
SAY_IMAGE = "show me an image"
IMAGE_SRC = "/webhooks/webchat/demo/pixel.png"
SAY_REFUSED = "pretend this is too long"
# A 1x1 PNG, so image messages can load without any file on disk.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f7a6"
    "e30000000049454e44ae426082"
)


@dataclass
class Received:
    """One event the fake received from a widget."""

    event: str
    data: Dict[str, Any]


@dataclass
class FakeWebchatServer:
    """State of a running fake server, readable from the test thread."""

    url: str = ""
    allowed_origins: List[str] = field(default_factory=list)
    received: List[Received] = field(default_factory=list)
    connected: List[str] = field(default_factory=list)
    transcripts: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    sio: socketio.AsyncServer | None = None
    loop: asyncio.AbstractEventLoop | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)
    calls: "FakeCalls | None" = None  # set by tests.browser.fake_calls.CallFakes

    def record(self, event: str, data: Dict[str, Any]) -> None:
        """Keep one event a widget sent, and wake the tests waiting for it."""
        with self.arrived:
            self.received.append(Received(event, data))
            self.arrived.notify_all()

    def events(self, name: str) -> List[Dict[str, Any]]:
        """The payloads received for one event name, oldest first."""
        return [r.data for r in list(self.received) if r.event == name]

    def wait_for(
        self,
        name: str,
        predicate: Callable[[Dict[str, Any]], bool] = lambda data: True,
        start: int = 0,
        timeout: float = 10.0,
    ) -> int:
        """Wait until a `name` event from index `start` on matches; return its index."""

        def found() -> int:
            # One past the index: 0 (falsy) means "not yet" to Condition.wait_for.
            for index, data in enumerate(self.events(name)[start:], start):
                if predicate(data):
                    return index + 1
            return 0

        with self.arrived:
            past = self.arrived.wait_for(found, timeout=timeout)
        assert past, f"no matching {name!r} event from #{start} on: {self.events(name)}"
        return past - 1

    def emit(self, event: str, data: Any) -> None:
        """Send one event to every connected widget, as the channel would."""
        assert self.sio is not None and self.loop is not None

        async def _emit() -> None:
            for sid in list(self.connected):
                await self.sio.emit(event, data, room=sid)  # type: ignore[union-attr]

        asyncio.run_coroutine_threadsafe(_emit(), self.loop).result(timeout=5)

    def disconnect_all(self) -> None:
        """Hang up on every client, as a server restart would."""
        assert self.sio is not None and self.loop is not None

        async def _hang_up() -> None:
            for sid in list(self.connected):
                await self.sio.disconnect(sid)  # type: ignore[union-attr]

        asyncio.run_coroutine_threadsafe(_hang_up(), self.loop).result(timeout=5)


def _bot(text: str, **extra: Any) -> Dict[str, Any]:
    return {"text": text, **extra}


def _echo(message: str) -> Dict[str, Any]:
    if message == SAY_IMAGE:
        return {"attachment": {"type": "image", "payload": {"src": IMAGE_SRC}}}
    if len(message) > MAX_MESSAGE_CHARS or message == SAY_REFUSED:
        return {"text": "", "baton": {"notice": "message_too_long"}}
    if message.startswith("/"):
        return _bot(f"You chose {message}")
    return _bot(
        f"You said: {message}",
        quick_replies=[
            {"content_type": "text", "title": "Yes please", "payload": "/affirm"},
            {"content_type": "text", "title": "No thanks", "payload": "/deny"},
        ],
    )


def create_app(state: FakeWebchatServer) -> web.Application:
    """The aiohttp app: Socket.IO at /socket.io/ plus the widget's static files."""
    # Only the listed origins may connect (an empty list would turn the check off).
    sio = socketio.AsyncServer(
        async_mode="aiohttp", cors_allowed_origins=lambda origin: origin in state.allowed_origins
    )
    state.sio = sio
    app = web.Application()
    sio.attach(app, socketio_path="/socket.io/")

    @sio.event
    async def connect(sid: str, environ: Dict[str, Any]) -> None:
        state.connected.append(sid)

    @sio.event
    async def disconnect(sid: str) -> None:
        if sid in state.connected:
            state.connected.remove(sid)
        if state.calls is not None:
            await state.calls.customer_disconnected(sid)

    @sio.on("session_request")
    async def session_request(sid: str, data: Dict[str, Any]) -> None:
        state.record("session_request", data or {})
        wanted = (data or {}).get("session_id")
        # The server issues ids: an unknown one is replaced.
        session_id = wanted if wanted in state.transcripts else uuid.uuid4().hex
        state.transcripts.setdefault(session_id, [])
        await sio.emit("session_confirm", session_id, room=sid)
        await sio.emit("history", {"messages": state.transcripts[session_id]}, room=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Dict[str, Any]) -> None:
        state.record("user_uttered", data or {})
        session_id = data.get("session_id")
        message = str(data.get("message", ""))
        reply = _echo(message)
        transcript = state.transcripts.setdefault(session_id, [])
        transcript.append({"sender": "user", "text": message, "timestamp": time.time()})
        buttons = [
            {"title": q["title"], "payload": q["payload"]} for q in reply.get("quick_replies", [])
        ]
        if reply.get("text"):
            entry: Dict[str, Any] = {
                "sender": "bot",
                "text": reply["text"],
                "timestamp": time.time(),
            }
            if buttons:
                entry["buttons"] = buttons
            transcript.append(entry)
        await sio.emit("bot_uttered", reply, room=sid)

    @sio.on("baton_typing")
    async def baton_typing(sid: str, data: Dict[str, Any]) -> None:
        state.record("baton_typing", data or {})

    @sio.on("baton_call")
    async def baton_call(sid: str, data: Any) -> None:
        state.record("baton_call", data if isinstance(data, dict) else {"raw": data})
        if state.calls is not None:
            await state.calls.customer_signal(sid, data)

    async def file(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = (WEB_DIR / name).resolve()
        if WEB_DIR not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def demo(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "demo.html")

    async def demo_token(request: web.Request) -> web.Response:
        if request.query.get("customer") != "C-1001":
            raise web.HTTPNotFound()
        return web.json_response(
            {"token": DEMO_TOKEN, "customer": {"id": "C-1001", "name": "Jane Doe"}}
        )

    async def pixel(request: web.Request) -> web.Response:
        return web.Response(body=PIXEL_PNG, content_type="image/png")

    app.router.add_get(f"{PREFIX}/demo", demo)
    app.router.add_get(f"{PREFIX}/demo/token", demo_token)
    app.router.add_get(f"{PREFIX}/demo/pixel.png", pixel)
    app.router.add_get(PREFIX + "/{name:.+}", file)
    return app


class _Runner:
    """Runs aiohttp apps on 127.0.0.1 (free ports) in one background event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runners: List[web.AppRunner] = []

    def serve(self, app: web.Application) -> str:
        async def _start() -> str:
            runner = web.AppRunner(app)
            await runner.setup()
            # Open websockets would hold a graceful shutdown for a minute; tests need no grace.
            site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.5)
            await site.start()
            self._runners.append(runner)
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            return f"http://127.0.0.1:{port}"

        return asyncio.run_coroutine_threadsafe(_start(), self.loop).result(timeout=10)

    def close(self) -> None:
        async def _stop() -> None:
            for runner in self._runners:
                await runner.cleanup()
            # Engine.IO's ping tasks outlive their sockets for a while: end them here.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def host_page_app(widget_src: str, server: str) -> web.Application:
    """A page of another origin that embeds the widget with the one script tag."""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Partner shop</title>
<style>* {{ all: unset; }} div {{ position: static !important; }}
button {{ display: none; }}</style>
</head><body><h1>Partner shop</h1>
<script src="{widget_src}" data-server="{server}" data-title="Brightwave help" async></script>
</body></html>"""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    return app


class FakeServers:
    """The fake webchat server plus helpers to serve host pages of other origins."""

    def __init__(self) -> None:
        self._runner = _Runner()
        self.runner = self._runner  # shared with a FakeDesk by tests.browser.fake_calls
        self.state = FakeWebchatServer(loop=self._runner.loop)
        self.state.url = self._runner.serve(create_app(self.state))
        self.state.allowed_origins.append(self.state.url)

    def serve_host_page(self, allow: bool = True) -> str:
        """Start a page on another port (another origin) embedding the widget; return its URL."""
        url = self._runner.serve(
            host_page_app(f"{self.state.url}{PREFIX}/widget.js", self.state.url)
        )
        if allow:
            self.state.allowed_origins.append(url)
        return url + "/"

    def close(self) -> None:
        sio = self.state.sio
        assert sio is not None
        # Disconnect the clients and stop the ping tasks before the sockets close.
        asyncio.run_coroutine_threadsafe(sio.shutdown(), self._runner.loop).result(timeout=5)
        self._runner.close()
