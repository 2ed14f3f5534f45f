"""The runtime tweaks the desk used to make (gc.freeze, the NLU parse off the loop) are made by
the Rasa server's own start-up, whatever channels it serves: here, none at all.

A real Sanic server of Rasa's (`rasa.core.run.configure_app`, no input channel, no desk),
started in this process with the listeners `connectors.rasa_server.serve` gives Rasa, and a
parser shaped like Rasa's MessageProcessor in the place Rasa puts its loaded agent.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import uuid
from types import SimpleNamespace

from rasa.core.run import configure_app
from sanic import Sanic

from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies
from connectors import rasa_server
from connectors.runtime import AFTER_SERVER_START


class ParsingProcessor:
    """The shape of Rasa's MessageProcessor that matters here: a parse that never awaits."""

    http_interpreter = None

    def __init__(self) -> None:
        self.threads: list = []

    async def parse_message(self, message: str, tracker=None, only_output_properties: bool = True):
        self.threads.append(threading.get_ident())
        return {"text": message}


def _listeners() -> list:
    return rasa_server.server_listeners(
        token=None,
        rasa_token=None,
        allow_remote=False,
        proxies=TrustedProxies(),
        limits=LimitSettings(),
    )


def test_the_server_start_up_carries_the_tweaks_after_the_model_is_loaded():
    events = [event for _, event in _listeners()]
    assert events == ["before_server_start", AFTER_SERVER_START]


async def test_without_the_desk_channel_the_model_is_frozen_and_parsing_leaves_the_loop():
    app = configure_app(input_channels=[], enable_api=False, server_listeners=_listeners())
    app.config.MOTD = False
    assert not any(route.path.startswith("desk") for route in app.router.routes)
    processor = ParsingProcessor()
    # Where Rasa's `load_agent_on_start` puts the loaded agent, before the server starts.
    app.ctx.agent = SimpleNamespace(processor=processor)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    server = await app.create_server(
        host="127.0.0.1", port=0, return_asyncio_server=True, debug=False
    )
    try:
        await server.startup()
        await server.before_start()
        await server.after_start()
        assert gc.get_freeze_count() > 0
        answer = await processor.parse_message(f"hello {uuid.uuid4().hex}")
        assert answer["text"].startswith("hello ")
        assert processor.threads and threading.get_ident() not in processor.threads
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        await server.before_stop()
        await server.after_stop()
        closing = server.close()
        if closing is not None:
            await asyncio.wait_for(closing, timeout=30)
        Sanic._app_registry.pop(app.name, None)  # Rasa's app name is fixed: free it for others
