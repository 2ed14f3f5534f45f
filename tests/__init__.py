"""Baton's tests (a package, so `bot` imports from the project root)."""
