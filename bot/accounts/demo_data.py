"""Brightwave's demo customers, as plain data.

Dates are offsets in days from "today" (the day the demo is seeded), so the
demo always looks fresh: Jane's parcel is always arriving tomorrow.
`bot.accounts.sql.seed_demo_customers` turns these into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Tuple

DEMO_CURRENCY = "GBP"


@dataclass(frozen=True)
class DemoOrder:
    """An order; `delivery_in_days` is negative for past deliveries."""

    number: str
    status: str
    placed_days_ago: int
    items: Tuple[str, ...]
    delivery_in_days: int | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class DemoInvoice:
    """An invoice; `due_in_days` is negative when the due date has passed."""

    number: str
    issued_days_ago: int
    due_in_days: int
    amount: Decimal
    paid: bool
    currency: str = DEMO_CURRENCY


@dataclass(frozen=True)
class DemoPlan:
    """A current plan; `data_allowance_gb=None` means unlimited data."""

    name: str
    monthly_price: Decimal
    data_allowance_gb: Decimal | None
    contract_end_in_days: int | None
    currency: str = DEMO_CURRENCY


@dataclass(frozen=True)
class DemoDataUsage:
    """Mobile data used this billing period; only customers with a mobile plan have one."""

    used_gb: Decimal
    allowance_gb: Decimal | None
    period_end_in_days: int


@dataclass(frozen=True)
class DemoCustomer:
    """One demo customer and everything the bot can tell them."""

    customer_id: str
    name: str
    email: str
    postal_address: str
    tier: str
    plan: DemoPlan | None = None
    data_usage: DemoDataUsage | None = None
    orders: Tuple[DemoOrder, ...] = ()
    invoices: Tuple[DemoInvoice, ...] = ()


JANE_DOE = DemoCustomer(
    customer_id="C-1001",
    name="Jane Doe",
    email="jane.doe@example.com",
    postal_address="12 Harbour Lane, Brightwater BW1 2AB",
    tier="standard",
    plan=DemoPlan(
        name="Fibre 500 + Mobile 20 GB",
        monthly_price=Decimal("49.99"),
        data_allowance_gb=Decimal(20),
        contract_end_in_days=200,
    ),
    data_usage=DemoDataUsage(
        used_gb=Decimal("12.40"), allowance_gb=Decimal(20), period_end_in_days=9
    ),
    orders=(
        DemoOrder(
            number="BW-100234",
            status="shipped",
            placed_days_ago=2,
            items=("Brightwave Mesh Wi-Fi Extender", "USB-C Charger 30 W"),
            delivery_in_days=1,
            tracking_url="https://tracking.example.com/parcels/BW100234GB",
        ),
        DemoOrder(
            number="BW-100198",
            status="delivered",
            placed_days_ago=20,
            items=("Galaxy A54 5G, 128 GB, Graphite",),
            delivery_in_days=-17,
            tracking_url="https://tracking.example.com/parcels/BW100198GB",
        ),
    ),
    invoices=(
        DemoInvoice(
            number="INV-300871",
            issued_days_ago=5,
            due_in_days=9,
            amount=Decimal("49.99"),
            paid=False,
        ),
        DemoInvoice(
            number="INV-300512",
            issued_days_ago=35,
            due_in_days=-21,
            amount=Decimal("49.99"),
            paid=True,
        ),
        DemoInvoice(
            number="INV-300190",
            issued_days_ago=65,
            due_in_days=-51,
            amount=Decimal("54.49"),
            paid=True,
        ),
    ),
)

AHMED_KHAN = DemoCustomer(
    customer_id="C-1002",
    name="Ahmed Khan",
    email="ahmed.khan@example.com",
    postal_address="Unit 4, Quayside Business Park, Brightwater BW3 9QP",
    tier="business",
    plan=DemoPlan(
        name="Business Fibre 1000 + Unlimited Mobile",
        monthly_price=Decimal("89.00"),
        data_allowance_gb=None,
        contract_end_in_days=400,
    ),
    data_usage=DemoDataUsage(used_gb=Decimal("143.70"), allowance_gb=None, period_end_in_days=9),
    orders=(
        DemoOrder(
            number="BW-100301",
            status="delivered",
            placed_days_ago=12,
            items=("Business Router Pro", "Static IP add-on"),
            delivery_in_days=-9,
            tracking_url="https://tracking.example.com/parcels/BW100301GB",
        ),
    ),
    invoices=(
        DemoInvoice(
            number="INV-300902",
            issued_days_ago=3,
            due_in_days=27,
            amount=Decimal("89.00"),
            paid=True,
        ),
    ),
)

MIA_ROSSI = DemoCustomer(
    customer_id="C-1003",
    name="Mia Rossi",
    email="mia.rossi@example.com",
    postal_address="7 Orchard Row, Flat 2, Brightwater BW2 5LN",
    tier="standard",
    # Home fibre only: no mobile plan, so no data usage. Fibre data is unlimited.
    plan=DemoPlan(
        name="Fibre 150",
        monthly_price=Decimal("29.99"),
        data_allowance_gb=None,
        contract_end_in_days=None,
    ),
    data_usage=None,
    orders=(
        DemoOrder(
            number="BW-100412",
            status="processing",
            placed_days_ago=0,
            items=("Brightwave Smart Hub 2",),
            delivery_in_days=4,
        ),
    ),
    invoices=(
        DemoInvoice(
            number="INV-300655",
            issued_days_ago=20,
            due_in_days=-6,
            amount=Decimal("29.99"),
            paid=True,
        ),
    ),
)

DEMO_CUSTOMERS: Tuple[DemoCustomer, ...] = (JANE_DOE, AHMED_KHAN, MIA_ROSSI)
