"""Rasa's NLU parse, run beside the event loop instead of on it.

`MessageProcessor.parse_message` is a coroutine whose work (the NLU graph: the
featurizers, DIET, the response selector) runs synchronously inside it: about
ten milliseconds per message during which the Rasa server's one event loop does
nothing else, not even relay another conversation's message to an agent. Here
each parse runs in a single worker thread (one at a time, as before, so the
model never runs twice at once), and the loop stays free while it does.

The thread serves every conversation, so its queue is bounded
(`BATON_LIMIT_NLU_QUEUE`): past it a parse is refused at once with `PoolBusy`
(the channel tells the customer to send it again in a moment) rather than made
to wait behind a flood, with everyone else's.

Installed on the processor once the model is loaded (`offload_parsing`). A model
replaced at run time (`PUT /model`) comes with a new processor that parses on
the loop again, as plain Rasa does.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.limits.pool import BoundedPool
from bot.tracker_store.sql import finish_without_awaiting

logger = logging.getLogger(__name__)

_OFFLOADED = "_baton_parse_offloaded"


def offload_parsing(processor: Any, queue_limit: int) -> bool:
    """Make `processor.parse_message` run in a worker thread; False when it can't.

    Args:
        processor: Rasa's MessageProcessor.
        queue_limit: parses that may wait for the thread; one more raises `PoolBusy`.

    A processor with an HTTP interpreter (NLU in another server) awaits real I/O
    and is left alone.
    """
    if processor is None or getattr(processor, _OFFLOADED, False):
        return False
    if getattr(processor, "http_interpreter", None) is not None:
        return False
    parse_on_loop = processor.parse_message
    worker = BoundedPool(1, queue_limit, "nlu")

    async def parse_message(*args: Any, **kwargs: Any) -> Any:
        return await worker.run(lambda: finish_without_awaiting(parse_on_loop(*args, **kwargs)))

    processor.parse_message = parse_message
    setattr(processor, _OFFLOADED, True)
    logger.info("nlu.parse.offloaded")
    return True
