"""Breach notices: a log line, and a webhook posted to a real HTTP server on loopback."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Tuple

import pytest

from bot.escalation.notify import BreachNotice, CompositeNotifier, LogNotifier, WebhookNotifier

AT = dt.datetime(2026, 11, 30, 9, 16, tzinfo=dt.timezone.utc)
NOTICE = BreachNotice(
    ticket_id=7,
    reference="CS-7K3M9Q",
    kind="first_response",
    deadline=AT - dt.timedelta(minutes=1),
    breach_key="first_response:P3:billing:L0:20261130T091500.000000Z",
    priority="P3",
    team="billing",
    level=1,
    tier="specialist",
    actions=("escalate", "notify"),
    at=AT,
)


class Receiver:
    """A fake webhook receiver: a real HTTP server that answers with a chosen status."""

    def __init__(self) -> None:
        self.bodies: List[dict] = []
        self.status = 204
        self.release = threading.Event()
        self.hang = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server hook name)
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                if receiver.hang:
                    receiver.release.wait(10)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/escalation"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_the_webhook_posts_the_notice_as_json(receiver):
    WebhookNotifier(receiver.url, timeout=5).notify(NOTICE)
    assert receiver.bodies == [
        {
            "event": "escalation.breach",
            "ticket_id": 7,
            "reference": "CS-7K3M9Q",
            "kind": "first_response",
            "deadline": "2026-11-30T09:15:00+00:00",
            "breach_key": NOTICE.breach_key,
            "priority": "P3",
            "team": "billing",
            "level": 1,
            "tier": "specialist",
            "actions": ["escalate", "notify"],
            "at": "2026-11-30T09:16:00+00:00",
            "notes": [],
        }
    ]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("failure", ["server_error", "timeout", "refused"])
def test_webhook_failures_are_logged_never_raised(receiver, caplog, failure):
    url = receiver.url
    if failure == "server_error":
        receiver.status = 500
    elif failure == "timeout":
        receiver.hang = True
    else:
        url = closed_port_url()
    with caplog.at_level(logging.WARNING, logger="bot.escalation.notify"):
        WebhookNotifier(url, timeout=0.3).notify(NOTICE)
    assert "escalation.webhook.failed ticket=CS-7K3M9Q" in caplog.text


def test_the_log_notifier_writes_a_structured_line(caplog):
    with caplog.at_level(logging.WARNING):
        LogNotifier().notify(NOTICE)
    assert "escalation.breach ticket=CS-7K3M9Q kind=first_response priority=P3" in caplog.text


def test_a_composite_tells_every_notifier_even_after_one_fails(receiver, caplog):
    calls: List[Tuple[str, str]] = []

    class Broken:
        def notify(self, notice: BreachNotice) -> None:
            raise RuntimeError("boom")

    class Recording:
        def notify(self, notice: BreachNotice) -> None:
            calls.append((notice.reference, notice.kind))

    CompositeNotifier([Broken(), WebhookNotifier(receiver.url), Recording()]).notify(NOTICE)
    assert len(receiver.bodies) == 1
    assert calls == [("CS-7K3M9Q", "first_response")]
    assert "escalation.notifier.failed notifier=Broken" in caplog.text
