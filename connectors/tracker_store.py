"""The tracker store Rasa loads by its dotted path in endpoints.yml.

endpoints.yml: `tracker_store: {type: connectors.tracker_store.TunedSQLTrackerStore, ...}`
with the same keys as Rasa's `type: SQL`. The store itself, and all of its SQL,
is `bot.tracker_store.sql`; this module only keeps the path endpoints.yml names.
"""

from bot.tracker_store.sql import TunedSQLTrackerStore, appendable_store, finish_without_awaiting

__all__ = ["TunedSQLTrackerStore", "appendable_store", "finish_without_awaiting"]
