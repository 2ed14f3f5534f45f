"""The demo account system: Brightwave's customers in SQL tables.

It stands in for a company's external system, so its tables have their own
`MetaData` (not `bot.db.Base`, which Alembic migrates) and a `demo_` prefix:
`create_demo_schema` creates them, `seed_demo_customers` fills them from
`bot.accounts.demo_data`. "Sent" emails land in `demo_outbox`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, List

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine

from bot.accounts.demo_data import DEMO_CUSTOMERS, DemoCustomer
from bot.accounts.interface import (
    AccountServiceError,
    Customer,
    DataUsage,
    Invoice,
    Order,
    Plan,
)

logger = logging.getLogger(__name__)

DEMO_SITE_URL = "https://www.brightwave.example"
OUTBOX_PASSWORD_RESET = "password_reset"  # noqa: S105 — an outbox message kind, not a password
OUTBOX_CONTACT_CHANGE = "contact_change"

# Its own base and metadata: the demo tables are not part of Baton's schema.
DemoBase: Any = declarative_base()


class ExactDecimal(TypeDecorator):
    """NUMERIC where the database has it; exact text on SQLite.

    SQLite has no decimal type: SQLAlchemy would round-trip amounts through
    floats (and warn). Text keeps `Decimal("49.99")` exact.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 12, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self._scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Text on SQLite, the declared NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Store exact text, to the declared scale, on SQLite."""
        if value is None or dialect.name != "sqlite":
            return value
        # Quantized to the scale, so SQLite hands back "20.00" as PostgreSQL does.
        return str(Decimal(value).quantize(Decimal(1).scaleb(-self._scale)))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Read text back as a Decimal."""
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class DemoCustomerRow(DemoBase):
    __tablename__ = "demo_customers"

    customer_id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=False)
    postal_address = Column(Text, nullable=False)
    tier = Column(String(32), nullable=False)


class DemoOrderRow(DemoBase):
    __tablename__ = "demo_orders"

    number = Column(String(64), primary_key=True)
    customer_id = Column(
        String(64), ForeignKey("demo_customers.customer_id"), nullable=False, index=True
    )
    status = Column(String(32), nullable=False)
    placed_on = Column(Date, nullable=False)
    # A JSON list of item descriptions: items are only ever read with their order.
    items = Column(JSON, nullable=False)
    expected_delivery = Column(Date, nullable=True)
    tracking_url = Column(Text, nullable=True)


class DemoInvoiceRow(DemoBase):
    __tablename__ = "demo_invoices"

    number = Column(String(64), primary_key=True)
    customer_id = Column(
        String(64), ForeignKey("demo_customers.customer_id"), nullable=False, index=True
    )
    issued_on = Column(Date, nullable=False)
    due_on = Column(Date, nullable=False)
    amount = Column(ExactDecimal(12, 2), nullable=False)
    currency = Column(String(3), nullable=False)
    paid = Column(Boolean, nullable=False)


class DemoPlanRow(DemoBase):
    __tablename__ = "demo_plans"

    # One current plan per customer.
    customer_id = Column(String(64), ForeignKey("demo_customers.customer_id"), primary_key=True)
    name = Column(String(200), nullable=False)
    monthly_price = Column(ExactDecimal(12, 2), nullable=False)
    currency = Column(String(3), nullable=False)
    data_allowance_gb = Column(ExactDecimal(10, 2), nullable=True)
    contract_end = Column(Date, nullable=True)


class DemoDataUsageRow(DemoBase):
    __tablename__ = "demo_data_usage"

    # Only customers with a mobile plan have a row.
    customer_id = Column(String(64), ForeignKey("demo_customers.customer_id"), primary_key=True)
    used_gb = Column(ExactDecimal(10, 2), nullable=False)
    allowance_gb = Column(ExactDecimal(10, 2), nullable=True)
    period_end = Column(Date, nullable=False)


class DemoOutboxRow(DemoBase):
    __tablename__ = "demo_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(
        String(64), ForeignKey("demo_customers.customer_id"), nullable=False, index=True
    )
    kind = Column(String(32), nullable=False)
    recipient = Column(String(320), nullable=False)
    link = Column(Text, nullable=False)
    sent_at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class SentMessage:
    """An email the demo account system "sent" (a row of `demo_outbox`)."""

    customer_id: str
    kind: str  # OUTBOX_PASSWORD_RESET or OUTBOX_CONTACT_CHANGE
    recipient: str
    link: str
    sent_at: dt.datetime


