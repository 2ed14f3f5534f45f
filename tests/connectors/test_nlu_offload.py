"""Rasa's parse runs beside the event loop, one at a time, with the same answer."""

from __future__ import annotations

import asyncio
import threading

from bot.limits.pool import PoolBusy
from connectors.nlu_offload import offload_parsing


class ParsingProcessor:
    """The shape of Rasa's MessageProcessor that matters here: a parse that never awaits."""

    http_interpreter = None

    def __init__(self) -> None:
        self.threads: list = []
        self.running = 0
        self.most_at_once = 0

    async def parse_message(self, message: str, tracker=None, only_output_properties: bool = True):
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.threads.append(threading.get_ident())
        self.running -= 1
        return {"text": message, "intent": {"name": "greet"}, "only": only_output_properties}


async def test_parsing_leaves_the_loop_and_answers_the_same():
    processor = ParsingProcessor()
    assert offload_parsing(processor, 100) is True
    answers = await asyncio.gather(
        *(processor.parse_message(f"hi {n}", only_output_properties=False) for n in range(20))
    )
    assert [answer["text"] for answer in answers] == [f"hi {n}" for n in range(20)]
    assert all(answer["only"] is False for answer in answers)
    assert threading.get_ident() not in processor.threads
    assert processor.most_at_once == 1
    # Installed once; a second call changes nothing.
    assert offload_parsing(processor, 100) is False


async def test_a_flood_waits_no_longer_than_the_queue_and_the_rest_is_refused_at_once():
    release = threading.Event()

    class SlowProcessor(ParsingProcessor):
        async def parse_message(
            self, message: str, tracker=None, only_output_properties: bool = True
        ):
            release.wait(30)  # held until every parse has asked for the thread
            return await super().parse_message(message, tracker, only_output_properties)

    processor = SlowProcessor()
    assert offload_parsing(processor, 3) is True
    parses = [asyncio.ensure_future(processor.parse_message(f"hi {n}")) for n in range(10)]
    await asyncio.sleep(0)  # every parse reaches the pool: one running, three waiting, six refused
    release.set()
    outcomes = await asyncio.gather(*parses, return_exceptions=True)
    assert [isinstance(outcome, PoolBusy) for outcome in outcomes] == [False] * 4 + [True] * 6
    assert [outcome["text"] for outcome in outcomes[:4]] == ["hi 0", "hi 1", "hi 2", "hi 3"]


def test_a_remote_nlu_server_is_left_alone():
    processor = ParsingProcessor()
    processor.http_interpreter = object()
    assert offload_parsing(processor, 100) is False
    assert offload_parsing(None, 100) is False
