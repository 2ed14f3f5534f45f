"""Page objects for the chat widget and the agent console, shared by the fake-server and
the real-server browser tests.

Playwright's CSS locators pierce the widget's open shadow root, so the stable
`data-testid` hooks of bot/web/widget.js are all a test needs. The console
(bot/web/console.*) is found by its labels and roles where it has them.
"""

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Tuple

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

# docs/calls.md 5.2: every RTCPeerConnection a page makes, reachable without a product hook.
# Added per context (`add_init_script`): it runs before the page's scripts, also under a CSP.
CAPTURE_PEER_CONNECTIONS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__batonTestPCs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__batonTestPCs.push(this); }
  };
})();"""

# A camera and microphone the browser blocks (the fake-UI flag would grant everything).
BLOCK_CAMERA = """(() => {
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException('blocked', 'NotAllowedError'));
})();"""

# The inbound video of a page's live peer connections (docs/calls.md 5.2).
INBOUND_VIDEO = """async () => {
  let bytes = 0, frames = 0;
  for (const pc of window.__batonTestPCs || []) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        bytes += s.bytesReceived || 0; frames += s.framesDecoded || 0;
      }
    });
  }
  return { bytes, frames };
}"""


def prepare_call_context(context: BrowserContext, block_camera: bool = False) -> None:
    """Give a context the peer-connection capture, and optionally a blocked camera."""
    context.add_init_script(CAPTURE_PEER_CONNECTIONS)
    if block_camera:
        context.add_init_script(BLOCK_CAMERA)


def wait_for_inbound_video(page: Page, timeout_ms: float = 15_000) -> Dict[str, Any]:
    """Poll getStats until video bytes and decoded frames arrive; return that reading.

    `wait_for_function` does not await a predicate's promise (any promise is truthy, so it
    would return after one poll), hence a synchronous predicate: each poll starts one
    getStats reading when none is running and checks the last one that finished.
    """
    page.evaluate("() => { window.__batonInbound = null; window.__batonInboundBusy = false; }")
    handle = page.wait_for_function(
        f"""() => {{
          if (!window.__batonInboundBusy) {{
            window.__batonInboundBusy = true;
            ({INBOUND_VIDEO})().then(
              (r) => {{ window.__batonInbound = r; }},
              () => {{}},
            ).finally(() => {{ window.__batonInboundBusy = false; }});
          }}
          const r = window.__batonInbound;
          return r && r.bytes > 0 && r.frames > 0 ? r : null;
        }}""",
        polling=100,
        timeout=timeout_ms,
    )
    return handle.json_value()


class ChatWidget:
    """The Baton widget embedded in a page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_test_id("baton-launcher")
        self.panel = page.get_by_test_id("baton-panel")
        self.status = page.get_by_test_id("baton-status")
        self.input = page.get_by_test_id("baton-input")
        self.send_button = page.get_by_test_id("baton-send")
        self.close_button = page.get_by_test_id("baton-close")
        self.counter = page.get_by_test_id("baton-counter")
        self.typing = page.get_by_test_id("baton-typing")
        self.typing_label = page.get_by_test_id("baton-typing-label")
        self.handoff = page.get_by_test_id("baton-handoff")
        self.log = page.get_by_test_id("baton-messages")
        self.messages = page.get_by_test_id("baton-message")
        self.quick_replies = page.get_by_test_id("baton-quick-reply")
        # Calls (docs/calls.md 5.1)
        self.call_request = page.get_by_test_id("baton-call-request")
        self.call = page.get_by_test_id("baton-call")
        self.call_prompt = page.get_by_test_id("baton-call-prompt")
        self.call_accept = page.get_by_test_id("baton-call-accept")
        self.call_decline = page.get_by_test_id("baton-call-decline")
        self.call_hangup = page.get_by_test_id("baton-call-hangup")
        self.call_remote = page.get_by_test_id("baton-call-remote")
        self.call_local = page.get_by_test_id("baton-call-local")
        self.call_notice = page.get_by_test_id("baton-call-notice")
        self.call_join = page.get_by_test_id("baton-call-join")
        self.call_timer = page.get_by_test_id("baton-call-timer")
        self.call_close = page.get_by_test_id("baton-call-close")

    def from_sender(self, sender: str) -> Locator:
        """Message items of one sender: "user", "bot", "agent" or "system"."""
        return self.page.locator(f'[data-testid="baton-message"][data-sender="{sender}"]')

    def open(self) -> None:
        """Open the panel and wait until the session is confirmed."""
        if not self.panel.is_visible():
            self.launcher.click()
        expect(self.panel).to_be_visible()
        self.wait_online()

    def wait_online(self) -> None:
        expect(self.panel).to_have_attribute("data-state", "online")

    def send(self, text: str) -> None:
        """Type a message and send it with Enter."""
        self.input.fill(text)
        self.input.press("Enter")

    def ask(self, text: str) -> Locator:
        """Send a message and wait for the next bot message; return it."""
        before = self.from_sender("bot").count()
        self.send(text)
        reply = self.from_sender("bot").nth(before)
        expect(reply).to_be_visible()
        return reply

    def record_states(self) -> None:
        """Collect every connection state the panel passes through in `window.__batonStates`.

        States such as "reconnecting" can be too brief for an auto-waiting assertion to see.
        """
        self.page.evaluate(
            """() => {
                const panel = document.getElementById('baton-widget')
                    .shadowRoot.querySelector('[data-testid="baton-panel"]');
                window.__batonStates = [];
                new MutationObserver(() => window.__batonStates.push(panel.dataset.state))
                    .observe(panel, { attributes: true, attributeFilter: ['data-state'] });
            }"""
        )