def create_demo_schema(engine: Engine) -> None:
    """Create the `demo_` tables that do not exist yet."""
    DemoBase.metadata.create_all(engine)


def drop_demo_schema(engine: Engine) -> None:
    """Drop the `demo_` tables (tests, or resetting a demo database)."""
    DemoBase.metadata.drop_all(engine)


def demo_schema_is_empty(session_factory: sessionmaker) -> bool:
    """Whether no demo customer has been seeded yet."""
    with session_factory() as session:
        count: int = session.execute(select(func.count()).select_from(DemoCustomerRow)).scalar_one()
    return count == 0


def seed_demo_customers(session_factory: sessionmaker, today: dt.date) -> int:
    """Write the demo customers with dates relative to `today`; return how many.

    Idempotent: rows are merged by primary key, so running it again refreshes
    the dates instead of duplicating anything. The outbox is left alone.
    """
    with session_factory.begin() as session:
        for customer in DEMO_CUSTOMERS:
            _merge_customer(session, customer, today)
    logger.info("accounts.demo.seeded customers=%d", len(DEMO_CUSTOMERS))
    return len(DEMO_CUSTOMERS)


def _merge_customer(session: Session, customer: DemoCustomer, today: dt.date) -> None:
    def days(offset: int) -> dt.date:
        return today + dt.timedelta(days=offset)

    session.merge(
        DemoCustomerRow(
            customer_id=customer.customer_id,
            name=customer.name,
            email=customer.email,
            postal_address=customer.postal_address,
            tier=customer.tier,
        )
    )
    # Flush the parent first: without relationship() nothing tells the unit of
    # work to insert it before its children, and the foreign keys are enforced.
    session.flush()
    for order in customer.orders:
        session.merge(
            DemoOrderRow(
                number=order.number,
                customer_id=customer.customer_id,
                status=order.status,
                placed_on=days(-order.placed_days_ago),
                items=list(order.items),
                expected_delivery=(
                    None if order.delivery_in_days is None else days(order.delivery_in_days)
                ),
                tracking_url=order.tracking_url,
            )
        )
    for invoice in customer.invoices:
        session.merge(
            DemoInvoiceRow(
                number=invoice.number,
                customer_id=customer.customer_id,
                issued_on=days(-invoice.issued_days_ago),
                due_on=days(invoice.due_in_days),
                amount=invoice.amount,
                currency=invoice.currency,
                paid=invoice.paid,
            )
        )
    if customer.plan is not None:
        plan = customer.plan
        session.merge(
            DemoPlanRow(
                customer_id=customer.customer_id,
                name=plan.name,
                monthly_price=plan.monthly_price,
                currency=plan.currency,
                data_allowance_gb=plan.data_allowance_gb,
                contract_end=(
                    None if plan.contract_end_in_days is None else days(plan.contract_end_in_days)
                ),
            )
        )
    if customer.data_usage is not None:
        usage = customer.data_usage
        session.merge(
            DemoDataUsageRow(
                customer_id=customer.customer_id,
                used_gb=usage.used_gb,
                allowance_gb=usage.allowance_gb,
                period_end=days(usage.period_end_in_days),
            )
        )


