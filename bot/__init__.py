"""Baton: a customer-service assistant that knows when to pass the baton to a human."""

__version__ = "0.1.0"
