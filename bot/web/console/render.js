/* Rendering of the desk view: the queue, the selected conversation's transcript and context,
 * the action form, the offer banner and the clocks. DOM only: it reads the state and writes
 * the page, always as text (dom.js's h and textContent), never as HTML. */

import { $, h } from './dom.js';
import {
  customerFacts, customerName, fmtClock, fmtDateTime, fmtDuration, dueText, historyText, humanize,
  levelText, messageKey, parseTime, priorityClass, sentimentText,
} from './format.js';
import { allowed, currentOffer, deadline, openOffers, stateText } from './rules.js';
import { state } from './state.js';
import { callHistoryText, renderCallButtons, tickCall } from './calls.js';

const TYPING_STALE_MS = 15000; // hide the customer's indicator if its "false" never comes

// --- Queue ------------------------------------------------------------------------------
const queueRow = (c) => {
  const t = c.ticket || {};
  const id = c.conversation_id;
  const offered = Boolean(c.offered_to_me) || state.offers.has(id);
  const unread = state.unread.get(id) || 0;
  const sla = deadline(c);
  // Selecting a row: main.js listens on the list (one listener for every row).
  const button = h('button', {
    type: 'button', class: 'row', 'data-testid': 'desk-queue-row', 'data-conversation-id': id,
    'data-state': c.state, 'data-offered': String(offered),
    'aria-current': id === state.selected ? 'true' : null,
  },
  h('span', { class: 'line' },
    h('span', { class: `badge ${priorityClass(t.priority)}`, 'data-testid': 'desk-priority', text: t.priority || '–' }),
    h('span', { class: 'name', 'data-testid': 'desk-queue-customer', text: customerName(c.customer) }),
    offered ? h('span', { class: 'tag offered', text: 'Offered to you' }) : null,
    unread ? h('span', { class: 'tag unread', text: `${unread} new` }) : null),
  h('span', { class: 'line meta' },
    h('span', { text: t.team_name || t.team || 'no team' }),
    h('span', { text: t.category || 'no category' }),
    h('span', { class: 'ref', 'data-testid': 'desk-queue-reference', text: t.reference || '' })),
  c.last_message && c.last_message.text
    ? h('span', { class: 'line preview', text: c.last_message.text }) : null,
  h('span', { class: 'line meta' },
    h('span', { class: 'waiting', 'data-testid': 'desk-waiting', 'data-since': c.waiting_since || '' }),
    h('span', {
      class: 'sla', 'data-testid': 'desk-sla', 'data-due': sla.due || '', 'data-label': sla.label,
    })),
  h('span', { class: 'line state', 'data-testid': 'desk-queue-state', text: stateText(c, state.agent) }));
  return h('li', { class: offered ? 'offered' : null }, button);
};

export const renderQueue = () => {
  const list = $('queue-list');
  const focused = document.activeElement && document.activeElement.closest
    && document.activeElement.closest('#queue-list [data-conversation-id]');
  const focusId = focused && focused.dataset.conversationId;
  list.textContent = '';
  state.queue.forEach((c) => list.append(queueRow(c)));
  $('queue-empty').hidden = state.queue.length > 0;
  $('queue-count').textContent = `(${state.queue.length})`;
  if (focusId) {
    const again = [...list.querySelectorAll('[data-conversation-id]')]
      .find((el) => el.dataset.conversationId === focusId);
    if (again) again.focus();
  }
  // An offer for a conversation that is no longer waiting is over.
  for (const id of [...state.offers.keys()]) {
    const c = state.queue.find((q) => q.conversation_id === id);
    if (c && c.state !== 'queued') state.offers.delete(id);
  }
  tick();
};

/** Arrow keys move between the queue's rows. */
export const moveInQueue = (event) => {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const rows = [...$('queue-list').querySelectorAll('button.row')];
  const at = rows.indexOf(document.activeElement);
  if (at < 0) return;
  event.preventDefault();
  const next = rows[at + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next) next.focus();
};

// --- Transcript -------------------------------------------------------------------------
const transcriptEl = () => $('transcript');
const nearBottom = () => {
  const t = transcriptEl();
  return t.scrollHeight - t.scrollTop - t.clientHeight < 40;
};
export const scrollDown = () => { const t = transcriptEl(); t.scrollTop = t.scrollHeight; };

const ownMessage = (m) => Boolean(m.sender === 'agent' && m.agent && state.agent && m.agent.id === state.agent.id);