class SqlAccountService:
    """`AccountService` over the demo tables.

    Args:
        session_factory: Sessions on a database where `create_demo_schema` ran.
        site_url: Where the links in "sent" emails point.
    """

    def __init__(self, session_factory: sessionmaker, site_url: str = DEMO_SITE_URL) -> None:
        self._sessions = session_factory
        self._site_url = site_url.rstrip("/")

    def customer(self, customer_id: str) -> Customer | None:
        """The customer, or None when the id is unknown."""
        with self._sessions() as session:
            row = session.get(DemoCustomerRow, customer_id)
            if row is None:
                return None
            return Customer(
                customer_id=row.customer_id,
                name=row.name,
                email=row.email,
                postal_address=row.postal_address,
                tier=row.tier,
            )

    def orders(self, customer_id: str) -> List[Order]:
        """The customer's orders, newest first ([] for an unknown customer)."""
        # Ties on the same day are broken by number so the order is stable.
        query = (
            select(DemoOrderRow)
            .where(DemoOrderRow.customer_id == customer_id)
            .order_by(DemoOrderRow.placed_on.desc(), DemoOrderRow.number.desc())
        )
        with self._sessions() as session:
            return [
                Order(
                    number=row.number,
                    status=row.status,
                    placed_on=row.placed_on,
                    items=tuple(row.items),
                    expected_delivery=row.expected_delivery,
                    tracking_url=row.tracking_url,
                )
                for row in session.execute(query).scalars()
            ]

    def invoices(self, customer_id: str) -> List[Invoice]:
        """The customer's invoices, newest first ([] for an unknown customer)."""
        query = (
            select(DemoInvoiceRow)
            .where(DemoInvoiceRow.customer_id == customer_id)
            .order_by(DemoInvoiceRow.issued_on.desc(), DemoInvoiceRow.number.desc())
        )
        with self._sessions() as session:
            return [
                Invoice(
                    number=row.number,
                    issued_on=row.issued_on,
                    due_on=row.due_on,
                    amount=row.amount,
                    currency=row.currency,
                    paid=row.paid,
                )
                for row in session.execute(query).scalars()
            ]

    def plan(self, customer_id: str) -> Plan | None:
        """The customer's current plan, or None without one (or unknown customer)."""
        with self._sessions() as session:
            row = session.get(DemoPlanRow, customer_id)
            if row is None:
                return None
            return Plan(
                name=row.name,
                monthly_price=row.monthly_price,
                currency=row.currency,
                data_allowance_gb=row.data_allowance_gb,
                contract_end=row.contract_end,
            )

    def data_usage(self, customer_id: str) -> DataUsage | None:
        """Data used this billing period, or None without a mobile plan."""
        with self._sessions() as session:
            row = session.get(DemoDataUsageRow, customer_id)
            if row is None:
                return None
            return DataUsage(
                used_gb=row.used_gb,
                allowance_gb=row.allowance_gb,
                period_end=row.period_end,
            )

    def send_password_reset(self, customer_id: str) -> str:
        """Record a password-reset email in the outbox; return the address.

        Raises:
            AccountServiceError: The customer id is unknown.
        """
        return self._send(customer_id, OUTBOX_PASSWORD_RESET, "reset-password")

    def send_contact_change_link(self, customer_id: str) -> str:
        """Record a contact-change email in the outbox; return the address.

        Raises:
            AccountServiceError: The customer id is unknown.
        """
        return self._send(customer_id, OUTBOX_CONTACT_CHANGE, "account/contact-details")

    def outbox(self, customer_id: str | None = None) -> List[SentMessage]:
        """The emails "sent" so far, oldest first, optionally for one customer."""
        # Ordered by id: two sends in the same clock tick keep their order.
        query = select(DemoOutboxRow).order_by(DemoOutboxRow.id)
        if customer_id is not None:
            query = query.where(DemoOutboxRow.customer_id == customer_id)
        with self._sessions() as session:
            return [
                SentMessage(
                    customer_id=row.customer_id,
                    kind=row.kind,
                    recipient=row.recipient,
                    link=row.link,
                    sent_at=row.sent_at,
                )
                for row in session.execute(query).scalars()
            ]

    def _send(self, customer_id: str, kind: str, page: str) -> str:
        with self._sessions.begin() as session:
            customer = session.get(DemoCustomerRow, customer_id)
            if customer is None:
                # The id came from a verified token, so this is an inconsistency
                # in the account system, not a customer's typo.
                raise AccountServiceError(f"no customer {customer_id!r} to send a {kind} link to")
            token = secrets.token_urlsafe(24)
            session.add(
                DemoOutboxRow(
                    customer_id=customer_id,
                    kind=kind,
                    recipient=customer.email,
                    link=f"{self._site_url}/{page}?token={token}",
                    sent_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                )
            )
            email: str = customer.email
        logger.info("accounts.demo.email_sent kind=%s", kind)
        return email
