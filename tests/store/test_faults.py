"""A database outage while a ticket is opened never loses it nor doubles it.

The connection is really cut: PostgreSQL terminates the backend mid-transaction,
or a TCP proxy drops the line after the server committed but before the answer
reaches us (the "commit whose acknowledgement was lost").
"""

from __future__ import annotations

import socket
import threading
from typing import Callable, List

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from bot.db import make_engine, make_session_factory
from bot.store import StoreUnavailable, TicketStore
from bot.store.models import Ticket
from bot.store.retry import RetryPolicy, with_retries
from tests.store.conftest import NO_WAIT
from tests.store.test_tickets import open_one

pytestmark = pytest.mark.postgres


def ticket_count(session_factory) -> int:
    with session_factory() as session:
        return session.execute(select(func.count(Ticket.id))).scalar_one()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_killed_at_the_insert_is_retried_into_one_ticket(migrated_url, postgres_url):
    engine = make_engine(migrated_url)
    admin = create_engine(postgres_url, future=True)
    killed: List[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def kill_at_first_ticket_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO tickets") and not killed:
            pid = conn.connection.dbapi_connection.get_backend_pid()
            killed.append(pid)
            with admin.begin() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        factory = make_session_factory(engine)
        ticket, created = open_one(TicketStore(factory, retry=NO_WAIT))
        assert killed, "the fault was never injected"
        assert created is True
        assert ticket_count(factory) == 1
        assert TicketStore(factory).ticket_by_reference(ticket.reference) == ticket
    finally:
        engine.dispose()
        admin.dispose()


class CommitSwallowingProxy:
    """A TCP proxy to PostgreSQL that, once armed, forwards a COMMIT to the server
    and then cuts the client off before the server's answer reaches it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.swallowing = threading.Event()
        self.swallowed = threading.Event()
        self._threads: List[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._start(self._pump, client, server, True)
            self._start(self._pump, server, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if not from_client and self.swallowing.is_set():
                    # The server's answer to the COMMIT: it has committed. Drop the
                    # answer and hang up on the client. (Closing the server side any
                    # earlier could reset the socket before the server reads COMMIT.)
                    self.swallowing.clear()
                    self.swallowed.set()
                    break
                if from_client and self.armed.is_set() and b"COMMIT" in data:
                    self.armed.clear()
                    self.swallowing.set()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                # shutdown, not just close: it wakes the other pump blocked in recv
                # on this socket and sends the FIN the client is waiting for.
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_commit_whose_answer_is_lost_is_found_by_the_retry(migrated_url):
    url = make_url(migrated_url)
    proxy = CommitSwallowingProxy(url.host or "127.0.0.1", url.port or 5432)
    # Plain text through the proxy, so it can see the COMMIT go by.
    query = {**url.query, "sslmode": "disable"}
    proxied = url.set(host="127.0.0.1", port=proxy.port, query=query)
    engine = make_engine(proxied.render_as_string(hide_password=False))
    direct = make_engine(migrated_url)

    @event.listens_for(engine, "before_cursor_execute")
    def arm_at_ticket_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO tickets") and not proxy.swallowed.is_set():
            proxy.armed.set()

    try:
        factory = make_session_factory(engine)
        ticket, created = open_one(TicketStore(factory, retry=NO_WAIT))
        assert proxy.swallowed.is_set(), "the fault was never injected"
        # The first try committed; the retry found it by its idempotency key.
        assert created is False
        assert ticket_count(make_session_factory(direct)) == 1
    finally:
        engine.dispose()
        direct.dispose()
        proxy.close()


@pytest.mark.parametrize(
    "broken_url",
    [
        # Nothing listens on port 1.
        "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2",
        # A file under a path that cannot exist.
        "sqlite:////proc/no-such-dir/baton.db",
    ],
)
def test_when_every_retry_fails_the_error_says_the_store_is_unavailable(broken_url):
    engine = create_engine(broken_url, future=True)
    attempts: List[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.01, sleep=attempts.append)
    try:
        with pytest.raises(StoreUnavailable, match="open_ticket failed 3 times"):
            open_one(TicketStore(make_session_factory(engine), retry=policy))
        assert len(attempts) == 2  # waits between three tries
    finally:
        engine.dispose()


def test_errors_that_a_retry_cannot_fix_are_raised_at_once():
    calls: List[int] = []

    def fails() -> None:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        with_retries(fails, NO_WAIT)
    assert calls == [1]
