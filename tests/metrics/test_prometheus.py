"""`GET /metrics` (connectors/prometheus.py, bot/metrics/prometheus.py) on real databases.

The channel runs in a real Sanic server on this test's loop, on a migrated SQLite
file and a PostgreSQL schema; the exposition is read back with prometheus_client's
own parser. The histograms fed by the real relay are checked end to end in
tests/e2e/test_prometheus_metrics.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, Tuple

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sanic import Sanic
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.db import make_engine
from bot.metrics import prometheus
from bot.metrics.prometheus import (
    AGENT_TO_CUSTOMER,
    CUSTOMER_TO_AGENT,
    BatonMetrics,
    DatabaseCounts,
    read_counts,
)
from bot.proxies import TrustedProxies
from bot.store.models import Agent, Conversation, Team, Ticket
from connectors.prometheus import PrometheusChannel, access_refusal
from tests.baton_server import free_port

T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc)
TOKEN = "metrics-" + "s" * 32
_APP_NAMES = itertools.count()

Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


def samples(exposition: str) -> Samples:
    """{(sample name, sorted labels): value} of a text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(parsed: Samples, name: str, **labels: str) -> float | None:
    return parsed.get((name, tuple(sorted(labels.items()))))


# --- rows, straight into the tables ------------------------------------------------


def add_conversation(engine: Engine, channel: str | None, state: str) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(Conversation.__table__),
                {
                    "sender_id": uuid.uuid4().hex,
                    "channel": channel,
                    "customer_id": None,
                    "state": state,
                    "created_at": T0,
                    "updated_at": T0,
                },
            ).inserted_primary_key[0]
        )


def add_agent(engine: Engine, status: str) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(Agent.__table__),
                {
                    "email": f"{uuid.uuid4().hex[:8]}@example.com",
                    "name": "Agent",
                    "role": "agent",
                    "status": status,
                    "capacity": 3,
                    "languages": "en",
                    "created_at": T0,
                },
            ).inserted_primary_key[0]
        )


def add_team(engine: Engine, key: str) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Team.__table__), {"key": key, "name": key.title()})


def add_ticket(
    engine: Engine,
    *,
    escalation_type: str | None = "customer_initiated",
    team: str = "billing",
    priority: str = "P3",
    status: str = "open",
    assigned_agent_id: int | None = None,
) -> None:
    conversation_id = add_conversation(engine, "webchat", "queued")
    reference = uuid.uuid4().hex[:12]
    with engine.begin() as connection:
        connection.execute(
            insert(Ticket.__table__),
            {
                "reference": reference,
                "conversation_id": conversation_id,
                "customer_id": None,
                "idempotency_key": reference,
                "status": status,
                "priority": priority,
                "category": None,
                "team": team,
                "level": 0,
                "tier": "agent",
                "assigned_agent_id": assigned_agent_id,
                "context": {"version": 3},
                "escalation_type": escalation_type,
                "first_response_due": T0 + dt.timedelta(minutes=15),
                "resolution_due": T0 + dt.timedelta(hours=4),
                "created_at": T0,
                "updated_at": T0,
            },
        )


# --- a real server on this loop --------------------------------------------------------


