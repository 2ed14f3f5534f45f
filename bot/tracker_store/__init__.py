"""Rasa's tracker store as Baton runs it: its SQL (`sql`), no tokens at rest (`token_scrub`).

endpoints.yml names the store by its connector path (`connectors.tracker_store`),
which re-exports it from here.
"""
