"""Call set-up time: from the customer's consent click to the first remote video frame.

Runs against the **fake servers** of tests/browser (tests.browser.fake_calls: the fake
desk and the fake webchat server relaying the signals of docs/calls.md in memory), not the
real product: the browser side was built before the server side landed. What it measures is
the browsers' share of a call's set-up on loopback: the customer's getUserMedia, the
`accept` trip, the agent's offer, the answer, trickle ICE (host candidates, no STUN/TURN)
and the first decoded frame; the real server adds its database writes to each signal.

Chromium (Debian's, as the browser tests use it) with fake camera, microphone and screen,
two contexts: the agent in the console, the customer on the demo page. Ten times, in one
conversation: the agent clicks *Video call*, the customer clicks *Accept video call*, both
pages' remote videos present their first frame (`data-first-frame-at`, epoch ms from
`requestVideoFrameCallback`), the agent hangs up, 0.5 s pause.

Per call: *agent sees the customer* = console first frame − accepted-at; *customer sees the
agent* = widget first frame − accepted-at; *call up* = the later of the two.

Run: `python -m benchmarks.calls`.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from typing import Dict, List

from playwright.sync_api import Page, expect, sync_playwright

from benchmarks.relay import percentile
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, MEDIA_ARGS
from tests.browser.fake_calls import CallFakes
from tests.browser.fake_desk_server import conversation
from tests.browser.fake_webchat_server import PREFIX
from tests.browser.pages import ChatWidget, DeskConsole, prepare_call_context

CALLS = 10
CONVERSATION = "c-bench"
REFERENCE = "BW-9001"
TIMEOUT_MS = 15_000
PAUSE_MS = 500
_ANY = re.compile(r".+")  # the attribute is there, whatever its value


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _new_page(browser, viewport: Dict[str, int]) -> Page:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    prepare_call_context(context)
    return context.new_page()


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


def measure() -> Dict[str, List[float]]:
    password = secrets.token_urlsafe(16)
    fakes = CallFakes(password)
    conv = conversation(CONVERSATION, reference=REFERENCE, customer_name="Jane Doe")
    conv["state"] = "with_agent"
    conv["ticket"].update(status="assigned", assigned_agent={"id": 7, "name": "Sam Agent"})
    fakes.desk.add(conv)
    fakes.link(CONVERSATION)
    samples: Dict[str, List[float]] = {"agent": [], "customer": [], "up": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("BATON_CHROMIUM", CHROMIUM),
                args=CHROMIUM_ARGS + MEDIA_ARGS,
            )
            expect.set_options(timeout=TIMEOUT_MS)
            viewport = {"width": 1280, "height": 800}
            console = DeskConsole(_new_page(browser, viewport))
            console.page.goto(fakes.desk.console_url)
            console.sign_in("sam@example.com", password)
            console.wait_live()
            console.select(CONVERSATION, REFERENCE)
            widget = ChatWidget(_new_page(browser, viewport))
            widget.page.goto(f"{fakes.web.state.url}{PREFIX}/demo")
            widget.open()
            for _ in range(CALLS):
                for key, value in _one_call(console, widget).items():
                    samples[key].append(value)
                console.page.wait_for_timeout(PAUSE_MS)
            browser.close()
    finally:
        fakes.close()
    return samples


def main() -> None:
    samples = measure()
    names = {
        "agent": "agent sees the customer (console first frame − accept)",
        "customer": "customer sees the agent (widget first frame − accept)",
        "up": "call up (the later of the two)",
    }
    print(
        f"Calls: accept → first remote video frame, {CALLS} calls on loopback, "
        f"FAKE servers (tests.browser.fake_calls), commit {_commit()}"
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
