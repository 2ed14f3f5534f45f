"""Page objects for the chat widget, shared by the fake-server and the real-server browser tests.

Playwright's CSS locators pierce the widget's open shadow root, so the stable
`data-testid` hooks of bot/web/widget.js are all a test needs.
"""

from playwright.sync_api import Locator, Page, expect


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
        self.log = page.get_by_test_id("baton-messages")
        self.messages = page.get_by_test_id("baton-message")
        self.quick_replies = page.get_by_test_id("baton-quick-reply")

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
