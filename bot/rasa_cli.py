"""Rasa's command line (`rasa …`) with the trained networks loaded in a third of the time.

`python -m bot.rasa_cli test core …` is `rasa test core …` after
`build_networks_eagerly` (bot/network_loading.py): the same command,
arguments and results, for the commands that load a model (`make conversations`).
"""

from __future__ import annotations


def main() -> None:
    """Run Rasa's command line on this process's arguments."""
    from rasa.__main__ import main as rasa_main

    from bot.network_loading import build_networks_eagerly

    build_networks_eagerly()
    rasa_main()


if __name__ == "__main__":
    main()
