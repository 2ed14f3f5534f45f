"""Process-wide tweaks of the Rasa server, made once the model is loaded, whatever the channels.

Two changes to how the one process runs, measured in docs/benchmarks.md and kept
whatever channels credentials.yml configures (connectors/rasa_server.py installs
them at start-up, not a channel):

- `gc.freeze()`: the loaded model is hundreds of thousands of long-lived objects
  that every full garbage collection would walk again, stopping the event loop for
  a few hundred milliseconds mid-chat. Frozen, the collector skips them.
- `offload_parsing` (connectors/nlu_offload.py): Rasa's NLU parse runs in one worker
  thread beside the event loop, its queue bounded by `BATON_LIMIT_NLU_QUEUE`.
"""

from __future__ import annotations

import gc
import logging
from typing import Any, Awaitable, Callable

from bot.limits.settings import LimitSettings
from connectors.nlu_offload import offload_parsing

logger = logging.getLogger(__name__)

# Sanic's event after which the model is loaded (Rasa loads it before the server starts).
AFTER_SERVER_START = "after_server_start"

Listener = Callable[[Any, Any], Awaitable[None]]


def tune_loaded_process(app: Any, limits: LimitSettings) -> None:
    """Freeze the loaded objects and take the NLU parse off the event loop.

    Args:
        app: the Rasa server's Sanic app; its `ctx.agent` is Rasa's loaded agent
            (none yet: only the freeze is done).
        limits: the NLU queue's bound (`nlu_queue`).
    """
    gc.freeze()
    logger.info("runtime.gc.frozen objects=%d", gc.get_freeze_count())
    rasa_agent = getattr(app.ctx, "agent", None)
    offload_parsing(getattr(rasa_agent, "processor", None), limits.nlu_queue)


def after_start_listener(limits: LimitSettings) -> Listener:
    """A Sanic `after_server_start` listener that makes the tweaks (`tune_loaded_process`)."""

    async def tune_after_start(app: Any, _loop: Any) -> None:
        tune_loaded_process(app, limits)

    return tune_after_start