const messageItem = (m) => {
  if (m.sender === 'system') {
    return h('li', { class: 'msg system', 'data-testid': 'desk-message', 'data-sender': 'system', title: m.at || null },
      h('p', { class: 'text', 'data-testid': 'desk-message-text', text: m.text || '' }));
  }
  const sender = ['customer', 'bot', 'agent'].includes(m.sender) ? m.sender : 'bot';
  let who = 'Bot';
  if (sender === 'customer') who = customerName(state.detail && state.detail.customer);
  if (sender === 'agent') who = (m.agent && m.agent.name) || 'Agent';
  const own = sender === 'agent' && ownMessage(m);
  const at = parseTime(m.at);
  return h('li', {
    class: `msg ${sender}${own ? ' own' : ''}`, 'data-testid': 'desk-message', 'data-sender': sender,
  },
  h('p', { class: 'who' },
    h('span', { class: 'name', 'data-testid': 'desk-message-author', text: who }),
    at === null ? null : h('time', { datetime: m.at, text: fmtClock(at) })),
  h('p', { class: 'text', 'data-testid': 'desk-message-text', text: m.text || '' }));
};

/** The transcript as fetched, plus live messages that arrived after it was built. */
const allMessages = () => [...((state.detail && state.detail.transcript) || []), ...state.live];

const renderTranscript = (first) => {
  const t = transcriptEl();
  const stick = first || nearBottom();
  const fetched = (state.detail && state.detail.transcript) || [];
  const keys = new Set(fetched.map(messageKey));
  state.live = state.live.filter((m) => !keys.has(messageKey(m)));
  state.seen = new Set();
  const items = [];
  for (const m of allMessages()) {
    const key = messageKey(m);
    if (state.seen.has(key)) continue;
    state.seen.add(key);
    items.push(messageItem(m));
  }
  t.replaceChildren(...items);
  if (stick) scrollDown();
};

/** Show one message unless it is already there; true if it was added. */
export const addMessage = (m) => {
  const key = messageKey(m);
  if (state.seen.has(key)) return false;
  state.seen.add(key);
  state.live.push(m);
  if (!state.detail) return true; // shown with the transcript when it arrives
  const stick = nearBottom() || ownMessage(m);
  transcriptEl().append(messageItem(m));
  if (stick) scrollDown();
  if (m.sender === 'customer') renderSentiment();
  return true;
};

export const renderDetail = (d) => {
  const first = !state.detail || state.detail.conversation_id !== d.conversation_id;
  state.detail = d;
  renderTranscript(first);
  renderContext(d);
  renderSelection();
  const chat = $('chat');
  chat.dataset.loads = String(Number(chat.dataset.loads || 0) + 1);
};

// --- Context ----------------------------------------------------------------------------
const dueField = (el, due) => {
  el.textContent = '';
  el.dataset.due = due || '';
  el.dataset.clock = 'true';
};

const renderSentiment = () => {
  const box = $('ctx-sentiment');
  const labelled = allMessages().filter((m) => m.sender === 'customer' && m.sentiment && m.sentiment.label);
  box.textContent = '';
  if (!labelled.length) {
    box.removeAttribute('role');
    box.removeAttribute('aria-label');
    box.append(h('span', { class: 'muted', text: 'no sentiment data' }));
    return;
  }
  // The component's verdict and its reasons (cues) say why a message reads as frustrated.
  box.setAttribute('role', 'img');
  box.setAttribute('aria-label', `Customer sentiment, oldest first: ${labelled.map((m) => sentimentText(m.sentiment)).join('; ')}`);
  labelled.forEach((m, i) => {
    const label = String(m.sentiment.label);
    const known = ['negative', 'neutral', 'positive'].includes(label) ? label : 'other';
    const frustrated = m.sentiment.frustrated === true;
    box.append(h('span', {
      class: `mark ${known}${frustrated ? ' frustrated' : ''}`, 'data-testid': 'desk-sentiment-mark',
      'data-label': label, 'data-frustrated': String(frustrated),
      title: `Message ${i + 1}: ${sentimentText(m.sentiment)}`,
    }));
  });
};