class DeskConsole:
    """The agent console at /desk/."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.signin_form = page.get_by_test_id("desk-signin")
        self.email = page.get_by_label("Email", exact=True)
        self.password = page.get_by_label("Password", exact=True)
        self.signin_error = page.get_by_test_id("desk-signin-error")
        self.agent = page.get_by_test_id("desk-agent")
        self.role = page.get_by_test_id("desk-role")
        self.status = page.get_by_label("Your status")
        self.sign_out_button = page.get_by_role("button", name="Sign out")
        self.alert = page.get_by_test_id("desk-alert")
        self.notice = page.get_by_test_id("desk-notice")
        self.offer = page.get_by_test_id("desk-offer")
        self.offer_accept = page.get_by_test_id("desk-offer-accept")
        self.offer_countdown = page.get_by_test_id("desk-offer-countdown")
        self.rows = page.get_by_test_id("desk-queue-row")
        self.references = page.get_by_test_id("desk-queue-reference")
        self.chat = page.get_by_test_id("desk-chat")
        self.chat_title = page.locator("#chat-title")
        self.transcript = page.get_by_role("log", name="Conversation transcript")
        self.messages = page.get_by_test_id("desk-message")
        self.typing = page.get_by_test_id("desk-typing")
        self.composer = page.get_by_label("Message to the customer")
        self.send_button = page.get_by_test_id("desk-send")
        self.accept_button = page.get_by_test_id("desk-accept")
        self.transfer_button = page.get_by_test_id("desk-transfer")
        self.escalate_button = page.get_by_test_id("desk-escalate")
        self.resolve_button = page.get_by_test_id("desk-resolve")
        self.return_button = page.get_by_test_id("desk-return")
        self.action_form = page.get_by_test_id("desk-action-form")
        self.action_team = page.get_by_label("Team", exact=True)
        self.action_reason = page.get_by_label("Reason (optional)")
        self.action_submit = page.get_by_test_id("desk-action-submit")
        self.context = page.get_by_test_id("desk-context")
        self.sentiment_marks = page.get_by_test_id("desk-sentiment-mark")
        self.note_input = page.get_by_label("Add an internal note (not sent to the customer)")
        self.add_note_button = page.get_by_role("button", name="Add note")
        self.notes = page.get_by_test_id("desk-note")
        # Calls (docs/calls.md 5.1)
        self.call_video_button = page.get_by_test_id("desk-call-video")
        self.call_screen_button = page.get_by_test_id("desk-call-screen")
        self.call = page.get_by_test_id("desk-call")
        self.call_accept = page.get_by_test_id("desk-call-accept")
        self.call_decline = page.get_by_test_id("desk-call-decline")
        self.call_hangup = page.get_by_test_id("desk-call-hangup")
        self.call_remote = page.get_by_test_id("desk-call-remote")
        self.call_local = page.get_by_test_id("desk-call-local")
        self.call_notice = page.get_by_test_id("desk-call-notice")
        self.call_join = page.get_by_test_id("desk-call-join")
        self.call_timer = page.get_by_test_id("desk-call-timer")
        self.call_close = page.get_by_test_id("desk-call-close")
        self.call_history = page.get_by_test_id("desk-history-call")

    def row(self, conversation_id: str) -> Locator:
        return self.page.locator(
            f'[data-testid="desk-queue-row"][data-conversation-id="{conversation_id}"]'
        )

    def context_field(self, name: str) -> Locator:
        """One fact of the context panel: reference, priority, status, team, level, customer,
        first-due, resolution-due, sentiment, reasons, details or history."""
        return self.page.get_by_test_id(f"desk-ctx-{name}")

    def from_sender(self, sender: str) -> Locator:
        """Transcript messages of one sender: "customer", "bot", "agent" or "system"."""
        return self.page.locator(f'[data-testid="desk-message"][data-sender="{sender}"]')

    def sign_in(self, email: str, password: str) -> None:
        expect(self.signin_form).to_be_visible()
        self.email.fill(email)
        self.password.fill(password)
        self.page.get_by_role("button", name="Sign in").click()

    def wait_live(self) -> None:
        """Wait until the live socket is open."""
        expect(self.page.locator("body")).to_have_attribute("data-live", "connected")

    def loads(self) -> int:
        """How many times the selected conversation's detail has been rendered."""
        return int(self.chat.get_attribute("data-loads") or 0)

    def wait_loads_after(self, count: int) -> None:
        """Wait until the detail has been rendered again since `loads()` was `count`."""
        self.page.wait_for_function(
            "n => Number(document.getElementById('chat').dataset.loads) > n", arg=count
        )

    def select(self, conversation_id: str, reference: str) -> None:
        """Open a conversation from the queue and wait until its detail is shown."""
        self.row(conversation_id).click()
        expect(self.row(conversation_id)).to_have_attribute("aria-current", "true")
        expect(self.context_field("reference")).to_have_text(reference)

    def accept(self) -> None:
        self.accept_button.click()
        expect(self.composer).to_be_enabled()


@contextmanager
def live_pages(
    browser: Browser,
    timeout_ms: float,
    prepare: Callable[[BrowserContext], None] | None = None,
    count: int = 2,
) -> Iterator[Tuple[Page, ...]]:
    """Pages against the real product, each in its own context (its own cookies and
    storage), their actions waiting `timeout_ms`; no script on them may throw.

    Args:
        browser: the (media) browser.
        timeout_ms: how long the pages' actions wait.
        prepare: run on each context before its page opens (e.g. `prepare_call_context`).
        count: how many pages.
    """
    contexts: List[BrowserContext] = []
    errors: List[str] = []
    pages = []
    try:
        for _ in range(count):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(timeout_ms)
            if prepare is not None:
                prepare(context)
            contexts.append(context)
            page = context.new_page()
            page.on("pageerror", lambda exc, page=page: errors.append(f"{page.url}: {exc}"))
            pages.append(page)
        yield tuple(pages)
    finally:
        for context in contexts:
            context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"
