"""The account service: the demo SQL system on SQLite and PostgreSQL, the HTTP
client against a real fake server, and the factory that picks one."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.accounts.demo_data import DEMO_CUSTOMERS
from bot.accounts.factory import account_service_from_settings
from bot.accounts.http import HttpAccountService
from bot.accounts.interface import (
    AccountService,
    AccountServiceError,
    Customer,
    DataUsage,
    Invoice,
    Order,
    Plan,
)
from bot.accounts.sql import (
    OUTBOX_CONTACT_CHANGE,
    OUTBOX_PASSWORD_RESET,
    DemoBase,
    DemoCustomerRow,
    DemoInvoiceRow,
    DemoOrderRow,
    SqlAccountService,
    create_demo_schema,
    drop_demo_schema,
    seed_demo_customers,
)
from bot.db import Base, make_engine, make_session_factory
from bot.settings import Settings, SettingsError

# A fixed "today" so the relative demo dates can be asserted exactly.
TODAY = dt.date(2025, 6, 10)
UNKNOWN_ID = "C-9999"


def days(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


# --- The demo SQL account system ---------------------------------------------------


@pytest.fixture
def demo_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_demo_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(demo_engine: Engine) -> sessionmaker:
    return make_session_factory(demo_engine)


@pytest.fixture
def sql_service(sessions: sessionmaker) -> SqlAccountService:
    seed_demo_customers(sessions, TODAY)
    return SqlAccountService(sessions)


def count_rows(sessions: sessionmaker, row_class: Any) -> int:
    with sessions() as session:
        return int(session.execute(select(func.count()).select_from(row_class)).scalar_one())


def test_demo_tables_live_outside_batons_own_metadata() -> None:
    assert DemoBase.metadata is not Base.metadata
    assert set(Base.metadata.tables).isdisjoint(DemoBase.metadata.tables)
    assert all(name.startswith("demo_") for name in DemoBase.metadata.tables)
    assert "events" not in DemoBase.metadata.tables


def test_sql_customer(sql_service: SqlAccountService) -> None:
    assert sql_service.customer("C-1001") == Customer(
        customer_id="C-1001",
        name="Jane Doe",
        email="jane.doe@example.com",
        postal_address="12 Harbour Lane, Brightwater BW1 2AB",
        tier="standard",
    )
    ahmed = sql_service.customer("C-1002")
    assert ahmed is not None and ahmed.tier == "business"


def test_sql_orders_are_newest_first_with_dates_relative_to_today(
    sql_service: SqlAccountService,
) -> None:
    orders = sql_service.orders("C-1001")

    assert [order.number for order in orders] == ["BW-100234", "BW-100198"]
    shipped = orders[0]
    assert shipped == Order(
        number="BW-100234",
        status="shipped",
        placed_on=days(-2),
        items=("Brightwave Mesh Wi-Fi Extender", "USB-C Charger 30 W"),
        expected_delivery=days(1),
        tracking_url="https://tracking.example.com/parcels/BW100234GB",
    )
    assert orders[1].status == "delivered"


def test_sql_processing_order_has_no_tracking_yet(
    sql_service: SqlAccountService,
) -> None:
    (order,) = sql_service.orders("C-1003")

    assert order.status == "processing"
    assert order.placed_on == TODAY
    assert order.tracking_url is None


def test_sql_invoices_are_newest_first_with_exact_amounts(
    sql_service: SqlAccountService,
) -> None:
    invoices = sql_service.invoices("C-1001")

    assert [invoice.number for invoice in invoices] == [
        "INV-300871",
        "INV-300512",
        "INV-300190",
    ]
    assert invoices[0] == Invoice(
        number="INV-300871",
        issued_on=days(-5),
        due_on=days(9),
        amount=Decimal("49.99"),
        currency="GBP",
        paid=False,
    )
    assert [invoice.paid for invoice in invoices] == [False, True, True]
    assert all(isinstance(invoice.amount, Decimal) for invoice in invoices)
    assert str(invoices[2].amount) == "54.49"


def test_sql_amounts_come_back_at_their_scale_on_every_database(
    sql_service: SqlAccountService,
) -> None:
    plan = sql_service.plan("C-1001")

    assert plan is not None and str(plan.data_allowance_gb) == "20.00"


def test_sql_plans(sql_service: SqlAccountService) -> None:
    assert sql_service.plan("C-1001") == Plan(
        name="Fibre 500 + Mobile 20 GB",
        monthly_price=Decimal("49.99"),
        currency="GBP",
        data_allowance_gb=Decimal(20),
        contract_end=days(200),
    )
    business = sql_service.plan("C-1002")
    assert business is not None and business.data_allowance_gb is None  # unlimited
    fibre_only = sql_service.plan("C-1003")
    assert fibre_only is not None and fibre_only.contract_end is None


def test_sql_data_usage(sql_service: SqlAccountService) -> None:
    assert sql_service.data_usage("C-1001") == DataUsage(
        used_gb=Decimal("12.40"), allowance_gb=Decimal(20), period_end=days(9)
    )
    unlimited = sql_service.data_usage("C-1002")
    assert unlimited is not None and unlimited.allowance_gb is None
    # Mia has no mobile plan.
    assert sql_service.data_usage("C-1003") is None


UNKNOWN_CUSTOMER_ANSWERS: List[Tuple[str, Any]] = [
    ("customer", None),
    ("orders", []),
    ("invoices", []),
    ("plan", None),
    ("data_usage", None),
]


def test_sql_unknown_customer(sql_service: SqlAccountService) -> None:
    # One test walking the table: each database setup costs more than the calls.
    for method, expected in UNKNOWN_CUSTOMER_ANSWERS:
        assert getattr(sql_service, method)(UNKNOWN_ID) == expected, method


def test_sql_seeding_twice_refreshes_dates_without_duplicating(
    sessions: sessionmaker, sql_service: SqlAccountService
) -> None:
    before = [count_rows(sessions, row) for row in (DemoCustomerRow, DemoOrderRow, DemoInvoiceRow)]

    later = TODAY + dt.timedelta(days=30)
    assert seed_demo_customers(sessions, later) == len(DEMO_CUSTOMERS)

    after = [count_rows(sessions, row) for row in (DemoCustomerRow, DemoOrderRow, DemoInvoiceRow)]
    assert after == before
    assert before[0] == len(DEMO_CUSTOMERS)
    assert sql_service.orders("C-1001")[0].expected_delivery == later + dt.timedelta(days=1)


@pytest.mark.parametrize(
    "send, kind, page",
    [
        ("send_password_reset", OUTBOX_PASSWORD_RESET, "/reset-password?token="),
        (
            "send_contact_change_link",
            OUTBOX_CONTACT_CHANGE,
            "/account/contact-details?token=",
        ),
    ],
)
def test_sql_sending_a_link_records_it_in_the_outbox(
    sql_service: SqlAccountService, send: str, kind: str, page: str
) -> None:
    assert sql_service.outbox() == []

    assert getattr(sql_service, send)("C-1001") == "jane.doe@example.com"
    assert getattr(sql_service, send)("C-1001") == "jane.doe@example.com"

    sent = sql_service.outbox("C-1001")
    assert [(message.kind, message.recipient) for message in sent] == [
        (kind, "jane.doe@example.com"),
        (kind, "jane.doe@example.com"),
    ]
    assert all(page in message.link for message in sent)
    assert sent[0].link != sent[1].link  # a fresh token each time
    assert sql_service.outbox("C-1002") == []


def test_sql_sending_to_an_unknown_customer_fails_and_sends_nothing(
    sql_service: SqlAccountService,
) -> None:
    with pytest.raises(AccountServiceError):
        sql_service.send_password_reset(UNKNOWN_ID)
    with pytest.raises(AccountServiceError):
        sql_service.send_contact_change_link(UNKNOWN_ID)
    assert sql_service.outbox() == []


def test_demo_schema_can_be_dropped_and_recreated(demo_engine: Engine) -> None:
    drop_demo_schema(demo_engine)
    assert not set(DemoBase.metadata.tables) & set(inspect(demo_engine).get_table_names())

    create_demo_schema(demo_engine)
    sessions = make_session_factory(demo_engine)
    seed_demo_customers(sessions, TODAY)
    assert count_rows(sessions, DemoCustomerRow) == len(DEMO_CUSTOMERS)


# --- The factory ------------------------------------------------------------------


def test_factory_demo_creates_and_seeds_the_demo_once(database_url: str) -> None:
    settings = Settings(database_url=database_url, account_backend="demo")

    first = account_service_from_settings(settings)
    second = account_service_from_settings(settings)

    assert isinstance(first, SqlAccountService)
    assert second.customer("C-1001") is not None
    assert len(second.orders("C-1001")) == 2
    engine = make_engine(database_url)
    try:
        assert count_rows(make_session_factory(engine), DemoCustomerRow) == len(DEMO_CUSTOMERS)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "settings",
    [
        Settings(account_backend="http", account_api_url=None),
        Settings(account_backend="carrier-pigeon"),
    ],
    ids=["http-without-url", "unknown-backend"],
)
def test_factory_rejects_bad_settings(settings: Settings) -> None:
    with pytest.raises(SettingsError):
        account_service_from_settings(settings)


# --- The HTTP client against a fake account API --------------------------------------


@dataclass
class CannedReply:
    status: int = 200
    body: bytes = b"null"
    delay: float = 0.0


@dataclass
class SeenRequest:
    method: str
    path: str  # the raw request target, still percent-encoded
    headers: Dict[str, str]


@dataclass
class FakeAccountApi:
    """A real HTTP server on 127.0.0.1 answering canned replies; 404 otherwise."""

    url: str = ""
    replies: Dict[Tuple[str, str], CannedReply] = field(default_factory=dict)
    seen: List[SeenRequest] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def reply(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        status: int = 200,
        raw: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        body = raw if raw is not None else json.dumps(json_body).encode()
        self.replies[(method, path)] = CannedReply(status, body, delay)


class _FakeHandler(BaseHTTPRequestHandler):
    server: _FakeServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        api = self.server.api
        api.seen.append(SeenRequest(self.command, self.path, dict(self.headers.items())))
        canned = api.replies.get(
            (self.command, self.path), CannedReply(404, b'{"error": "not found"}')
        )
        if canned.delay:
            # Wakes early when the test ends, so teardown never waits.
            api.stopping.wait(canned.delay)
        self.send_response(canned.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(canned.body)))
        self.end_headers()
        self.wfile.write(canned.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _FakeServer(ThreadingHTTPServer):
    api: FakeAccountApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


@pytest.fixture
def fake_api() -> Iterator[FakeAccountApi]:
    server = _FakeServer(("127.0.0.1", 0), _FakeHandler)
    api = FakeAccountApi(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.api = api
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield api
    api.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join()


TOKEN = "s3cret-token-value"

JANE_JSON = {
    "customer_id": "C-1001",
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "postal_address": "12 Harbour Lane, Brightwater BW1 2AB",
    "tier": "standard",
}
# Oldest first on purpose: the client must still hand them back newest first.
ORDERS_JSON = [
    {
        "number": "BW-100198",
        "status": "delivered",
        "placed_on": "2025-05-21",
        "items": ["Galaxy A54 5G"],
        "expected_delivery": "2025-05-24",
        "tracking_url": None,
    },
    {
        "number": "BW-100234",
        "status": "shipped",
        "placed_on": "2025-06-08",
        "items": ["Mesh Wi-Fi Extender", "USB-C Charger 30 W"],
        "expected_delivery": "2025-06-11",
        "tracking_url": "https://tracking.example.com/parcels/BW100234GB",
    },
    # Optional fields may also be left out.
    {
        "number": "BW-100412",
        "status": "processing",
        "placed_on": "2025-06-01",
        "items": [],
    },
]
INVOICES_JSON = [
    {
        "number": "INV-300512",
        "issued_on": "2025-05-06",
        "due_on": "2025-05-20",
        "amount": "49.99",
        "currency": "GBP",
        "paid": True,
    },
    {
        "number": "INV-300871",
        "issued_on": "2025-06-05",
        "due_on": "2025-06-19",
        "amount": "54.49",
        "currency": "GBP",
        "paid": False,
    },
]
PLAN_JSON = {
    "name": "Business Fibre 1000 + Unlimited Mobile",
    "monthly_price": "89.00",
    "currency": "GBP",
    "data_allowance_gb": None,
    "contract_end": "2026-07-15",
}
USAGE_JSON = {"used_gb": "12.40", "allowance_gb": "20", "period_end": "2025-06-19"}


def http_service(api: FakeAccountApi, token: str | None = TOKEN) -> HttpAccountService:
    return HttpAccountService(api.url, token=token, timeout=2.0)


def test_http_maps_every_read(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", JANE_JSON)
    fake_api.reply("GET", "/v1/customers/C-1001/orders", ORDERS_JSON)
    fake_api.reply("GET", "/v1/customers/C-1001/invoices", INVOICES_JSON)
    fake_api.reply("GET", "/v1/customers/C-1001/plan", PLAN_JSON)
    fake_api.reply("GET", "/v1/customers/C-1001/data-usage", USAGE_JSON)
    service = http_service(fake_api)

    assert service.customer("C-1001") == Customer(**JANE_JSON)
    orders = service.orders("C-1001")
    assert [order.number for order in orders] == ["BW-100234", "BW-100412", "BW-100198"]
    assert orders[0] == Order(
        number="BW-100234",
        status="shipped",
        placed_on=dt.date(2025, 6, 8),
        items=("Mesh Wi-Fi Extender", "USB-C Charger 30 W"),
        expected_delivery=dt.date(2025, 6, 11),
        tracking_url="https://tracking.example.com/parcels/BW100234GB",
    )
    assert orders[1].expected_delivery is None and orders[1].tracking_url is None
    invoices = service.invoices("C-1001")
    assert [invoice.number for invoice in invoices] == ["INV-300871", "INV-300512"]
    assert invoices[0].amount == Decimal("54.49") and invoices[0].paid is False
    assert service.plan("C-1001") == Plan(
        name="Business Fibre 1000 + Unlimited Mobile",
        monthly_price=Decimal("89.00"),
        currency="GBP",
        data_allowance_gb=None,
        contract_end=dt.date(2026, 7, 15),
    )
    assert service.data_usage("C-1001") == DataUsage(
        used_gb=Decimal("12.40"),
        allowance_gb=Decimal(20),
        period_end=dt.date(2025, 6, 19),
    )
    assert {request.method for request in fake_api.seen} == {"GET"}


def test_http_null_plan_and_usage_mean_none(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1003/plan", None)
    fake_api.reply("GET", "/v1/customers/C-1003/data-usage", None)
    service = http_service(fake_api)

    assert service.plan("C-1003") is None
    assert service.data_usage("C-1003") is None


@pytest.mark.parametrize(
    "send, path",
    [
        ("send_password_reset", "/v1/customers/C-1001/password-reset"),
        ("send_contact_change_link", "/v1/customers/C-1001/contact-change-link"),
    ],
)
def test_http_sends_links_with_post(fake_api: FakeAccountApi, send: str, path: str) -> None:
    fake_api.reply("POST", path, {"email": "jane.doe@example.com"})

    assert getattr(http_service(fake_api), send)("C-1001") == "jane.doe@example.com"
    assert [(request.method, request.path) for request in fake_api.seen] == [("POST", path)]


@pytest.mark.parametrize("method, expected", UNKNOWN_CUSTOMER_ANSWERS)
def test_http_unknown_customer_is_a_404(
    fake_api: FakeAccountApi, method: str, expected: Any
) -> None:
    assert getattr(http_service(fake_api), method)(UNKNOWN_ID) == expected
    assert fake_api.seen[0].path.startswith(f"/v1/customers/{UNKNOWN_ID}")


@pytest.mark.parametrize("send", ["send_password_reset", "send_contact_change_link"])
def test_http_sending_to_an_unknown_customer_fails(fake_api: FakeAccountApi, send: str) -> None:
    with pytest.raises(AccountServiceError, match="unknown customer"):
        getattr(http_service(fake_api), send)(UNKNOWN_ID)


FAILURES: List[Tuple[str, int, bytes, str]] = [
    ("server-error", 500, b'{"error": "boom"}', "server error 500"),
    ("unavailable", 503, b"", "server error 503"),
    ("unauthorized", 401, b'{"error": "bad token"}', "BATON_ACCOUNT_API_TOKEN"),
    ("teapot", 418, b"{}", "unexpected status 418"),
    ("not-json", 200, b"<html>maintenance</html>", "not valid JSON"),
    ("truncated-json", 200, b'{"customer_id": "C-1', "not valid JSON"),
    ("wrong-shape", 200, b"[]", "expected a JSON object"),
    ("missing-field", 200, b'{"customer_id": "C-1001", "name": "Jane"}', "'email'"),
]


@pytest.mark.parametrize(
    "status, body, message",
    [case[1:] for case in FAILURES],
    ids=[case[0] for case in FAILURES],
)
def test_http_failures_become_account_service_errors(
    fake_api: FakeAccountApi, status: int, body: bytes, message: str
) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", status=status, raw=body)

    with pytest.raises(AccountServiceError, match=message) as raised:
        http_service(fake_api).customer("C-1001")
    assert TOKEN not in str(raised.value)
    assert "GET /customers/{id}" in str(raised.value)


BAD_FIELDS: List[Tuple[str, Callable[[], Any], str]] = [
    ("float-amount", lambda: [{**INVOICES_JSON[0], "amount": 49.99}], "'amount'"),
    ("word-amount", lambda: [{**INVOICES_JSON[0], "amount": "lots"}], "'amount'"),
    ("paid-as-string", lambda: [{**INVOICES_JSON[0], "paid": "yes"}], "'paid'"),
    ("bad-date", lambda: [{**INVOICES_JSON[0], "due_on": "20/05/2025"}], "'due_on'"),
    ("object-not-list", lambda: {"invoices": INVOICES_JSON}, "expected a JSON array"),
]


@pytest.mark.parametrize(
    "body, message",
    [case[1:] for case in BAD_FIELDS],
    ids=[case[0] for case in BAD_FIELDS],
)
def test_http_malformed_fields_are_named(
    fake_api: FakeAccountApi, body: Callable[[], Any], message: str
) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001/invoices", body())

    with pytest.raises(AccountServiceError, match=message):
        http_service(fake_api).invoices("C-1001")


def test_http_timeout(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", JANE_JSON, delay=5.0)
    service = HttpAccountService(fake_api.url, token=TOKEN, timeout=0.1)

    with pytest.raises(AccountServiceError, match="no answer within") as raised:
        service.customer("C-1001")
    assert TOKEN not in str(raised.value)


def test_http_connection_refused() -> None:
    # A port that was free a moment ago: nothing listens there now.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = HttpAccountService(f"http://127.0.0.1:{port}", token=TOKEN, timeout=1.0)

    with pytest.raises(AccountServiceError, match="unreachable") as raised:
        service.orders("C-1001")
    assert TOKEN not in str(raised.value)


def test_http_credentials_in_the_base_url_stay_out_of_errors_and_repr() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = HttpAccountService(f"http://bot:hunter2@127.0.0.1:{port}", token=TOKEN)

    with pytest.raises(AccountServiceError) as raised:
        service.plan("C-1001")
    assert "hunter2" not in str(raised.value)
    assert "hunter2" not in repr(service) and TOKEN not in repr(service)


def test_http_sends_the_bearer_token(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", JANE_JSON)

    http_service(fake_api).customer("C-1001")
    http_service(fake_api, token=None).customer("C-1001")

    with_token, without_token = fake_api.seen
    assert with_token.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in without_token.headers


@pytest.mark.parametrize(
    "customer_id, path",
    [
        ("C 10/01?x=1#y", "/v1/customers/C%2010%2F01%3Fx%3D1%23y"),
        ("Zoë&co", "/v1/customers/Zo%C3%AB%26co"),
    ],
)
def test_http_customer_id_is_one_encoded_path_segment(
    fake_api: FakeAccountApi, customer_id: str, path: str
) -> None:
    http_service(fake_api).orders(customer_id)

    assert fake_api.seen[0].path == f"{path}/orders"


@pytest.mark.parametrize("customer_id", ["", ".", ".."])
def test_http_ids_that_are_no_path_segment_are_unknown_without_a_request(
    fake_api: FakeAccountApi, customer_id: str
) -> None:
    service = http_service(fake_api)

    assert service.customer(customer_id) is None
    assert service.orders(customer_id) == []
    with pytest.raises(AccountServiceError, match="unknown customer"):
        service.send_password_reset(customer_id)
    assert fake_api.seen == []


def test_http_base_url_may_end_with_a_slash(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", JANE_JSON)
    service = HttpAccountService(fake_api.url + "/", token=TOKEN)

    assert service.customer("C-1001") is not None


def test_factory_http_talks_to_the_configured_api(fake_api: FakeAccountApi) -> None:
    fake_api.reply("GET", "/v1/customers/C-1001", JANE_JSON)
    settings = Settings(
        account_backend="http", account_api_url=fake_api.url, account_api_token=TOKEN
    )

    service: AccountService = account_service_from_settings(settings)

    assert isinstance(service, HttpAccountService)
    assert service.customer("C-1001") == Customer(**JANE_JSON)
    assert fake_api.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
