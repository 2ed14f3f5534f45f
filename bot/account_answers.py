"""What the bot says about a verified customer's account: plain functions over account data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import List

from bot.accounts.interface import DataUsage, Invoice, Order, Plan, mask_email

ORDER_STATUS_WORDS = {
    "processing": "is being prepared in our warehouse",
    "shipped": "is on its way",
    "delivered": "was delivered",
    "cancelled": "was cancelled",
    "returned": "was returned to us",
}


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _money(amount: Decimal, currency: str) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def order_status(orders: List[Order], order_number: str | None = None) -> str:
    if order_number:
        matching = [order for order in orders if order.number == order_number]
        if not matching:
            return (
                f"I can't find order {order_number} on your account. Please check the number "
                "in your confirmation email; it starts with BW- and has six digits."
            )
        order = matching[0]
    elif orders:
        order = orders[0]
    else:
        return "I can't see any orders on your account yet."
    items = ", ".join(order.items)
    text = (
        f"Your order {order.number} ({items}), placed on {_day(order.placed_on)}, "
        f"{ORDER_STATUS_WORDS.get(order.status, 'has status ' + order.status)}."
    )
    if order.status in ("processing", "shipped") and order.expected_delivery:
        text += f" Expected delivery: {_day(order.expected_delivery)}."
    if order.tracking_url and order.status == "shipped":
        text += f" Track it here: {order.tracking_url}"
    if order_number is None and len(orders) > 1:
        text += f" (You have {len(orders)} orders; tell me an order number to check another.)"
    return text


def invoice_summary(invoices: List[Invoice]) -> str:
    if not invoices:
        return "There are no invoices on your account yet."
    latest = invoices[0]
    text = (
        f"Your latest invoice {latest.number}, issued on {_day(latest.issued_on)}, is for "
        f"{_money(latest.amount, latest.currency)}"
    )
    text += " and is paid." if latest.paid else f", due on {_day(latest.due_on)}."
    unpaid = [invoice for invoice in invoices if not invoice.paid]
    if unpaid:
        total = sum((invoice.amount for invoice in unpaid), Decimal("0"))
        text += f" Your open balance is {_money(total, unpaid[0].currency)}."
    else:
        text += " You have nothing left to pay."
    return text


def plan_summary(plan: Plan | None) -> str:
    if plan is None:
        return "I can't see an active plan on your account."
    allowance = (
        "unlimited data"
        if plan.data_allowance_gb is None
        else f"{plan.data_allowance_gb.normalize():f} GB of data a month"
    )
    text = (
        f"You're on {plan.name}: {_money(plan.monthly_price, plan.currency)} a month with "
        f"{allowance}."
    )
    if plan.contract_end:
        text += f" Your contract runs until {_day(plan.contract_end)}."
    return text


def data_usage_summary(usage: DataUsage | None) -> str:
    if usage is None:
        return "There's no mobile plan on your account, so there's no data usage to show."
    used = f"{usage.used_gb.normalize():f} GB"
    if usage.allowance_gb is None:
        return (
            f"You've used {used} so far this month, on unlimited data. "
            f"The period ends on {_day(usage.period_end)}."
        )
    left = max(usage.allowance_gb - usage.used_gb, Decimal("0"))
    return (
        f"You've used {used} of your {usage.allowance_gb.normalize():f} GB "
        f"({left.normalize():f} GB left) until {_day(usage.period_end)}."
    )


def password_reset_sent(email: str) -> str:
    return (
        f"I've sent a password reset link to {mask_email(email)}. It works for 30 minutes. "
        "If it doesn't arrive, check your spam folder."
    )


def contact_change_link_sent(email: str) -> str:
    return (
        "For your security, address and email changes are confirmed through a secure link. "
        f"I've sent one to {mask_email(email)}; it works for 30 minutes."
    )
