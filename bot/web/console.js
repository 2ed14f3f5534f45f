/* Baton agent console: plain JavaScript, no build step, no framework.
 * Speaks the desk's HTTP API and live WebSocket as docs/desk.md describes them.
 * Customer and agent text may contain markup: every server value is put in the page
 * with textContent / text nodes, never parsed as HTML.
 */
(() => {
  'use strict';

  const API = '/desk/api';
  const TYPING_THROTTLE_MS = 3000; // at most one "typing: true" per this long
  const TYPING_IDLE_MS = 3000;     // "typing: false" after this long without a keystroke
  const TYPING_STALE_MS = 15000;   // hide the customer's indicator if its "false" never comes
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const PING_MS = 25000;
  const LEADS = ['supervisor', 'admin'];

  const $ = (id) => document.getElementById(id);

  /** Build an element; `text` sets textContent, `on*` adds listeners, null values are skipped. */
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    kids.forEach((c) => { if (c !== null && c !== undefined && c !== false) el.append(c); });
    return el;
  };

  const state = {
    agent: null,
    csrf: null,
    teams: [],
    queue: [],
    selected: null,     // conversation id
    detail: null,       // the selected conversation's Detail
    live: [],           // live messages of the selected conversation, not yet in a fetched transcript
    seen: new Set(),    // keys of the messages shown in the transcript
    offers: new Map(),  // conversation id -> expires_at (ms)
    unread: new Map(),  // conversation id -> customer messages since it was last shown
    busy: false,        // an action request is in flight
    action: null,       // the action whose form is open
    ws: null,
    wsAttempts: 0,
    wsTimer: null,
    pingTimer: null,
    ticker: null,
    customerTypingTimer: null,
    typing: { on: false, for: null, sentAt: 0, idle: null },
  };

  // --- Formatting ------------------------------------------------------------------------
  const customerName = (customer) => (customer && customer.name) || 'Guest';

  const parseTime = (t) => {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  };

  const fmtDuration = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min`;
    const hours = Math.floor(m / 60);
    if (hours < 48) return `${hours} h ${m % 60} min`;
    return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  };

  const fmtClock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  const fmtDateTime = (t) => {
    const ms = parseTime(t);
    return ms === null ? '' : new Date(ms).toLocaleString([], {
      day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
    });
  };

  const humanize = (key) => String(key).replace(/^case_/, '').replace(/_/g, ' ');

  const enc = encodeURIComponent;

  /** The dedupe key of a message: the server's id when it sends one, else time + sender + text. */
  const messageKey = (m) => (m.id !== undefined && m.id !== null
    ? `id:${m.id}` : `${m.at}\u0000${m.sender}\u0000${m.text}`);

  // --- The API ----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  const api = async (method, path, body) => {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    let res;
    try {
      res = await fetch(API + path, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'cannot reach the desk server');
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const error = new ApiError(res.status, (data && data.error) || `${res.status} ${res.statusText}`);
      // Signed in a moment ago, and now not: the session expired or was ended elsewhere.
      if (res.status === 401 && state.agent) signedOut('Your session has ended. Please sign in again.');
      throw error;
    }
    return data;
  };

  // --- Alerts and notices -----------------------------------------------------------------
  const showAlert = (text) => {
    $('alert-text').textContent = text;
    $('alert').hidden = false;
  };
  const clearAlert = () => {
    $('alert').hidden = true;
    $('alert-text').textContent = '';
  };
  const notify = (text) => { $('notice').textContent = text; };

  /** Run a user's action: clear the last error, show this one's if it fails. */
  const attempt = async (what, fn) => {
    clearAlert();
    try {
      return await fn();
    } catch (e) {
      if (e.status !== 401) showAlert(`${what}: ${e.message}`);
      return undefined;
    }
  };

  // --- Sign-in and sign-out ---------------------------------------------------------------
  const showSignin = (message) => {
    $('app').hidden = true;
    $('signin').hidden = false;
    const error = $('signin-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('signin-email').focus();
  };

  const enter = (me) => {
    state.agent = me.agent;
    state.csrf = me.csrf_token;
    $('signin').hidden = true;
    $('signin-error').hidden = true;
    $('app').hidden = false;
    renderMe();
    renderSelection();
    loadTeams();
    refreshQueue();
    connectLive();
    clearInterval(state.ticker);
    state.ticker = setInterval(tick, 1000);
  };

  /** Back to the sign-in form, forgetting everything of the session. */
  const signedOut = (message) => {
    stopOurTyping();
    state.agent = null;
    state.csrf = null;
    state.queue = [];
    state.selected = null;
    state.detail = null;
    state.live = [];
    state.seen = new Set();
    state.offers.clear();
    state.unread.clear();
    clearInterval(state.ticker);
    clearInterval(state.pingTimer);
    clearTimeout(state.wsTimer);
    state.wsTimer = null;
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
    setLive('offline');
    $('queue-list').textContent = '';
    $('transcript').textContent = '';
    clearAlert();
    notify('');
    closeActionForm();
    renderOffer();
    showSignin(message);
  };

  const signIn = async (event) => {
    event.preventDefault();
    const email = $('signin-email').value.trim();
    const password = $('signin-password').value;
    if (!email || !password) {
      showSignin('Enter your email and password.');
      return;
    }
    const button = event.target.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const me = await api('POST', '/login', { email, password });
      $('signin-password').value = '';
      enter(me);
    } catch (e) {
      showSignin(e.status === 401 ? 'Wrong email or password.' : `Could not sign in: ${e.message}`);
      $('signin-password').focus();
    } finally {
      button.disabled = false;
    }
  };

  const signOut = async () => {
    try { await api('POST', '/logout'); } catch (e) { /* signed out here all the same */ }
    signedOut('You are signed out.');
  };

  // --- Header -----------------------------------------------------------------------------
  const renderMe = () => {
    const a = state.agent;
    $('me-name').textContent = a.name || a.email;
    $('me-role').textContent = a.role;
    $('me-status').value = a.status;
  };

  const changeStatus = async () => {
    const select = $('me-status');
    const wanted = select.value;
    const result = await attempt('Could not change your status', () => api('PUT', '/me/status', { status: wanted }));
    if (result && result.agent) state.agent = result.agent;
    if (state.agent) renderMe(); // puts the select back when the change failed
  };

  const loadTeams = async () => {
    try {
      const data = await api('GET', '/teams');
      state.teams = (data && data.teams) || [];
    } catch (e) {
      if (e.status !== 401) showAlert(`Could not load the teams: ${e.message}`);
    }
  };

  const setLive = (mode) => {
    document.body.dataset.live = mode;
    $('live-text').textContent = {
      connected: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline',
    }[mode];
  };

  // --- Queue ------------------------------------------------------------------------------
  let queueRun = null;
  let queueAgain = false;

  /** Fetch /queue; calls while one is running make it fetch once more when it ends. */
  const refreshQueue = () => {
    if (queueRun) { queueAgain = true; return queueRun; }
    queueRun = (async () => {
      do {
        queueAgain = false;
        try {
          const data = await api('GET', '/queue');
          if (!state.agent) return;
          state.queue = (data && data.conversations) || [];
          renderQueue();
        } catch (e) {
          if (e.status !== 401) showAlert(`Could not load the queue: ${e.message}`);
          return;
        }
      } while (queueAgain && state.agent);
    })().finally(() => { queueRun = null; });
    return queueRun;
  };

  const assignedToMe = (c) => Boolean(c && c.ticket && c.ticket.assigned_agent && state.agent
    && c.ticket.assigned_agent.id === state.agent.id);

  const stateText = (c) => {
    if (c.state === 'with_agent') {
      const who = c.ticket && c.ticket.assigned_agent;
      if (assignedToMe(c)) return 'with you';
      return `with agent ${(who && who.name) || 'unknown'}`;
    }
    return { queued: 'queued', bot: 'back with the bot', resolved: 'resolved' }[c.state] || String(c.state);
  };

  const deadline = (c) => {
    const t = c.ticket || {};
    return c.state === 'queued'
      ? { label: 'First response', due: t.first_response_due }
      : { label: 'Resolution', due: t.resolution_due };
  };

  const priorityClass = (p) => (/^P[1-4]$/.test(p || '') ? `p${p[1]}` : 'p-unknown');

  const queueRow = (c) => {
    const t = c.ticket || {};
    const id = c.conversation_id;
    const offered = Boolean(c.offered_to_me) || state.offers.has(id);
    const unread = state.unread.get(id) || 0;
    const sla = deadline(c);
    const button = h('button', {
      type: 'button', class: 'row', 'data-testid': 'desk-queue-row', 'data-conversation-id': id,
      'data-state': c.state, 'data-offered': String(offered),
      'aria-current': id === state.selected ? 'true' : null,
      onclick: () => select(id),
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
    h('span', { class: 'line state', 'data-testid': 'desk-queue-state', text: stateText(c) }));
    return h('li', { class: offered ? 'offered' : null }, button);
  };

  const renderQueue = () => {
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

  const moveInQueue = (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const rows = [...$('queue-list').querySelectorAll('button.row')];
    const at = rows.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    const next = rows[at + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) next.focus();
  };

  // --- The selected conversation ----------------------------------------------------------
  let detailRun = null;
  let detailAgain = false;

  const select = (id) => {
    if (state.selected !== id) {
      stopOurTyping();
      state.selected = id;
      state.detail = null;
      state.live = [];
      state.seen = new Set();
      $('transcript').textContent = '';
      $('composer-input').value = '';
      setCustomerTyping(false);
      closeActionForm();
      notify('');
    }
    state.unread.delete(id);
    renderQueue();
    renderSelection();
    return loadDetail();
  };

  /** Fetch the selected conversation; calls while one runs make it fetch once more. */
  const loadDetail = () => {
    if (detailRun) { detailAgain = true; return detailRun; }
    detailRun = (async () => {
      do {
        detailAgain = false;
        const id = state.selected;
        if (!id) return;
        try {
          const d = await api('GET', `/conversations/${enc(id)}`);
          if (state.selected === id) renderDetail(d);
        } catch (e) {
          if (e.status !== 401) showAlert(`Could not load the conversation: ${e.message}`);
          return;
        }
      } while (detailAgain && state.agent);
    })().finally(() => { detailRun = null; });
    return detailRun;
  };

  const transcriptEl = () => $('transcript');
  const nearBottom = () => {
    const t = transcriptEl();
    return t.scrollHeight - t.scrollTop - t.clientHeight < 40;
  };
  const scrollDown = () => { const t = transcriptEl(); t.scrollTop = t.scrollHeight; };

  const messageItem = (m) => {
    const sender = ['customer', 'bot', 'agent'].includes(m.sender) ? m.sender : 'bot';
    let who = 'Bot';
    if (sender === 'customer') who = customerName(state.detail && state.detail.customer);
    if (sender === 'agent') who = (m.agent && m.agent.name) || 'Agent';
    const own = sender === 'agent' && m.agent && state.agent && m.agent.id === state.agent.id;
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
  const addMessage = (m) => {
    const key = messageKey(m);
    if (state.seen.has(key)) return false;
    state.seen.add(key);
    state.live.push(m);
    if (!state.detail) return true; // shown with the transcript when it arrives
    const stick = nearBottom() || (m.sender === 'agent' && m.agent && state.agent
      && m.agent.id === state.agent.id);
    transcriptEl().append(messageItem(m));
    if (stick) scrollDown();
    if (m.sender === 'customer') renderSentiment();
    return true;
  };

  const renderDetail = (d) => {
    const first = !state.detail || state.detail.conversation_id !== d.conversation_id;
    state.detail = d;
    renderTranscript(first);
    renderContext(d);
    renderSelection();
    const chat = $('chat');
    chat.dataset.loads = String(Number(chat.dataset.loads || 0) + 1);
  };

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
    const describe = (s) => {
      const label = String(s.label);
      const score = typeof s.compound === 'number' ? ` (${s.compound.toFixed(2)})` : '';
      if (s.frustrated !== true) return `${label}${score}`;
      const cues = Array.isArray(s.cues) ? s.cues.map((c) => String(c).replaceAll('_', ' ')) : [];
      return `${label}${score}, frustrated${cues.length ? `: ${cues.join(', ')}` : ''}`;
    };
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', `Customer sentiment, oldest first: ${labelled.map((m) => describe(m.sentiment)).join('; ')}`);
    labelled.forEach((m, i) => {
      const label = String(m.sentiment.label);
      const known = ['negative', 'neutral', 'positive'].includes(label) ? label : 'other';
      const frustrated = m.sentiment.frustrated === true;
      box.append(h('span', {
        class: `mark ${known}${frustrated ? ' frustrated' : ''}`, 'data-testid': 'desk-sentiment-mark',
        'data-label': label, 'data-frustrated': String(frustrated),
        title: `Message ${i + 1}: ${describe(m.sentiment)}`,
      }));
    });
  };

  const renderContext = (d) => {
    const t = d.ticket || {};
    const ctx = d.context || {};
    const ctxCustomer = ctx.customer || {};
    $('context-empty').hidden = true;
    $('context-body').hidden = false;
    $('ctx-reference').textContent = t.reference || '–';
    const priority = $('ctx-priority');
    priority.textContent = '';
    priority.append(h('span', { class: `badge ${priorityClass(t.priority)}`, text: t.priority || '–' }));
    $('ctx-status').textContent = `${stateText(d)} · ticket ${t.status || 'unknown'}`;
    $('ctx-team').textContent = t.team_name || t.team || '–';
    $('ctx-level').textContent = [t.tier, t.level !== undefined && t.level !== null ? `level ${t.level}` : null]
      .filter(Boolean).join(' · ') || '–';

    const customer = $('ctx-customer');
    const verified = d.customer ? d.customer.verified : ctxCustomer.verified;
    const tier = (d.customer && d.customer.tier) || ctxCustomer.tier;
    customer.textContent = '';
    customer.append(
      h('span', { text: customerName(d.customer || ctxCustomer) }), ' ',
      h('span', { class: `tag ${verified ? 'verified' : 'unverified'}`, text: verified ? 'verified' : 'not verified' }),
      tier ? ' ' : null,
      tier ? h('span', { class: 'tag', text: `tier: ${tier}` }) : null,
    );

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
    (d.history || []).forEach((row) => {
      let text = `${row.action || 'changed'}`;
      if (row.actor) text += ` by ${row.actor}`;
      if (row.from || row.to) text += ` (${row.from || '–'} → ${row.to || '–'})`;
      if (row.type) text += ` [${row.type}]`;
      if (row.reason) text += `: ${row.reason}`;
      history.append(h('li', {}, h('time', { datetime: row.at || null, text: fmtDateTime(row.at) }), ' ', text));
    });
    if (!history.children.length) history.append(h('li', { class: 'muted', text: 'no history' }));

    renderNotes();
    tick();
  };

  const renderNotes = () => {
    const notes = $('ctx-notes');
    notes.textContent = '';
    ((state.detail && state.detail.notes) || []).forEach((n) => notes.append(h('li', { 'data-testid': 'desk-note' },
      h('p', { class: 'who' },
        h('span', { class: 'name', text: (n.agent && n.agent.name) || 'Agent' }), ' ',
        h('time', { datetime: n.at || null, text: fmtDateTime(n.at) })),
      h('p', { class: 'text', 'data-testid': 'desk-note-text', text: n.text || '' }))));
    if (!notes.children.length) notes.append(h('li', { class: 'muted', text: 'no notes yet' }));
  };

  /** What the agent may do with the selected conversation (the server has the last word). */
  const allowed = () => {
    const d = state.detail;
    const none = { accept: false, work: false, chat: false, note: false, takeOver: false };
    if (!d || !state.agent || state.busy) return { ...none, note: Boolean(d) && !state.busy };
    const lead = LEADS.includes(state.agent.role);
    const open = d.state === 'queued' || d.state === 'with_agent';
    const mine = d.state === 'with_agent' && assignedToMe(d);
    const others = d.state === 'with_agent' && !mine;
    return {
      accept: d.state === 'queued' || (others && lead),
      takeOver: others && lead,
      work: open && (!others || lead),
      chat: mine,
      note: true,
    };
  };

  const renderSelection = () => {
    const d = state.detail;
    const can = allowed();
    $('chat-title').textContent = d
      ? `${customerName(d.customer)} · ${(d.ticket && d.ticket.reference) || d.conversation_id}`
      : (state.selected ? 'Loading…' : 'Select a conversation');
    const accept = $('act-accept');
    accept.disabled = !can.accept;
    accept.textContent = can.takeOver ? 'Take over' : 'Accept';
    ['act-transfer', 'act-escalate', 'act-resolve', 'act-return'].forEach((id) => { $(id).disabled = !can.work; });
    if (!can.work && state.action && !state.busy) closeActionForm();
    const input = $('composer-input');
    input.disabled = !can.chat;
    input.placeholder = can.chat ? 'Write to the customer…'
      : (d && d.state === 'queued' ? 'Accept the conversation to reply' : 'You cannot reply in this conversation');
    $('composer-send').disabled = !can.chat;
    $('note-input').disabled = !can.note;
    $('note-add').disabled = !can.note;
    if (!d) {
      $('context-empty').hidden = false;
      $('context-body').hidden = true;
    }
  };

  // --- Actions ----------------------------------------------------------------------------
  const ACTIONS = {
    transfer: { legend: 'Transfer to another team', submit: 'Transfer', path: 'transfer', done: 'Transferred.' },
    escalate: { legend: 'Escalate to a supervisor', submit: 'Escalate', path: 'escalate', done: 'Escalated.' },
    resolve: { legend: 'Resolve the conversation', submit: 'Resolve', path: 'resolve', done: 'Resolved.' },
    return: { legend: 'Give the conversation back to the bot', submit: 'Return to bot', path: 'return-to-bot', done: 'Returned to the bot.' },
  };
  const ACTION_BUTTONS = {
    transfer: 'act-transfer', escalate: 'act-escalate', resolve: 'act-resolve', return: 'act-return',
  };

  /** POST an action; show the Detail it answers. */
  const perform = async (what, path, body) => {
    const id = state.selected;
    state.busy = true;
    renderSelection();
    try {
      return await attempt(what, async () => {
        let d;
        try {
          d = await api('POST', `/conversations/${enc(id)}/${path}`, body);
        } catch (e) {
          // Someone else changed it first: show how it is now.
          if (e.status === 409 || e.status === 404) { refreshQueue(); if (state.selected === id) loadDetail(); }
          throw e;
        }
        if (d && state.selected === id) renderDetail(d);
        refreshQueue();
        return d || {};
      });
    } finally {
      state.busy = false;
      renderSelection();
    }
  };

  const accept = async (id) => {
    if (id !== state.selected) await select(id);
    const d = await perform('Could not accept the conversation', 'accept');
    if (!d) return;
    state.offers.delete(id);
    renderOffer();
    notify('You have the conversation.');
    $('composer-input').focus();
  };

  const openActionForm = (kind) => {
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
    $('action-form').hidden = false;
    (kind === 'transfer' ? teamSelect : $('action-reason')).focus();
  };

  const closeActionForm = (refocus) => {
    const kind = state.action;
    state.action = null;
    $('action-form').hidden = true;
    if (refocus && kind && !$(ACTION_BUTTONS[kind]).disabled) $(ACTION_BUTTONS[kind]).focus();
  };

  const submitAction = async (event) => {
    event.preventDefault();
    const kind = state.action;
    if (!kind) return;
    const spec = ACTIONS[kind];
    const body = {};
    const reason = $('action-reason').value.trim();
    if (reason) body.reason = reason;
    if (kind === 'transfer') {
      body.team = $('action-team').value;
      if (!body.team) {
        showAlert('Choose the team to transfer to.');
        $('action-team').focus();
        return;
      }
    }
    stopOurTyping();
    const d = await perform(`Could not ${spec.submit.toLowerCase()}`, spec.path, body);
    if (!d) return;
    closeActionForm();
    notify(spec.done);
  };

  const addNote = async (event) => {
    event.preventDefault();
    const input = $('note-input');
    const text = input.value.trim();
    const id = state.selected;
    if (!text || !id) return;
    const result = await attempt('Could not add the note', () => api('POST', `/conversations/${enc(id)}/notes`, { text }));
    if (!result || !result.note) return;
    input.value = '';
    if (state.selected === id && state.detail) {
      state.detail.notes = [...(state.detail.notes || []), result.note];
      renderNotes();
    }
    notify('Note added.');
  };

  // --- Chatting ---------------------------------------------------------------------------
  const postTyping = (id, typing) => {
    if (!id || !state.agent) return;
    api('POST', `/conversations/${enc(id)}/typing`, { typing }).catch(() => { /* best effort */ });
  };

  /** Tell the customer we type: at most one "true" per throttle period, "false" when idle. */
  const noteOurTyping = () => {
    const input = $('composer-input');
    if (input.disabled || !state.selected) return;
    if (!input.value.trim()) { stopOurTyping(); return; }
    const t = state.typing;
    const now = Date.now();
    if (!t.on || t.for !== state.selected || now - t.sentAt >= TYPING_THROTTLE_MS) {
      if (t.on && t.for !== state.selected) stopOurTyping();
      t.on = true;
      t.for = state.selected;
      t.sentAt = now;
      postTyping(t.for, true);
    }
    clearTimeout(t.idle);
    t.idle = setTimeout(stopOurTyping, TYPING_IDLE_MS);
  };

  const stopOurTyping = () => {
    const t = state.typing;
    clearTimeout(t.idle);
    t.idle = null;
    if (!t.on) return;
    t.on = false;
    postTyping(t.for, false);
  };

  const sendMessage = async () => {
    const input = $('composer-input');
    const text = input.value.trim();
    const id = state.selected;
    if (!text || !id || input.disabled) return;
    input.value = '';
    stopOurTyping();
    const result = await attempt('Message not sent', () => api('POST', `/conversations/${enc(id)}/messages`, { text }));
    if (result && result.message) {
      if (state.selected === id) {
        addMessage(result.message);
        scrollDown();
      }
    } else if (!input.value) {
      input.value = text; // not sent: give the text back
    }
    if (!input.disabled) input.focus();
  };

  const setCustomerTyping = (on) => {
    const el = $('typing');
    clearTimeout(state.customerTypingTimer);
    if (on) {
      el.textContent = `${customerName(state.detail && state.detail.customer)} is typing…`;
      el.hidden = false;
      state.customerTypingTimer = setTimeout(() => setCustomerTyping(false), TYPING_STALE_MS);
    } else {
      el.hidden = true;
      el.textContent = '';
    }
  };

  // --- Offers -----------------------------------------------------------------------------
  const currentOffer = () => {
    const now = Date.now();
    let best = null;
    for (const [id, expires] of [...state.offers]) {
      if (expires !== Infinity && expires <= now) { state.offers.delete(id); continue; }
      if (!best || expires < best.expires) best = { id, expires };
    }
    return best;
  };

  const renderOffer = () => {
    const box = $('offer');
    const offer = state.agent ? currentOffer() : null;
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
      ? '' : `Accept within ${fmtDuration(offer.expires - Date.now())}`;
  };

  // --- Live updates -----------------------------------------------------------------------
  const onEvent = (event) => {
    if (!event || typeof event !== 'object') return;
    switch (event.type) {
      case 'queue_changed':
        refreshQueue();
        break;
      case 'conversation_changed':
        if (event.conversation_id === state.selected) loadDetail();
        break;
      case 'message': {
        const m = event.message;
        if (!m) break;
        if (event.conversation_id === state.selected) {
          if (m.sender === 'customer') setCustomerTyping(false);
          addMessage(m);
        } else if (m.sender === 'customer') {
          state.unread.set(event.conversation_id, (state.unread.get(event.conversation_id) || 0) + 1);
          renderQueue();
        }
        break;
      }
      case 'typing':
        if (event.conversation_id === state.selected && event.sender === 'customer') {
          setCustomerTyping(Boolean(event.typing));
        }
        break;
      case 'offer': {
        const expires = parseTime(event.expires_at);
        state.offers.set(event.conversation_id, expires === null ? Infinity : expires);
        delete $('offer').dataset.conversationId; // re-describe it
        renderOffer();
        renderQueue();
        break;
      }
      default: // pong, and types added later
    }
  };

  const connectLive = () => {
    if (!state.agent || state.ws) return;
    setLive(state.wsAttempts ? 'reconnecting' : 'connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}${API}/live`);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.addEventListener('open', () => {
      if (state.ws !== ws) return;
      state.wsAttempts = 0;
      setLive('connected');
      // Events sent while we were away are lost: fetch what they would have told us.
      refreshQueue();
      if (state.selected) loadDetail();
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
      }, PING_MS);
    });
    ws.addEventListener('message', (e) => {
      if (state.ws !== ws) return;
      let event;
      try { event = JSON.parse(e.data); } catch (err) { return; }
      onEvent(event);
    });
    ws.addEventListener('close', () => {
      if (state.ws !== ws) return; // closed by us
      state.ws = null;
      clearInterval(state.pingTimer);
      if (!state.agent) return;
      setLive('reconnecting');
      scheduleReconnect();
    });
  };

  /** Reconnect with exponential back-off and jitter; check the session after a few failures. */
  const scheduleReconnect = () => {
    clearTimeout(state.wsTimer);
    const n = state.wsAttempts;
    state.wsAttempts += 1;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** n) * (0.8 + Math.random() * 0.4);
    state.wsTimer = setTimeout(async () => {
      state.wsTimer = null;
      if (!state.agent) return;
      if (n >= 2) {
        try { await api('GET', '/me'); } catch (e) { if (e.status === 401) return; }
      }
      connectLive();
    }, delay);
  };

  // --- Clocks -----------------------------------------------------------------------------
  const tick = () => {
    const now = Date.now();
    document.querySelectorAll('[data-due]').forEach((el) => {
      const due = parseTime(el.dataset.due);
      if (due === null) { el.textContent = '–'; el.classList.remove('overdue'); return; }
      const over = due < now;
      el.classList.toggle('overdue', over);
      el.dataset.overdue = String(over);
      const label = el.dataset.label ? `${el.dataset.label} ` : '';
      const clock = el.dataset.clock ? `${fmtClock(due)} · ` : '';
      el.textContent = over
        ? `${clock}${label}overdue by ${fmtDuration(now - due)}`
        : `${clock}${label}due in ${fmtDuration(due - now)}`;
    });
    document.querySelectorAll('[data-since]').forEach((el) => {
      const since = parseTime(el.dataset.since);
      el.textContent = since === null ? '' : `waiting ${fmtDuration(now - since)}`;
    });
    renderOffer();
  };

  // --- Wiring -----------------------------------------------------------------------------
  const bind = () => {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('me-status').addEventListener('change', changeStatus);
    $('alert-close').addEventListener('click', clearAlert);
    $('queue-list').addEventListener('keydown', moveInQueue);
    $('offer-accept').addEventListener('click', () => {
      const id = $('offer').dataset.conversationId;
      if (id) accept(id);
    });
    $('act-accept').addEventListener('click', () => { if (state.selected) accept(state.selected); });
    Object.entries(ACTION_BUTTONS).forEach(([kind, id]) => {
      $(id).addEventListener('click', () => {
        if (state.action === kind) closeActionForm(true); else openActionForm(kind);
      });
    });
    $('action-form').addEventListener('submit', submitAction);
    $('action-cancel').addEventListener('click', () => closeActionForm(true));
    $('action-form').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); closeActionForm(true); }
    });
    const input = $('composer-input');
    $('composer').addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
    });
    input.addEventListener('input', noteOurTyping);
    input.addEventListener('blur', stopOurTyping);
    $('note-form').addEventListener('submit', addNote);
  };

  const boot = async () => {
    bind();
    try {
      enter(await api('GET', '/me'));
    } catch (e) {
      showSignin(e.status === 401 ? '' : `Cannot reach the desk: ${e.message}`);
    }
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
