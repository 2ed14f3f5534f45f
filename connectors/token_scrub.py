"""Customer tokens never rest in the tracker store; this removes the ones already there.

`python -m connectors.token_scrub --endpoints endpoints.yml` finds the SQL tracker
store endpoints.yml configures (inside Rasa's wrappers) and runs
`bot.tracker_store.token_scrub.scrub_stored_tokens` on it, even if it was done
already. The store does it by itself, once, when it first opens a database; this
is for running it again by hand. It is idempotent.
"""

from __future__ import annotations

import argparse
import sys
from typing import List

from bot.tracker_store.token_scrub import scrub_stored_tokens


def main(argv: List[str] | None = None) -> int:
    """Scrub the tracker store of an endpoints file; 2 when that store is not SQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", default="endpoints.yml", help="Rasa's endpoints file")
    args = parser.parse_args(argv)
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    store = TrackerStore.create(endpoints.tracker_store)
    while (
        not isinstance(store, SQLTrackerStore)
        and getattr(store, "_tracker_store", None) is not None
    ):
        store = store._tracker_store  # Rasa's fail-safe and lock wrappers
    if not isinstance(store, SQLTrackerStore):
        print(f"{args.endpoints}: the tracker store is not SQL; nothing to scrub", file=sys.stderr)
        return 2
    changed = scrub_stored_tokens(store, force=True)
    print(f"customer tokens removed from {changed} stored events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
