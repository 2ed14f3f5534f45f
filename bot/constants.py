"""Every wire-format name Baton's code uses: intents, slots, actions, channels.

The YAML files (domain.yml, data/) use the same strings; `tests/test_constants.py`
checks that each name here is declared in the domain, so a rename cannot drift.
"""

# --- Channels -----------------------------------------------------------------
WEBCHAT_CHANNEL = "webchat"
DESK_CHANNEL = "desk"

# --- Metadata on bot utterances an agent wrote (the tracker's one transcript) ---
# {"agent": {"id": 3, "name": "Sam"}} on a BotUttered event's metadata.
METADATA_AGENT = "agent"
# {"call": CallNotice} on a BotUttered a call wrote (docs/calls.md 1.3.3); never with "agent".
METADATA_CALL = "call"

# --- Metadata keys the webchat channel attaches to every user message ----------
# The raw, signed customer token: the action server verifies it again itself.
METADATA_CUSTOMER_TOKEN = "customer_token"  # noqa: S105 — a metadata key's name, not a token
METADATA_CHANNEL = "channel"
# The verified customer id, kept on each user turn so a session can be tied to its owner.
METADATA_CUSTOMER_ID = "customer_id"

# --- Intents ------------------------------------------------------------------
INTENT_GREET = "greet"
INTENT_GOODBYE = "goodbye"
INTENT_THANK = "thank"
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"
INTENT_BOT_CHALLENGE = "bot_challenge"
INTENT_OUT_OF_SCOPE = "out_of_scope"
INTENT_NLU_FALLBACK = "nlu_fallback"
INTENT_REQUEST_HUMAN = "request_human"
INTENT_REPORT_PROBLEM = "report_problem"
INTENT_INFORM = "inform"
INTENT_STOP = "stop"
INTENT_FAQ = "faq"
INTENT_CHITCHAT = "chitchat"
INTENT_TICKET_STATUS = "ask_ticket_status"
# Triggered by the agent desk (never typed): an agent resolved the conversation,
# or handed it back to the bot. Rules answer them (CSAT question, "you're back").
INTENT_HANDOFF_RESOLVED = "handoff_resolved"
INTENT_HANDOFF_RETURNED = "handoff_returned"
# The CSAT buttons send `/rate_support{"csat_rating": "4"}`; typed ratings are classified too.
INTENT_RATE_SUPPORT = "rate_support"

INTENT_ORDER_STATUS = "ask_order_status"
INTENT_INVOICE = "ask_invoice"
INTENT_CURRENT_PLAN = "ask_current_plan"
INTENT_DATA_USAGE = "ask_data_usage"
INTENT_UPDATE_CONTACT = "update_contact_details"
INTENT_PASSWORD_RESET = "reset_password"  # noqa: S105 — an intent's name, not a password

ACCOUNT_INTENTS = (
    INTENT_ORDER_STATUS,
    INTENT_INVOICE,
    INTENT_CURRENT_PLAN,
    INTENT_DATA_USAGE,
    INTENT_UPDATE_CONTACT,
    INTENT_PASSWORD_RESET,
)

# --- Entities -----------------------------------------------------------------
ENTITY_ORDER_NUMBER = "order_number"
ENTITY_EMAIL = "email"
ENTITY_TICKET_REFERENCE = "ticket_reference"
# Set by the CSAT buttons' payloads, never typed (typed digits go through the form's validation).
ENTITY_CSAT_RATING = "csat_rating"

# --- Slots --------------------------------------------------------------------
SLOT_CASE_CATEGORY = "case_category"
SLOT_CASE_DESCRIPTION = "case_description"
SLOT_ORDER_NUMBER = "order_number"
SLOT_CONTACT_EMAIL = "contact_email"
SLOT_CASE_URGENCY = "case_urgency"
SLOT_HANDOFF_REFERENCE = "handoff_reference"
SLOT_HUMAN_OFFERED = "human_offered"
# The signal rule (escalation.yml) that offered the person: the handoff's reason if accepted.
SLOT_HUMAN_OFFER_REASON = "human_offer_reason"
REQUESTED_SLOT = "requested_slot"
# The satisfaction survey after an agent resolved the conversation.
SLOT_CSAT_RATING = "csat_rating"
SLOT_CSAT_COMMENT = "csat_comment"