@asynccontextmanager
async def metrics_server(
    database_url: str, token: str | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[Tuple[str, PrometheusChannel]]:
    """The channel alone in a Sanic app, served on `host`; yields its URL and the channel."""

    async def no_bot(_message: Any) -> None:
        return None

    channel = PrometheusChannel(database_url, token=token, cache_seconds=0)
    # Several apps in one process: test mode keeps Sanic's request handler rewritable.
    Sanic.test_mode = True
    app = Sanic(f"baton_metrics_test_{next(_APP_NAMES)}")
    # What rasa.core.channels.channel.register does: every channel under /webhooks/<name>.
    app.blueprint(channel.blueprint(no_bot), url_prefix="/webhooks/prometheus")
    port = free_port()
    server = await app.create_server(
        host=host, port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    try:
        yield f"http://{host}:{port}", channel
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def get(url: str, **headers: str) -> Tuple[int, str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers=headers) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


# --- the database's counts ----------------------------------------------------------------


async def test_the_database_counts_are_exposed_as_counters_and_gauges(
    migrated_url: str, engine: Engine
):
    add_team(engine, "billing")
    add_team(engine, "technical")
    for channel, state in [
        ("webchat", "bot"),
        ("webchat", "bot"),
        ("webchat", "resolved"),
        (None, "bot"),
    ]:
        add_conversation(engine, channel, state)
    agent = add_agent(engine, "online")
    add_agent(engine, "away")
    # Waiting: open and unassigned. Taken and resolved tickets are not in the queue.
    add_ticket(engine, team="billing", priority="P1")
    add_ticket(engine, team="billing", priority="P1", escalation_type="sentiment")
    add_ticket(engine, team="technical", priority="P3", escalation_type="automatic")
    add_ticket(engine, team="technical", priority="P2", status="assigned", assigned_agent_id=agent)
    add_ticket(engine, team="billing", priority="P4", status="resolved")
    add_ticket(engine, team="shop", priority="P2", escalation_type=None)  # a team not in `teams`

    async with metrics_server(migrated_url) as (url, _):
        status, content_type, body = await get(f"{url}/metrics")
    assert status == 200, body
    assert content_type.startswith("text/plain")
    parsed = samples(body)

    assert value(parsed, "baton_metrics_database_up") == 1
    # Six tickets, each with its own (queued) conversation, plus the four above.
    assert value(parsed, "baton_conversations_total", channel="webchat") == 9
    assert value(parsed, "baton_conversations_total", channel="unknown") == 1
    assert value(parsed, "baton_conversations_by_state", channel="webchat", state="bot") == 2
    assert value(parsed, "baton_conversations_by_state", channel="webchat", state="queued") == 6
    assert value(parsed, "baton_conversations_by_state", channel="webchat", state="with_agent") == 0
    assert value(parsed, "baton_conversations_by_state", channel="unknown", state="bot") == 1

    assert value(parsed, "baton_escalations_total", type="customer_initiated") == 3
    assert value(parsed, "baton_escalations_total", type="sentiment") == 1
    assert value(parsed, "baton_escalations_total", type="automatic") == 1
    assert value(parsed, "baton_escalations_total", type="unknown") == 1
    # Every type of escalation.yml's reasons is there from the start, at 0.
    assert value(parsed, "baton_escalations_total", type="hierarchical") == 0

    assert value(parsed, "baton_queue_length", team="billing", priority="P1") == 2
    assert value(parsed, "baton_queue_length", team="technical", priority="P3") == 1
    assert value(parsed, "baton_queue_length", team="technical", priority="P2") == 0
    assert value(parsed, "baton_queue_length", team="billing", priority="P4") == 0
    assert value(parsed, "baton_queue_length", team="shop", priority="P2") == 1
    assert value(parsed, "baton_queue_length", team="shop", priority="P1") == 0

    assert value(parsed, "baton_agents", status="online") == 1
    assert value(parsed, "baton_agents", status="away") == 1
    assert value(parsed, "baton_agents", status="offline") == 0

    # The histograms exist before anything was observed.
    for direction in (CUSTOMER_TO_AGENT, AGENT_TO_CUSTOMER):
        assert value(parsed, "baton_relay_latency_seconds_count", direction=direction) == 0
    assert value(parsed, "baton_queue_wait_seconds_count") == 0


def test_reads_are_cached_for_a_few_seconds(migrated_url: str, engine: Engine):
    now = [100.0]
    metrics = BatonMetrics(lambda: read_counts(engine), cache_seconds=5, clock=lambda: now[0])
    add_ticket(engine)

    def escalations() -> float | None:
        exposition, _ = metrics.exposition()
        return value(
            samples(exposition.decode()), "baton_escalations_total", type="customer_initiated"
        )

    assert escalations() == 1
    add_ticket(engine)
    now[0] += 4.9
    assert escalations() == 1  # a burst of scrapes reads the database once
    now[0] += 0.2
    assert escalations() == 2


async def test_a_database_that_is_down_gives_database_up_0_not_an_error(caplog):
    # Nothing listens on port 1: the connection is refused at once.
    async with metrics_server("postgresql://baton@127.0.0.1:1/baton") as (url, channel):
        assert channel.metrics is not None
        channel.metrics.relay_latency.labels(direction=CUSTOMER_TO_AGENT).observe(0.02)
        status, _, body = await get(f"{url}/metrics")
    assert status == 200, body
    parsed = samples(body)
    assert value(parsed, "baton_metrics_database_up") == 0
    assert not any(
        name.startswith(("baton_escalations", "baton_queue_length")) for name, _ in parsed
    )
    # What the process observed itself is still there.
    assert value(parsed, "baton_relay_latency_seconds_count", direction=CUSTOMER_TO_AGENT) == 1
    assert "metrics.database.unavailable" in caplog.text


def test_a_schema_without_the_tables_is_a_database_failure_too(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        metrics = BatonMetrics(lambda: read_counts(engine), cache_seconds=0)
        exposition, _ = metrics.exposition()
    finally:
        engine.dispose()
    assert value(samples(exposition.decode()), "baton_metrics_database_up") == 0


def test_the_counts_of_one_read_add_up_null_and_unknown():
    metrics = BatonMetrics(
        lambda: DatabaseCounts(escalations={"unknown": 2}, teams=("billing",)), cache_seconds=0
    )
    parsed = samples(metrics.exposition()[0].decode())
    assert value(parsed, "baton_escalations_total", type="unknown") == 2
    assert value(parsed, "baton_queue_length", team="billing", priority="P1") == 0


# --- the histograms and their hooks ---------------------------------------------------------


def test_the_hooks_feed_the_installed_metrics_and_nothing_without_them():
    prometheus.install(None)
    prometheus.observe_relay(CUSTOMER_TO_AGENT, 0.01)  # nobody installed: nothing happens

    metrics = BatonMetrics()
    prometheus.install(metrics)
    try:
        prometheus.observe_relay(CUSTOMER_TO_AGENT, 0.004)
        prometheus.observe_relay(AGENT_TO_CUSTOMER, 0.03)
        prometheus.observe_relay(AGENT_TO_CUSTOMER, -0.001)  # clocks that disagree: 0, not negative
        prometheus.observe_queue_wait(dt.timedelta(minutes=3))
    finally:
        prometheus.install(None)
    parsed = samples(metrics.exposition()[0].decode())

    assert value(parsed, "baton_relay_latency_seconds_count", direction=CUSTOMER_TO_AGENT) == 1
    assert (
        value(parsed, "baton_relay_latency_seconds_bucket", direction=CUSTOMER_TO_AGENT, le="0.005")
        == 1
    )
    assert (
        value(
            parsed, "baton_relay_latency_seconds_bucket", direction=CUSTOMER_TO_AGENT, le="0.0025"
        )
        == 0
    )
    assert value(parsed, "baton_relay_latency_seconds_count", direction=AGENT_TO_CUSTOMER) == 2
    assert value(
        parsed, "baton_relay_latency_seconds_sum", direction=AGENT_TO_CUSTOMER
    ) == pytest.approx(0.03)
    assert value(parsed, "baton_queue_wait_seconds_count") == 1
    assert value(parsed, "baton_queue_wait_seconds_sum") == 180
    assert value(parsed, "baton_queue_wait_seconds_bucket", le="120.0") == 0
    assert value(parsed, "baton_queue_wait_seconds_bucket", le="300.0") == 1
    # No database collector: no database families and no database_up.
    assert value(parsed, "baton_metrics_database_up") is None


def test_each_metrics_object_has_its_own_registry():
    first, second = BatonMetrics(), BatonMetrics()
    first.queue_wait.observe(10)
    assert value(samples(second.exposition()[0].decode()), "baton_queue_wait_seconds_count") == 0


# --- who may scrape ---------------------------------------------------------------------------


async def test_with_a_token_a_scrape_needs_it(migrated_url: str):
    async with metrics_server(migrated_url, token=TOKEN) as (url, _):
        missing = await get(f"{url}/metrics")
        wrong = await get(f"{url}/metrics", Authorization="Bearer not-the-token")
        right = await get(f"{url}/metrics", Authorization=f"Bearer {TOKEN}")
    assert missing[0] == 401 and "BATON_METRICS_TOKEN" in missing[2]
    assert wrong[0] == 401
    assert right[0] == 200
    assert value(samples(right[2]), "baton_metrics_database_up") == 1


async def test_without_a_token_only_this_host_is_served(migrated_url: str):
    async with metrics_server(migrated_url) as (url, _):
        local = await get(f"{url}/metrics")
        proxied = await get(f"{url}/metrics", **{"X-Forwarded-For": "203.0.113.7"})
    assert local[0] == 200
    # Through a reverse proxy on this host the peer is loopback, but the client is not.
    assert proxied[0] == 403 and "BATON_METRICS_TOKEN" in proxied[2]


def _own_non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_without_a_token_a_client_from_another_address_is_refused(migrated_url: str):
    address = _own_non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    async with metrics_server(migrated_url, host=address) as (url, _):
        status, _, body = await get(f"{url}/metrics")
    assert status == 403
    assert "BATON_METRICS_TOKEN" in body


@pytest.mark.parametrize(
    "token, authorization, client_ip, forwarded, expected",
    [
        (None, None, "127.0.0.1", False, None),
        (None, None, "127.0.0.2", False, None),
        (None, None, "::1", False, None),
        (None, None, "::ffff:127.0.0.1", False, None),
        (None, None, "10.1.2.3", False, 403),
        (None, None, "2001:db8::1", False, 403),
        (None, None, "", False, 403),
        (None, None, "127.0.0.1", True, 403),
        (None, f"Bearer {TOKEN}", "10.1.2.3", False, 403),  # no token configured: none accepted
        ("", None, "127.0.0.1", False, None),  # an empty variable counts as unset
        (TOKEN, f"Bearer {TOKEN}", "10.1.2.3", False, None),
        (TOKEN, f"bearer {TOKEN}", "10.1.2.3", True, None),
        (TOKEN, None, "127.0.0.1", False, 401),  # with a token, loopback needs it too
        (TOKEN, f"Bearer {TOKEN}x", "10.1.2.3", False, 401),
        (TOKEN, f"Basic {TOKEN}", "10.1.2.3", False, 401),
        (TOKEN, TOKEN, "10.1.2.3", False, 401),
    ],
)
def test_access(token, authorization, client_ip, forwarded, expected):
    headers = {"x-forwarded-for": "203.0.113.9"} if forwarded else {}
    local = TrustedProxies().is_local_client(client_ip, headers)
    refusal = access_refusal(token, authorization, local)
    assert (refusal.status if refusal else None) == expected
    if refusal is not None:
        assert "BATON_METRICS_TOKEN" in refusal.message


@pytest.mark.parametrize(
    "forwarded_for, expected",
    [(None, 403), ("203.0.113.9", 403), ("127.0.0.1", None)],
)
def test_behind_a_proxy_declared_on_this_host_the_forwarded_client_decides(forwarded_for, expected):
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    local = TrustedProxies.parse("127.0.0.1").is_local_client("127.0.0.1", headers)
    refusal = access_refusal(None, None, local)
    assert (refusal.status if refusal else None) == expected


async def test_the_route_is_exactly_metrics_whatever_prefix_rasa_gives(migrated_url: str):
    async with metrics_server(migrated_url) as (url, _):
        prefixed = await get(f"{url}/webhooks/prometheus/metrics")
        openmetrics = await get(
            f"{url}/metrics", Accept="application/openmetrics-text; version=1.0.0"
        )
    assert prefixed[0] == 404
    assert openmetrics[0] == 200 and openmetrics[1].startswith("application/openmetrics-text")
    assert openmetrics[2].rstrip().endswith("# EOF")
