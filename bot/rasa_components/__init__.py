"""Baton's Rasa graph components, named in config.yml.

Thin adapters from Rasa's graph API to the framework-free code in bot/: the
sentiment annotator (bot/sentiment) and the signal policy (bot/escalation/signals).
"""
