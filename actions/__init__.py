"""Baton's custom actions: thin adapters from Rasa's action server to the `bot` package."""
