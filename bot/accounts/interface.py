"""The narrow interface between the bot and a company's account system.

Two implementations: `bot.accounts.sql.SqlAccountService` (the demo, seeded
with demo customers) and `bot.accounts.http.HttpAccountService` (a company's
real API). `bot.accounts.factory.account_service_from_settings` picks one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import List, Protocol, Tuple


class AccountServiceError(RuntimeError):
    """The account system could not answer (down, timed out, bad reply)."""


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str
    postal_address: str
    tier: str  # "standard" or "business": the escalation policy bumps business customers


@dataclass(frozen=True)
class Order:
    number: str
    status: str  # "processing", "shipped", "delivered", "cancelled", "returned"
    placed_on: dt.date
    items: Tuple[str, ...]
    expected_delivery: dt.date | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_on: dt.date
    due_on: dt.date
    amount: Decimal
    currency: str
    paid: bool


@dataclass(frozen=True)
class Plan:
    name: str
    monthly_price: Decimal
    currency: str
    data_allowance_gb: Decimal | None  # None: unlimited
    contract_end: dt.date | None


@dataclass(frozen=True)
class DataUsage:
    used_gb: Decimal
    allowance_gb: Decimal | None  # None: unlimited
    period_end: dt.date


class AccountService(Protocol):
    """Read-mostly access to one customer's account, keyed by a verified id."""

    def customer(self, customer_id: str) -> Customer | None:
        """The customer, or None when the id is unknown."""

    def orders(self, customer_id: str) -> List[Order]:
        """The customer's orders, newest first."""

    def invoices(self, customer_id: str) -> List[Invoice]:
        """The customer's invoices, newest first."""

    def plan(self, customer_id: str) -> Plan | None:
        """The customer's current plan, or None without one."""

    def data_usage(self, customer_id: str) -> DataUsage | None:
        """Data used in the current billing period, or None without a mobile plan."""

    def send_password_reset(self, customer_id: str) -> str:
        """Send a password-reset link to the email on file; return that email."""

    def send_contact_change_link(self, customer_id: str) -> str:
        """Send a secure link to change address or email; return the email it went to."""


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***e@example.com`: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    if len(local) <= 2:
        masked = local[:1] + "***"
    else:
        masked = f"{local[0]}***{local[-1]}"
    return f"{masked}@{domain}" if domain else masked
