"""`webchat`: Baton's customer channel, speaking the protocol of Rasa's socketio channel.

Existing Rasa web widgets work against it unchanged (`session_request` /
`session_confirm` / `user_uttered` / `bot_uttered`). What it adds, and where:

- `channel`: the `InputChannel` Rasa builds from credentials.yml, its blueprint and
  the calls the agent desk makes (`emit_to_conversation`, `end_conversation`…);
- `socket_server`: the socket.io server (own origin plus the configured ones,
  packets over `webchat_max_packet_bytes` refused) and the client behind a socket;
- `sessions`: verified identity from a signed token, session ids only the server
  issues, a conversation kept to its verified owner, `history` after `session_confirm`;
  sessions always persist and sockets join their room with an awaited `enter_room`
  (Rasa's own channel drops replies there, RasaHQ/rasa#13027);
- `intake`: customer messages and typing in (allowlisted `/intent` payloads, NUL
  characters dropped, one conversation's messages in arrival order, the NLU-busy
  answer), relayed to the desk's `ConversationObserver` (`observers`);
- `calls`: `baton_call` signals to the desk's `CallObserver` (docs/calls.md);
- `output`: bot messages out to the conversation's room;
- `budgets`, `ordering`, `sockets`: the per-socket and per-address budgets
  (`bot.limits`), the per-conversation queues, the open sockets;
- `refusals`: every "no" (error codes in `protocol`, the customer's words in
  `bot.customer_notices`), and the disconnect of a socket past its refusals;
- `widget_routes`: the widget's files and, in demo mode, the demo page and tokens.

docs/security.md ("The customer channel") says what it does against outsiders.
New code imports from the module that defines a name; this package re-exports the
names other packages and credentials.yml use.
"""

from connectors.webchat.channel import WebchatInput
from connectors.webchat.init_payloads import INIT_PAYLOADS_VARIABLE, init_payloads_from_env
from connectors.webchat.observers import CallObserver, ConversationObserver
from connectors.webchat.output import WebchatOutput
from connectors.webchat.socket_server import client_address

__all__ = [
    "INIT_PAYLOADS_VARIABLE",
    "CallObserver",
    "ConversationObserver",
    "WebchatInput",
    "WebchatOutput",
    "client_address",
    "init_payloads_from_env",
]
