"""Rasa's training cache, off for good when it is switched off.

`rasa train` keeps each component's output in `.rasa/cache`, so that a later training
can skip what did not change. To know what changed, after every component it
fingerprints the component's whole output: after each featurizer, every training
example with all its features. It does so even when the cache is switched off
(`RASA_MAX_CACHE_SIZE=0`), and then throws the fingerprint away: in a profile, about 25 s of a
5-minute training on 2 cores (docs/benchmarks.md, issue 20).

Our model cache (tools/model_cache.py) already decides whether the model must be
trained at all, and retrains it whole; the evaluation's models are throwaway. So
where the cache is off, `skip_training_cache_when_disabled()` makes Rasa's training
hook do nothing: the same components run on the same inputs, and only the
bookkeeping for a cache that keeps nothing is gone. With the cache on (Rasa's default,
for someone running `rasa train` on variants of config.yml), nothing changes.
"""

from __future__ import annotations

import os
from typing import Any, Dict

# Rasa's switch for its cache (rasa/engine/caching.py): its size in MB; 0 turns it off.
CACHE_SIZE_VARIABLE = "RASA_MAX_CACHE_SIZE"


def training_cache_disabled() -> bool:
    """Whether Rasa's training cache is switched off, as Rasa itself reads the setting."""
    value = os.environ.get(CACHE_SIZE_VARIABLE)
    if value is None:
        return False
    try:
        return float(value) == 0.0
    except ValueError:
        return False  # Rasa refuses the value itself, with its own message


def skip_training_cache_when_disabled() -> bool:
    """Makes Rasa's training skip its cache's bookkeeping if the cache is off.

    Process-wide and idempotent. Returns whether the training hook was replaced.
    """
    if not training_cache_disabled():
        return False
    from rasa.engine.training import graph_trainer

    # The trainer looks the hook up by this name when it trains.
    graph_trainer.TrainingHook = _NoCacheTrainingHook
    return True


class _NoCacheTrainingHook:
    """Rasa's training hook, for a cache that keeps nothing: it computes nothing."""

    def __init__(self, **_: Any) -> None:
        pass

    def on_before_node(self, *_: Any, **__: Any) -> Dict[str, Any]:
        return {}

    def on_after_node(self, *_: Any, **__: Any) -> None:
        return None
