"""`desk`: the agent side, as a channel in the Rasa server (docs/desk.md).

credentials.yml names it `connectors.desk.DeskInput`; the channel and its parts
live in the modules of this package.
"""

from connectors.desk.channel import DeskInput

__all__ = ["DeskInput"]
