"""Baton's ticket store: customers, conversations, agents, tickets and their audit trail."""

from bot.store.records import CustomerInfo, HistoryEntry, TicketRecord
from bot.store.retry import RetryPolicy, StoreUnavailable, with_retries
from bot.store.tickets import TicketStore

__all__ = [
    "CustomerInfo",
    "HistoryEntry",
    "RetryPolicy",
    "StoreUnavailable",
    "TicketRecord",
    "TicketStore",
    "with_retries",
]
