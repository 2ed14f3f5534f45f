"""Budgets against abuse: rate limits, back-off after failures, bounded concurrency.

Callers see only the interfaces in `interface.py`; `memory.py` holds the
in-process implementations. A deployment of several replicas can later share
one budget through Redis by implementing the same interfaces, without touching
the callers. Every implementation takes an injected clock: tests advance it.
"""