const renderContext = (d) => {
  const t = d.ticket || {};
  const ctx = d.context || {};
  $('context-empty').hidden = true;
  $('context-body').hidden = false;
  $('ctx-reference').textContent = t.reference || '–';
  const priority = $('ctx-priority');
  priority.textContent = '';
  priority.append(h('span', { class: `badge ${priorityClass(t.priority)}`, text: t.priority || '–' }));
  $('ctx-status').textContent = `${stateText(d, state.agent)} · ticket ${t.status || 'unknown'}`;
  $('ctx-team').textContent = t.team_name || t.team || '–';
  $('ctx-level').textContent = levelText(t);

  const facts = customerFacts(d.customer, ctx.customer);
  const customer = $('ctx-customer');
  customer.textContent = '';
  customer.append(
    h('span', { text: facts.name }), ' ',
    h('span', { class: `tag ${facts.verified ? 'verified' : 'unverified'}`, text: facts.verifiedText }),
  );
  if (facts.tier) customer.append(' ', h('span', { class: 'tag', text: facts.tier }));

  dueField($('ctx-first-due'), t.first_response_due);
  dueField($('ctx-resolution-due'), t.resolution_due);
  renderSentiment();

  const reasons = $('ctx-reasons');
  reasons.textContent = '';
  (t.reasons || []).forEach((r) => reasons.append(h('li', {},
    h('span', { class: 'tag', text: r.type || 'reason' }), ' ',
    h('span', { text: r.text || r.code || '' }))));
  if (!reasons.children.length) reasons.append(h('li', { class: 'muted', text: 'none recorded' }));

  const details = $('ctx-details');
  details.textContent = '';
  for (const [key, value] of Object.entries(ctx.details || {})) {
    if (value === null || value === undefined) continue;
    details.append(h('dt', { text: humanize(key) }),
      h('dd', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) }));
  }
  if (!details.children.length) details.append(h('dd', { class: 'muted', text: 'none collected' }));

  const history = $('ctx-history');
  history.textContent = '';
  (d.history || []).forEach((row, i, rows) => {
    const at = h('time', { datetime: row.at || null, text: fmtDateTime(row.at) });
    if (/^call_(offered|started|ended)$/.test(row.action || '')) {
      history.append(h('li', { 'data-testid': 'desk-history-call', 'data-action': row.action },
        at, ' ', callHistoryText(row, rows)));
      return;
    }
    history.append(h('li', {}, at, ' ', historyText(row)));
  });
  if (!history.children.length) history.append(h('li', { class: 'muted', text: 'no history' }));

  renderNotes();
  tick();
};

export const renderNotes = () => {
  const notes = $('ctx-notes');
  notes.textContent = '';
  ((state.detail && state.detail.notes) || []).forEach((n) => notes.append(h('li', { 'data-testid': 'desk-note' },
    h('p', { class: 'who' },
      h('span', { class: 'name', text: (n.agent && n.agent.name) || 'Agent' }), ' ',
      h('time', { datetime: n.at || null, text: fmtDateTime(n.at) })),
    h('p', { class: 'text', 'data-testid': 'desk-note-text', text: n.text || '' }))));
  if (!notes.children.length) notes.append(h('li', { class: 'muted', text: 'no notes yet' }));
};

/** The title, the action buttons, the composer and the note form, as the state allows. */
export const renderSelection = () => {
  const d = state.detail;
  const can = allowed(state);
  $('chat-title').textContent = d
    ? `${customerName(d.customer)} · ${(d.ticket && d.ticket.reference) || d.conversation_id}`
    : (state.selected ? 'Loading…' : 'Select a conversation');
  const accept = $('act-accept');
  accept.disabled = !can.accept;
  accept.textContent = can.takeOver ? 'Take over' : 'Accept';
  Object.values(ACTION_BUTTONS).forEach((id) => { $(id).disabled = !can.work; });
  if (!can.work && state.action && !state.busy) closeActionForm();
  const input = $('composer-input');
  input.disabled = !can.chat;
  input.placeholder = can.chat ? 'Write to the customer…'
    : (d && d.state === 'queued' ? 'Accept the conversation to reply' : 'You cannot reply in this conversation');
  $('composer-send').disabled = !can.chat;
  renderCallButtons();
  $('note-input').disabled = !can.note;
  $('note-add').disabled = !can.note;
  if (!d) {
    $('context-empty').hidden = false;
    $('context-body').hidden = true;
  }
};

