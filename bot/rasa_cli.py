"""Rasa's command line (`rasa …`), loading and training faster.

`python -m bot.rasa_cli test core …` is `rasa test core …` after
`build_networks_eagerly` (bot/network_loading.py): the same command,
arguments and results, for the commands that load a model (`make conversations`).
`python -m bot.rasa_cli train …` with `RASA_MAX_CACHE_SIZE=0` skips the bookkeeping
of Rasa's switched-off training cache (bot/graph_cache.py; `make train`).
"""

from __future__ import annotations


def main() -> None:
    """Run Rasa's command line on this process's arguments."""
    from rasa.__main__ import main as rasa_main

    from bot.graph_cache import skip_training_cache_when_disabled
    from bot.network_loading import build_networks_eagerly

    build_networks_eagerly()
    skip_training_cache_when_disabled()
    rasa_main()


if __name__ == "__main__":
    main()
