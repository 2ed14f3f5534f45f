"""Rasa input channels: thin adapters from Rasa to the `bot` package."""
