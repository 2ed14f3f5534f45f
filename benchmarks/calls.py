"""Call set-up time: from the customer's consent click to the first remote video frame.

By default against the **real product**: `bot run` started as `make run` starts it
(tests/baton_server.py: embedded SQLite, on loopback, calls on with the default `webrtc`
provider and no STUN/TURN). A customer on the demo page asks for a person, one agent signs
in to the console and accepts the conversation; then ten video calls one after the other in
that conversation: the agent clicks *Video call*, the customer clicks *Accept video call*,
both pages' remote videos present their first frame (`data-first-frame-at`, epoch ms from
`requestVideoFrameCallback`), the agent hangs up, 0.5 s pause. Every signal goes through
the real server: the customer's over socket.io (connectors/webchat.py), the agent's as REST
posts with the answers on the desk's WebSocket (connectors/desk.py), each `accept` and
`connected` a database transaction in bot/calls.

`--fake` runs the same calls against the fake servers of tests/browser
(tests.browser.fake_calls relays the signals in memory, no database): the browsers' share
(getUserMedia, offer, answer, trickle ICE, DTLS, the first decoded frame) plus that relay. The
difference between the two runs is what the server adds to a call's set-up.

Chromium (Debian's, as the browser tests use it) with fake camera, microphone and screen,
two contexts: the agent in the console, the customer on the demo page.

Per call: *agent sees the customer* = console first frame − accepted-at; *customer sees the
agent* = widget first frame − accepted-at; *call up* = the later of the two.

Run: `python -m benchmarks.calls` (real server) or `python -m benchmarks.calls --fake`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

from playwright.sync_api import Browser, Page, expect, sync_playwright

from benchmarks.relay import percentile
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, MEDIA_ARGS
from tests.browser.pages import ChatWidget, DeskConsole, prepare_call_context

CALLS = 10
TIMEOUT_MS = 15_000
# The hand-off parses the customer's message with the trained model.
SETUP_TIMEOUT_MS = 60_000
PAUSE_MS = 500
AGENT_NAME = "Bench Agent"
ALL_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")
_ANY = re.compile(r".+")  # the attribute is there, whatever its value
_REFERENCE = re.compile(r"\bCS-[0-9A-Z]{6}\b")

# Opens the two pages on one conversation with the agent and yields (console, widget).
Setup = Callable[[Browser], "contextlib.AbstractContextManager[Tuple[DeskConsole, ChatWidget]]"]


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(SETUP_TIMEOUT_MS)
    prepare_call_context(context)
    return context.new_page()


@contextlib.contextmanager
def real_server(browser: Browser) -> Iterator[Tuple[DeskConsole, ChatWidget]]:
    """`bot run`, a customer handed off on the demo page, an agent who accepted."""
    from tests.baton_server import start_baton_server
    from tests.e2e.desk_client import TEST_PASSWORD, create_agent

    with tempfile.TemporaryDirectory() as folder:
        server = start_baton_server(Path(folder))
        try:
            expect.set_options(timeout=SETUP_TIMEOUT_MS)
            widget = ChatWidget(_new_page(browser))
            widget.page.goto(f"{server.url}/webhooks/webchat/demo")
            widget.open()
            reply = widget.ask("I want to talk to a person")
            expect(reply).to_contain_text(_REFERENCE)
            # expect() waited for the reference: the search finds it (the ignore is for None).
            reference = _REFERENCE.search(reply.inner_text()).group(0)  # type: ignore[union-attr]
            conversation_id = widget.page.evaluate(
                "() => localStorage.getItem('baton.session.' + location.origin)"
            )
            agent = create_agent(server.database_url, name=AGENT_NAME, teams=ALL_TEAMS)
            console = DeskConsole(_new_page(browser))
            console.page.goto(f"{server.url}/desk/")
            console.sign_in(agent.email, TEST_PASSWORD)
            console.wait_live()
            console.select(conversation_id, reference)
            console.accept()
            expect(widget.call_request).to_be_visible()  # the server said `available`
            expect.set_options(timeout=TIMEOUT_MS)
            yield console, widget
        finally:
            server.stop()


@contextlib.contextmanager
def fake_servers(browser: Browser) -> Iterator[Tuple[DeskConsole, ChatWidget]]:
    """The fake desk and fake webchat server relaying signals in memory."""
    from tests.browser.fake_calls import CallFakes
    from tests.browser.fake_desk_server import conversation
    from tests.browser.fake_webchat_server import PREFIX

    password = secrets.token_urlsafe(16)
    fakes = CallFakes(password)
    conv = conversation("c-bench", reference="BW-9001", customer_name="Jane Doe")
    conv["state"] = "with_agent"
    conv["ticket"].update(status="assigned", assigned_agent={"id": 7, "name": "Sam Agent"})
    fakes.desk.add(conv)
    fakes.link("c-bench")
    try:
        expect.set_options(timeout=TIMEOUT_MS)
        console = DeskConsole(_new_page(browser))
        console.page.goto(fakes.desk.console_url)
        console.sign_in("sam@example.com", password)
        console.wait_live()
        console.select("c-bench", "BW-9001")
        widget = ChatWidget(_new_page(browser))
        widget.page.goto(f"{fakes.web.state.url}{PREFIX}/demo")
        widget.open()
        yield console, widget
    finally:
        fakes.close()


def _one_call(console: DeskConsole, widget: ChatWidget) -> Dict[str, float]:
    expect(console.call_video_button).to_be_enabled()
    console.call_video_button.click()
    expect(widget.call_prompt).to_be_visible()
    widget.call_accept.click()
    expect(widget.call_remote).to_have_attribute("data-first-frame-at", _ANY)
    expect(console.call_remote).to_have_attribute("data-first-frame-at", _ANY)
    accepted = float(widget.call.get_attribute("data-accepted-at") or "nan")
    agent_sees = float(console.call_remote.get_attribute("data-first-frame-at") or "nan")
    customer_sees = float(widget.call_remote.get_attribute("data-first-frame-at") or "nan")
    console.call_hangup.click()
    expect(console.call).to_have_attribute("data-state", "ended")
    expect(widget.call).to_have_attribute("data-state", "ended")
    widget.call_close.click()
    console.call_close.click()
    return {
        "agent": agent_sees - accepted,
        "customer": customer_sees - accepted,
        "up": max(agent_sees, customer_sees) - accepted,
    }


def measure(setup: Setup) -> Dict[str, List[float]]:
    samples: Dict[str, List[float]] = {"agent": [], "customer": [], "up": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("BATON_CHROMIUM", CHROMIUM),
            args=CHROMIUM_ARGS + MEDIA_ARGS,
        )
        try:
            with setup(browser) as (console, widget):
                for _ in range(CALLS):
                    for key, value in _one_call(console, widget).items():
                        samples[key].append(value)
                    console.page.wait_for_timeout(PAUSE_MS)
        finally:
            browser.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fake",
        action="store_true",
        help="the fake servers of tests/browser (the browsers' share alone), not `bot run`",
    )
    args = parser.parse_args()
    samples = measure(fake_servers if args.fake else real_server)
    where = (
        "FAKE servers (tests.browser.fake_calls, signals relayed in memory)"
        if args.fake
        else "the REAL server (`bot run`, embedded SQLite)"
    )
    names = {
        "agent": "agent sees the customer (console first frame − accept)",
        "customer": "customer sees the agent (widget first frame − accept)",
        "up": "call up (the later of the two)",
    }
    print(
        f"Calls: accept → first remote video frame, {CALLS} calls on loopback against "
        f"{where}, commit {_commit()}"
    )
    print()
    print("| measure | p50 | p95 | max |")
    print("|---|---|---|---|")
    for key, name in names.items():
        values = samples[key]
        print(
            f"| {name} | {percentile(values, 0.5):.0f} ms | {percentile(values, 0.95):.0f} ms "
            f"| {max(values):.0f} ms |"
        )
    print()
    print(f"Nearest rank over {CALLS} samples: p95 is the slowest call.")


if __name__ == "__main__":
    main()