// --- The action form --------------------------------------------------------------------
export const ACTIONS = {
  transfer: { legend: 'Transfer to another team', submit: 'Transfer', path: 'transfer', done: 'Transferred.' },
  escalate: { legend: 'Escalate to a supervisor', submit: 'Escalate', path: 'escalate', done: 'Escalated.' },
  resolve: { legend: 'Resolve the conversation', submit: 'Resolve', path: 'resolve', done: 'Resolved.' },
  return: { legend: 'Give the conversation back to the bot', submit: 'Return to bot', path: 'return-to-bot', done: 'Returned to the bot.' },
  // Answers {conversation, blocks}: the Detail is its `conversation`.
  block: {
    legend: 'End the conversation and block the customer', submit: 'End and block', path: 'block',
    done: 'Conversation ended; the customer is blocked.', reasonRequired: true, detailIn: 'conversation',
  },
};
export const ACTION_BUTTONS = {
  transfer: 'act-transfer', escalate: 'act-escalate', resolve: 'act-resolve', return: 'act-return', block: 'act-block',
};

export const openActionForm = (kind) => {
  const spec = ACTIONS[kind];
  state.action = kind;
  $('action-legend').textContent = spec.legend;
  $('action-submit').textContent = spec.submit;
  const teamField = $('action-team-field');
  const teamSelect = $('action-team');
  teamField.hidden = kind !== 'transfer';
  teamSelect.required = kind === 'transfer';
  teamSelect.disabled = kind !== 'transfer';
  if (kind === 'transfer') {
    const current = state.detail && state.detail.ticket && state.detail.ticket.team;
    teamSelect.textContent = '';
    teamSelect.append(h('option', { value: '', text: 'Choose a team' }));
    state.teams.filter((t) => t.key !== current)
      .forEach((t) => teamSelect.append(h('option', { value: t.key, text: t.name || t.key })));
  }
  $('action-reason').value = '';
  $('action-reason').required = Boolean(spec.reasonRequired);
  $('action-reason-label').textContent = spec.reasonRequired ? 'Reason (kept in the history)' : 'Reason (optional)';
  $('action-address-field').hidden = kind !== 'block';
  $('action-address').checked = false;
  $('action-form').hidden = false;
  (kind === 'transfer' ? teamSelect : $('action-reason')).focus();
};

export const closeActionForm = (refocus) => {
  const kind = state.action;
  state.action = null;
  $('action-form').hidden = true;
  if (refocus && kind && !$(ACTION_BUTTONS[kind]).disabled) $(ACTION_BUTTONS[kind]).focus();
};

// --- The customer's typing --------------------------------------------------------------
let customerTypingTimer = null;

export const setCustomerTyping = (on) => {
  const el = $('typing');
  clearTimeout(customerTypingTimer);
  if (on) {
    el.textContent = `${customerName(state.detail && state.detail.customer)} is typing…`;
    el.hidden = false;
    customerTypingTimer = setTimeout(() => setCustomerTyping(false), TYPING_STALE_MS);
  } else {
    el.hidden = true;
    el.textContent = '';
  }
};

// --- Offers -----------------------------------------------------------------------------
export const renderOffer = () => {
  const box = $('offer');
  const now = Date.now();
  state.offers = openOffers(state.offers, now);
  const offer = state.agent ? currentOffer(state.offers, now) : null;
  box.hidden = !offer;
  if (!offer) { delete box.dataset.conversationId; return; }
  if (box.dataset.conversationId !== offer.id) {
    const c = state.queue.find((q) => q.conversation_id === offer.id);
    const t = (c && c.ticket) || {};
    $('offer-text').textContent = c
      ? [customerName(c.customer), t.priority, t.team_name || t.team, t.reference].filter(Boolean).join(' · ')
      : 'A customer is waiting.';
    box.dataset.conversationId = offer.id;
  }
  $('offer-countdown').textContent = offer.expires === Infinity
    ? '' : `Accept within ${fmtDuration(offer.expires - now)}`;
};

/** A new offer came: describe the banner afresh. */
export const offerChanged = () => {
  delete $('offer').dataset.conversationId;
  renderOffer();
};

// --- Clocks -----------------------------------------------------------------------------
/** Every second: the deadlines, the waiting times, the offer's countdown and the call's timer. */
export const tick = () => {
  const now = Date.now();
  document.querySelectorAll('[data-due]').forEach((el) => {
    const due = parseTime(el.dataset.due);
    if (due === null) { el.textContent = '–'; el.classList.remove('overdue'); return; }
    const over = due < now;
    el.classList.toggle('overdue', over);
    el.dataset.overdue = String(over);
    el.textContent = dueText(due, now, { label: el.dataset.label, clock: el.dataset.clock ? fmtClock(due) : '' });
  });
  document.querySelectorAll('[data-since]').forEach((el) => {
    const since = parseTime(el.dataset.since);
    el.textContent = since === null ? '' : `waiting ${fmtDuration(now - since)}`;
  });
  renderOffer();
  tickCall();
};