CASE_CATEGORIES = ("billing", "technical", "orders", "account", "other")
CASE_URGENCIES = ("low", "normal", "high", "critical")
# Categories where an agent needs the order or account number to act.
CATEGORIES_NEEDING_ORDER_NUMBER = ("orders",)

# What `csat_comment` holds when the customer chose not to comment: the form
# needs a value to finish, and the store records no comment for it.
CSAT_NO_COMMENT = "-"

# --- Actions and forms ----------------------------------------------------------
FORM_CASE = "case_form"
ACTION_VALIDATE_CASE_FORM = "validate_case_form"
ACTION_ACCOUNT_ANSWER = "action_account_answer"
ACTION_REQUEST_HANDOFF = "action_request_handoff"
ACTION_CANCEL_CASE = "action_cancel_case"
ACTION_ANSWER_HUMAN_OFFER = "action_answer_human_offer"
ACTION_HANDLE_FALLBACK = "action_handle_fallback"
# Offers a person when a signal of escalation.yml fires (bot/escalation/signals.py).
ACTION_OFFER_HUMAN = "action_offer_human"
ACTION_TICKET_STATUS = "action_ticket_status"
FORM_CSAT = "csat_form"
ACTION_VALIDATE_CSAT_FORM = "validate_csat_form"
ACTION_RECORD_CSAT = "action_record_csat"
# Rasa's own session start, overridden: a new session keeps a handed-off conversation paused.
ACTION_SESSION_START = "action_session_start"

# --- Responses the actions send -------------------------------------------------
UTTER_ASK_REPHRASE = "utter_ask_rephrase"
# The rephrase prompt with the FAQ questions the bot hesitated between as buttons.
UTTER_DID_YOU_MEAN = "utter_did_you_mean"
UTTER_OFFER_HUMAN = "utter_offer_human"
# The same offer, worded for an upset customer and for an answer that did not help.
UTTER_OFFER_HUMAN_UPSET = "utter_offer_human_upset"
UTTER_OFFER_HUMAN_REPEATED = "utter_offer_human_repeated"
# Said before the queue message when a signal hands the customer straight to a person.
UTTER_HANDOFF_SIGNAL = "utter_handoff_signal"
UTTER_LOGIN_REQUIRED = "utter_login_required"
UTTER_ACCOUNT_UNAVAILABLE = "utter_account_unavailable"
UTTER_HANDOFF_QUEUED = "utter_handoff_queued"
UTTER_HANDOFF_FAILED = "utter_handoff_failed"
# What the customer is told at handoff depends on who is there (bot/desk/availability.py).
UTTER_HANDOFF_AGENTS_ONLINE = "utter_handoff_agents_online"
UTTER_HANDOFF_NO_AGENTS_ONLINE = "utter_handoff_no_agents_online"
UTTER_HANDOFF_NO_AGENTS_ONLINE_EMAIL = "utter_handoff_no_agents_online_email"
UTTER_HANDOFF_AFTER_HOURS = "utter_handoff_after_hours"
UTTER_HANDOFF_AFTER_HOURS_EMAIL = "utter_handoff_after_hours_email"
UTTER_BACK_WITH_ASSISTANT = "utter_back_with_assistant"
UTTER_ASK_CSAT_RATING = "utter_ask_csat_rating"
UTTER_ASK_CSAT_COMMENT = "utter_ask_csat_comment"
UTTER_CSAT_THANKS = "utter_csat_thanks"
UTTER_CSAT_SKIPPED = "utter_csat_skipped"
UTTER_CASE_CANCELLED = "utter_case_cancelled"
UTTER_OUT_OF_SCOPE = "utter_out_of_scope"
UTTER_HUMAN_DECLINED = "utter_human_declined"
UTTER_ANYTHING_ELSE = "utter_anything_else"
