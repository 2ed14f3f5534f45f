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
    callsProvider: null, // GET /me's calls.provider: "webrtc" | "jitsi" | null (calls off)
    connectionId: null,  // from this socket's `hello`
    call: null,          // the call on screen (it follows the call, not the selection)
    lostCall: null,      // {id, conversation_id} of a call our dropped socket ended here
    view: 'desk',        // 'desk' (queue and conversation) or 'dashboard' (supervisors and admins)
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
      error.code = (data && data.code) || null;
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
    state.callsProvider = (me.calls && ['webrtc', 'jitsi'].includes(me.calls.provider)) ? me.calls.provider : null;
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
    openFromHash();
  };

  /** Back to the sign-in form, forgetting everything of the session. */
  const signedOut = (message) => {
    stopOurTyping();
    if (state.call) { hangUpCall('hung_up'); teardownCall(state.call); }
    state.call = null;
    state.callsProvider = null;
    state.connectionId = null;
    state.lostCall = null;
    renderCall();
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
    clearDashboard();
    showView('desk');
    $('views').hidden = true;
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
    $('views').hidden = !isLead();
    if (!isLead() && state.view === 'dashboard') showView('desk');
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
    if (m.sender === 'system') {
      return h('li', { class: 'msg system', 'data-testid': 'desk-message', 'data-sender': 'system', title: m.at || null },
        h('p', { class: 'text', 'data-testid': 'desk-message-text', text: m.text || '' }));
    }
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
    (d.history || []).forEach((row, i, rows) => {
      if (/^call_(offered|started|ended)$/.test(row.action || '')) {
        history.append(h('li', { 'data-testid': 'desk-history-call', 'data-action': row.action },
          h('time', { datetime: row.at || null, text: fmtDateTime(row.at) }), ' ', callHistoryText(row, rows)));
        return;
      }
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
    ['act-transfer', 'act-escalate', 'act-resolve', 'act-return', 'act-block'].forEach((id) => { $(id).disabled = !can.work; });
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

  // --- Actions ----------------------------------------------------------------------------
  const ACTIONS = {
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
  const ACTION_BUTTONS = {
    transfer: 'act-transfer', escalate: 'act-escalate', resolve: 'act-resolve', return: 'act-return', block: 'act-block',
  };

  /** POST an action; show the Detail it answers. */
  const perform = async (what, path, body, detailIn) => {
    const id = state.selected;
    state.busy = true;
    renderSelection();
    try {
      return await attempt(what, async () => {
        let d;
        try {
          d = await api('POST', `/conversations/${enc(id)}/${path}`, body);
          if (d && detailIn) d = d[detailIn];
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
    $('action-reason').required = Boolean(spec.reasonRequired);
    $('action-reason-label').textContent = spec.reasonRequired ? 'Reason (kept in the history)' : 'Reason (optional)';
    $('action-address-field').hidden = kind !== 'block';
    $('action-address').checked = false;
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
    if (spec.reasonRequired && !reason) {
      showAlert('Say why, for the history.');
      $('action-reason').focus();
      return;
    }
    if (kind === 'block') body.block_address = $('action-address').checked;
    if (kind === 'transfer') {
      body.team = $('action-team').value;
      if (!body.team) {
        showAlert('Choose the team to transfer to.');
        $('action-team').focus();
        return;
      }
    }
    stopOurTyping();
    const d = await perform(`Could not ${spec.submit.toLowerCase()}`, spec.path, body, spec.detailIn);
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
    // Back to the composer only if the agent has not moved on while the message was in
    // flight: taking focus from an action form they opened meanwhile would lose their place.
    const focusStayed = document.activeElement === input || document.activeElement === document.body;
    if (!input.disabled && focusStayed) input.focus();
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

  // --- Calls (docs/calls.md): this console offers, the customer answers ---------------------
  const CALL_LIVE = ['requested', 'inviting', 'connecting', 'active'];
  const DROP_GRACE_MS = 10000; // a connection `disconnected` this long is given up (2.3)
  const callLabel = (media) => (media === 'screen' ? 'Screen share' : 'Video call');

  const callDuration = (seconds) => {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${s % 60} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  };

  const agentMediaText = (e) => {
    const name = (e && e.name) || '';
    if (name === 'unsupported') return 'This browser cannot make video calls.';
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      return 'Your browser blocked the camera or microphone, so the call did not start. Allow them in the site settings and try again.';
    }
    if (name === 'NotReadableError' || name === 'AbortError') return 'Your camera or microphone is in use by another application.';
    return 'No camera or microphone was found.';
  };
  const agentMediaReason = (e) => {
    const name = (e && e.name) || '';
    if (name === 'unsupported') return 'unsupported';
    if (name === 'NotAllowedError' || name === 'SecurityError') return 'permission_denied';
    return 'no_device';
  };

  const acquireAgentMedia = async () => {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.RTCPeerConnection) {
      throw Object.assign(new Error('unsupported'), { name: 'unsupported' });
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (e) {
      if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') throw e;
      return navigator.mediaDevices.getUserMedia({ audio: true }); // no camera: talk and watch
    }
  };

  const endedText = (c, reason, by) => {
    const screen = c.media === 'screen';
    switch (reason) {
      case 'hung_up':
        if (by === 'agent') return 'You ended the call.';
        return screen ? 'The customer stopped sharing their screen.' : 'The customer ended the call.';
      case 'declined':
        if (by === 'agent') return 'You declined the call.';
        return screen ? 'The customer declined to share their screen.' : 'The customer declined the video call.';
      case 'permission_denied':
        return screen ? "The customer's browser blocked the screen sharing, or they cancelled it."
          : "The customer's browser blocked the camera or microphone.";
      case 'no_device': return "The customer's camera or microphone is missing or in use.";
      case 'unsupported': return "The customer's browser cannot do this.";
      case 'cancelled': return by === 'customer' ? 'The customer cancelled the request.' : 'You cancelled the call.';
      case 'unanswered': return 'Not answered.';
      case 'connect_timeout':
      case 'media_failed': return 'The call could not connect.';
      case 'customer_disconnected': return "The customer's connection was lost.";
      case 'agent_disconnected': return 'Call ended: connection lost.';
      case 'conversation_closed': return 'The call ended with the conversation.';
      case 'agent_changed': return 'The call ended: a supervisor took over.';
      case 'max_duration': return 'The call reached its time limit.';
      default: return 'The call ended.';
    }
  };

  const callLive = () => Boolean(state.call && state.call.state !== 'ended');

  const renderCall = () => {
    const c = state.call;
    const box = $('call');
    if (!c) {
      box.hidden = true;
      box.dataset.state = 'idle';
      ['media', 'provider', 'callId', 'conversationId', 'endReason'].forEach((k) => delete box.dataset[k]);
      renderCallButtons();
      return;
    }
    box.hidden = false;
    box.dataset.state = c.state === 'starting' ? 'idle' : c.state;
    box.dataset.media = c.media;
    box.dataset.provider = c.provider;
    box.dataset.conversationId = c.conversation_id;
    if (c.id) box.dataset.callId = c.id; else delete box.dataset.callId;
    if (c.state === 'ended' && c.endReason) box.dataset.endReason = c.endReason; else delete box.dataset.endReason;
    $('call-title').textContent = `${callLabel(c.media)} · ${c.customerName || 'Guest'}`;
    const ended = c.state === 'ended';
    let text = '';
    if (c.mirror && !ended) text = 'In a call in another window.';
    else if (c.state === 'starting') text = 'Starting…';
    else if (c.state === 'requested') text = `${c.customerName || 'The customer'} asks for a video call.`;
    else if (c.state === 'inviting') text = 'Waiting for the customer…';
    else if (c.state === 'connecting') text = 'Connecting…';
    else if (c.state === 'active') {
      if (c.provider === 'jitsi') text = 'The call is open in Jitsi: join it with the link.';
      else text = c.media === 'screen' ? "You are watching the customer's screen." : 'In a video call.';
    }
    $('call-status').textContent = text;
    $('call-status').hidden = !text;
    $('call-accept').hidden = c.state !== 'requested' || Boolean(c.answering);
    $('call-decline').hidden = c.state !== 'requested' || Boolean(c.answering);
    const hangup = $('call-hangup');
    hangup.hidden = ended || (c.state === 'requested' && !c.answering);
    hangup.textContent = ['starting', 'inviting'].includes(c.state) ? 'Cancel' : 'Hang up';
    $('call-close').hidden = !ended;
    $('call-timer').hidden = c.state !== 'active' || !c.connectedAt;
    $('call-local').hidden = ended || !(c.local && c.local.getVideoTracks().length);
    $('call-remote').hidden = ended || !c.remote;
    const join = $('call-join');
    join.hidden = ended || !c.joinUrl;
    if (c.joinUrl) join.href = c.joinUrl;
    if (ended) $('call-unmute').hidden = true;
    tickCall();
    renderCallButtons();
  };

  const renderCallButtons = () => {
    const on = Boolean(state.callsProvider);
    const d = state.detail;
    const serverLive = Boolean(d && d.call && CALL_LIVE.includes(d.call.state)
      && !(state.call && state.call.id === d.call.id && state.call.state === 'ended'));
    const can = on && allowed().chat && !callLive() && !serverLive && Boolean(state.connectionId);
    ['call-video', 'call-screen'].forEach((id) => {
      $(id).hidden = !on;
      $(id).disabled = !can;
    });
  };

  const tickCall = () => {
    const c = state.call;
    if (!c) return;
    if (c.state === 'active' && c.connectedAt) $('call-timer').textContent = callDuration((Date.now() - c.connectedAt) / 1000);
    if (['inviting', 'requested'].includes(c.state) && c.expiresAt && !c.mirror) {
      const left = c.expiresAt - Date.now();
      const base = c.state === 'inviting' ? 'Waiting for the customer…' : `${c.customerName || 'The customer'} asks for a video call.`;
      $('call-status').textContent = left > 0 ? `${base} (${callDuration(left / 1000)} left)` : base;
    }
  };

  const showCallNotice = (reason, text) => {
    const el = $('call-notice');
    el.dataset.reason = reason;
    el.textContent = text;
    el.hidden = !text;
  };
  const clearCallNotice = () => {
    const el = $('call-notice');
    delete el.dataset.reason;
    el.textContent = '';
    el.hidden = true;
  };

  const teardownCall = (c) => {
    clearTimeout(c.dropTimer);
    if (c.pc) {
      const pc = c.pc;
      c.pc = null;
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    if (c.local) { c.local.getTracks().forEach((t) => t.stop()); c.local = null; }
    if (c === state.call) {
      $('call-remote').srcObject = null;
      $('call-local').srcObject = null;
      delete $('call-remote').dataset.firstFrameAt;
    }
  };

  const newCall = (fields) => {
    if (state.call) teardownCall(state.call);
    clearCallNotice();
    state.call = { ice: [], remoteSet: false, chain: Promise.resolve(), ...fields };
    return state.call;
  };

  const endCallHere = (c, reason, text, noticeReason) => {
    const hadFocus = $('call').contains(document.activeElement);
    teardownCall(c);
    c.state = 'ended';
    c.endReason = reason;
    c.localNotice = Boolean(noticeReason);
    if (c !== state.call) return;
    showCallNotice(noticeReason || reason, text);
    renderCall();
    if (hadFocus) $('call-close').focus();
  };

  const callPath = (c, action) => `/conversations/${enc(c.conversation_id)}/calls/${enc(c.id)}/${action}`;

  /** Signals go out one after another, each awaited (3.3.2). */
  const postSignal = (c, body) => {
    c.chain = c.chain.then(() => api('POST', callPath(c, 'signal'), { connection_id: state.connectionId, ...body }))
      .catch((e) => {
        if (body.type === 'sdp' && c === state.call && c.state !== 'ended') {
          endCallHere(c, 'error', `The call could not start: ${e.message}`, 'error');
        }
      });
    return c.chain;
  };

  const attachRemote = (c, stream) => {
    if (c !== state.call) return;
    const video = $('call-remote');
    c.remote = true;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.hidden = false; // a hidden video presents no frames
    if (!c.frameWatch) {
      c.frameWatch = true;
      const mark = (t) => { if (c === state.call && c.pc) video.dataset.firstFrameAt = String(t); };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback((now) => mark(performance.timeOrigin + now));
      else video.addEventListener('loadeddata', () => mark(performance.timeOrigin + performance.now()), { once: true });
    }
    video.play().catch(() => {
      video.muted = true;
      video.play().catch(() => {});
      $('call-unmute').hidden = false;
    });
    renderCall();
  };

  const watchConnection = (c) => {
    if (!c.pc) return;
    const st = c.pc.connectionState;
    if (st === 'connected') {
      clearTimeout(c.dropTimer);
      c.dropTimer = null;
      if (!c.connectedSent) { c.connectedSent = true; postSignal(c, { type: 'connected' }); }
    } else if (st === 'failed') {
      hangUpCall('media_failed', c);
    } else if (st === 'disconnected' && !c.dropTimer) {
      c.dropTimer = setTimeout(() => hangUpCall('media_failed', c), DROP_GRACE_MS);
    }
  };

  /** `connecting` on the bound console: create the offer (never on a REST answer). */
  const makeOffer = async (c, s) => {
    if (c.pc || c.state === 'ended') return;
    c.state = 'connecting';
    renderCall();
    let pc;
    try {
      pc = new window.RTCPeerConnection(s.rtc || {}); // through the global, named at call time
      c.pc = pc;
      pc.onicecandidate = (e) => {
        if (e.candidate && c.pc === pc) postSignal(c, { type: 'ice', candidate: e.candidate.toJSON() });
      };
      pc.ontrack = (e) => attachRemote(c, e.streams[0] || new MediaStream([e.track]));
      pc.onconnectionstatechange = () => watchConnection(c);
      if (c.media === 'screen') {
        pc.addTransceiver('video', { direction: 'recvonly' });
      } else if (c.local) {
        [...c.local.getAudioTracks(), ...c.local.getVideoTracks()].forEach((t) => pc.addTrack(t, c.local));
      }
      await pc.setLocalDescription(await pc.createOffer());
      if (c.pc !== pc) return;
      const d = pc.localDescription;
      postSignal(c, { type: 'sdp', description: { type: d.type, sdp: d.sdp } });
    } catch (e) {
      if (c.pc === pc || !pc) hangUpCall('media_failed', c);
    }
  };

  const takeAnswer = async (c, s) => {
    const d = s.description;
    if (!c.pc || !d || d.type !== 'answer' || c.remoteSet) return;
    const pc = c.pc;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: String(d.sdp) });
      c.remoteSet = true;
      c.ice.splice(0).forEach((cand) => pc.addIceCandidate(cand).catch(() => {}));
    } catch (e) {
      if (c.pc === pc) hangUpCall('media_failed', c);
    }
  };

  const onCallSignal = (event) => {
    const s = event.signal;
    if (!s || typeof s !== 'object') return;
    const bound = !event.connection_id || event.connection_id === state.connectionId;
    let c = state.call;
    // Our own invite's signals may overtake its REST answer: adopt the call id.
    if (c && !c.id && c.state === 'starting' && c.conversation_id === event.conversation_id && s.type !== 'requested') {
      c.id = s.call_id;
      if (c.cancelled) { hangUpCall('hung_up', c); return; }
    }
    const ours = Boolean(c && c.id === s.call_id);
    const conv = state.queue.find((q) => q.conversation_id === event.conversation_id)
      || (state.detail && state.detail.conversation_id === event.conversation_id ? state.detail : null);
    const customer = customerName(conv && conv.customer);
    switch (s.type) {
      case 'requested':
        if (ours || callLive()) return;
        newCall({
          id: s.call_id, conversation_id: event.conversation_id, media: 'video', provider: state.callsProvider || 'webrtc',
          state: 'requested', customerName: s.customer_name || customer, expiresAt: parseTime(s.expires_at),
        });
        renderCall();
        notify(`${s.customer_name || customer} asks for a video call.`);
        return;
      case 'inviting':
        if (!ours) {
          if (callLive()) return;
          c = newCall({ id: s.call_id, conversation_id: event.conversation_id, media: s.media, provider: s.provider, customerName: customer, mirror: !bound });
        }
        c.state = 'inviting';
        c.expiresAt = parseTime(s.expires_at);
        renderCall();
        return;
      case 'connecting':
        if (!ours) {
          if (callLive()) return;
          c = newCall({ id: s.call_id, conversation_id: event.conversation_id, media: s.media, provider: s.provider, customerName: customer, mirror: true });
        }
        if (!bound) { c.mirror = true; c.state = 'connecting'; renderCall(); return; }
        c.mirror = false;
        makeOffer(c, s);
        return;
      case 'sdp':
        if (ours && bound) takeAnswer(c, s);
        return;
      case 'ice':
        if (!ours || !bound || !s.candidate || c.state === 'ended') return;
        if (c.pc && c.remoteSet) c.pc.addIceCandidate(s.candidate).catch(() => {});
        else c.ice.push(s.candidate); // before the answer is set: kept, in order
        return;
      case 'active': {
        if (!ours) {
          if (callLive()) return;
          c = newCall({ id: s.call_id, conversation_id: event.conversation_id, media: s.media, provider: s.provider, customerName: customer, mirror: s.provider !== 'jitsi' });
        }
        if (c.state === 'ended') return;
        c.state = 'active';
        c.answering = false;
        const at = parseTime(s.connected_at);
        c.connectedAt = at === null ? Date.now() : Math.min(at, Date.now());
        if (s.join_url && /^https:\/\//.test(s.join_url)) c.joinUrl = s.join_url;
        renderCall();
        return;
      }
      case 'ended': {
        if (!ours) return;
        const keep = c.state === 'ended' && c.localNotice;
        const hadFocus = $('call').contains(document.activeElement);
        teardownCall(c);
        c.state = 'ended';
        c.endReason = s.reason;
        if (!keep) showCallNotice(s.reason, endedText(c, s.reason, s.by));
        renderCall();
        if (hadFocus) $('call-close').focus();
        return;
      }
      default: // types added later
    }
  };

  /** *Video call* / *Ask to share screen*: the camera first (video), then POST /calls. */
  const startCall = async (media) => {
    const id = state.selected;
    const d = state.detail;
    if (!id || !d || callLive() || !state.callsProvider) return;
    clearAlert();
    const provider = state.callsProvider;
    const c = newCall({ id: null, conversation_id: id, media, provider, state: 'starting', customerName: customerName(d.customer) });
    renderCall();
    if (media === 'video' && provider === 'webrtc') {
      try {
        c.local = await acquireAgentMedia();
      } catch (e) {
        endCallHere(c, agentMediaReason(e), agentMediaText(e), agentMediaReason(e));
        return;
      }
      if (c !== state.call || c.state === 'ended') { teardownCall(c); return; }
      $('call-local').srcObject = c.local;
      renderCall();
    }
    let result;
    try {
      result = await api('POST', `/conversations/${enc(id)}/calls`, { media, connection_id: state.connectionId });
    } catch (e) {
      if (e.status === 401) return;
      endCallHere(c, 'error', `Could not start the call: ${e.message}`, 'error');
      return;
    }
    const call = result && result.call;
    if (!call || c.state === 'ended') {
      if (call && c.cancelled && !c.id) { c.id = call.id; api('POST', callPath(c, 'hangup'), { reason: 'hung_up' }).catch(() => {}); }
      return;
    }
    c.id = call.id;
    if (c.state === 'starting') {
      c.state = call.state;
      c.expiresAt = parseTime(call.expires_at);
    }
    renderCall();
    $('call-hangup').focus();
  };

  /** A customer's request: the camera first, then accept; a failure declines it. */
  const acceptRequest = async () => {
    const c = state.call;
    if (!c || c.state !== 'requested' || c.answering) return;
    c.answering = true;
    renderCall();
    if (c.provider === 'webrtc') {
      try {
        c.local = await acquireAgentMedia();
      } catch (e) {
        const reason = agentMediaReason(e);
        endCallHere(c, reason, agentMediaText(e), reason);
        api('POST', callPath(c, 'decline'), { reason }).catch(() => {});
        return;
      }
      if (c !== state.call || c.state === 'ended') { teardownCall(c); return; }
      $('call-local').srcObject = c.local;
    }
    try {
      await api('POST', callPath(c, 'accept'), { connection_id: state.connectionId });
    } catch (e) {
      if (c === state.call && c.state !== 'ended') endCallHere(c, 'error', `Could not accept the call: ${e.message}`, 'error');
      return;
    }
    renderCall();
    $('call-hangup').focus();
  };

  const declineRequest = async () => {
    const c = state.call;
    if (!c || c.state !== 'requested') return;
    endCallHere(c, 'declined', 'You declined the call.');
    await attempt('Could not decline the call', () => api('POST', callPath(c, 'decline'), { reason: 'declined' }));
  };

  /** *Hang up* / *Cancel*; also a failed connection (media_failed). */
  const hangUpCall = async (reason = 'hung_up', which = state.call) => {
    const c = which;
    if (!c || c.state === 'ended') return;
    const before = c.state;
    let local = reason;
    let text = reason === 'media_failed' ? 'The call lost its connection.' : 'You ended the call.';
    if (['starting', 'inviting'].includes(before) && reason === 'hung_up') { local = 'cancelled'; text = 'You cancelled the call.'; }
    endCallHere(c, local, text);
    if (!c.id) { c.cancelled = true; return; } // POST /calls still on its way
    try {
      await api('POST', callPath(c, 'hangup'), { reason });
    } catch (e) {
      if (e.status !== 401 && c === state.call) showAlert(`Could not hang up: ${e.message}`);
    }
  };

  const dismissCall = () => {
    if (state.call) teardownCall(state.call);
    state.call = null;
    clearCallNotice();
    renderCall();
    const video = $('call-video');
    if (!video.disabled && !video.hidden) video.focus();
    else $('composer-input').focus();
  };

  /** The live socket closed: end a call here at once, hang it up after the next `hello` (2.5). */
  const callSocketLost = () => {
    const c = state.call;
    if (!c || c.state === 'ended' || c.mirror) return;
    if (c.id) state.lostCall = { id: c.id, conversation_id: c.conversation_id };
    endCallHere(c, 'agent_disconnected', 'Call ended: connection lost.');
  };

  const onHello = (event) => {
    state.connectionId = /^[0-9a-f]{32}$/.test(event.connection_id || '') ? event.connection_id : null;
    const lost = state.lostCall;
    state.lostCall = null;
    if (lost) api('POST', callPath(lost, 'hangup'), { reason: 'agent_disconnected' }).catch(() => {});
    renderCallButtons();
  };

  /** A history row of a call (1.3.2), in words. */
  const callHistoryText = (row, rows) => {
    const offered = rows.find((r) => r.action === 'call_offered' && r.from === row.from);
    const media = row.action === 'call_ended' ? (offered && offered.to) : row.to;
    const label = callLabel(media);
    const actor = (a) => {
      if (a === 'customer') return 'the customer';
      if (a === 'desk') return 'the desk';
      const m = /^agent:(\d+)$/.exec(a || '');
      if (m && state.agent && Number(m[1]) === state.agent.id) return state.agent.name || 'you';
      const assigned = state.detail && state.detail.ticket && state.detail.ticket.assigned_agent;
      if (m && assigned && Number(m[1]) === assigned.id) return assigned.name || 'an agent';
      // The desk API names an agent who still exists (`actor` is their name); a raw
      // `agent:<id>` is left only for one it no longer knows.
      if (a && !m) return a;
      return 'an agent';
    };
    if (row.action === 'call_offered') {
      if (row.actor === 'customer') return `${label} asked for by the customer`;
      return media === 'screen' ? `Screen share asked by ${actor(row.actor)}` : `${label} offered by ${actor(row.actor)}`;
    }
    if (row.action === 'call_started') return `${label} started (started by ${actor(row.actor)})`;
    const reason = row.reason ? String(row.reason).replace(/_/g, ' ') : '';
    if (row.to === null || row.to === undefined || row.to === '') {
      return reason === 'declined' ? `${label} declined by ${actor(row.actor)}` : `${label} ended by ${actor(row.actor)}${reason ? ` (${reason})` : ''}`;
    }
    return `${label} ended by ${actor(row.actor)} after ${callDuration(row.to)}${reason ? ` (${reason})` : ''}`;
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
      case 'hello':
        onHello(event);
        break;
      case 'call_signal':
        onCallSignal(event);
        break;
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
      state.connectionId = null;
      callSocketLost();
      renderCallButtons();
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
    tickCall();
  };

  // --- Dashboard (supervisors and admins; docs/metrics.md) ---------------------------------
  const CHART_JS = '/desk/assets/vendor/chart.umd.min.js';
  const DAY_MS = 24 * 60 * 60 * 1000;
  // The breakdowns shown as tables, in this order; `channel` divides by its own conversations.
  const BREAKDOWNS = [
    ['type', 'By escalation type'], ['reason', 'By reason'], ['team', 'By team'],
    ['category', 'By category'], ['intent', 'By intent'], ['channel', 'By channel'],
  ];
  // The demo business is an internet and mobile provider: its industry's band comes first.
  const DEFAULT_INDUSTRY = 'Telecommunications';
  const COLORS = {
    rate: '#0b5cad', conversations: '#9db8d9', escalated: '#d9480f', band: '#9a6700', bandFill: 'rgba(224, 168, 0, 0.16)',
  };
  const dash = { report: null, charts: {}, run: 0, chartLib: null };

  const isLead = () => Boolean(state.agent && LEADS.includes(state.agent.role));

  const fmtCount = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–');
  const fmtPercent = (n) => (typeof n === 'number' ? `${n.toFixed(1)} %` : '–');
  /** Seconds as a person reads them: "45 s", "1 min 35 s", "2 h 5 min", "3 d 4 h". */
  const fmtSeconds = (value) => {
    if (typeof value !== 'number') return '–';
    const s = Math.round(value);
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
    const hours = Math.floor(m / 60);
    if (hours < 48) return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
    return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  };
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);
  const dayLabel = (iso) => {
    const ms = dayMs(iso);
    return Number.isNaN(ms) ? String(iso)
      : new Date(ms).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  };
  const teamName = (key) => {
    const team = state.teams.find((t) => t.key === key);
    return (team && team.name) || String(key);
  };
  const keyText = (dimension, key) => {
    if (key === null || key === undefined || key === '') return '(none)';
    if (dimension === 'team') return teamName(key);
    if (dimension === 'type' || dimension === 'reason') return humanize(key);
    return String(key);
  };

  /** Chart.js, loaded the first time a chart is drawn (agents never download it); null if it fails. */
  const loadChartLib = () => {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!dash.chartLib) {
      dash.chartLib = new Promise((resolve) => {
        const script = h('script', { src: CHART_JS });
        script.addEventListener('load', () => resolve(window.Chart || null));
        script.addEventListener('error', () => { dash.chartLib = null; resolve(null); });
        document.head.append(script);
      });
    }
    return dash.chartLib;
  };

  const setDashStatus = (text, error) => {
    const status = $('dash-status');
    status.textContent = text;
    status.classList.toggle('error', Boolean(error));
  };

  /** The preset's dates: the last N UTC days, today included. */
  const applyPreset = () => {
    const preset = $('dash-preset').value;
    if (preset === 'custom') return;
    const today = dayMs(isoDay(Date.now()));
    $('dash-to').value = isoDay(today);
    $('dash-from').value = isoDay(today - (Number(preset) - 1) * DAY_MS);
  };

  /** The API query of the filters (until is the day after "To": the API's until is excluded). */
  const dashQuery = () => {
    const from = $('dash-from').value;
    const to = $('dash-to').value;
    if (!from || !to) return { error: 'Choose the first and the last day.' };
    if (from > to) return { error: 'The first day must not be after the last day.' };
    const params = new URLSearchParams({ since: from, until: isoDay(dayMs(to) + DAY_MS) });
    const team = $('dash-team').value;
    if (team) params.set('team', team);
    return { query: params.toString() };
  };

  const fillTeamFilter = () => {
    const select = $('dash-team');
    const current = select.value;
    select.textContent = '';
    select.append(h('option', { value: '', text: 'All teams' }));
    state.teams.forEach((t) => select.append(h('option', { value: t.key, text: t.name || t.key })));
    select.value = state.teams.some((t) => t.key === current) ? current : '';
  };

  const openDashboard = async () => {
    if (!state.teams.length) await loadTeams();
    if (state.view !== 'dashboard') return;
    fillTeamFilter();
    if (!$('dash-from').value || !$('dash-to').value) applyPreset();
    loadDashboard();
  };

  const loadDashboard = async () => {
    const run = ++dash.run;
    const q = dashQuery();
    if (q.error) { setDashStatus(q.error, true); return; }
    $('dash-csv').href = `${API}/metrics.csv?${q.query}`;
    const board = $('dashboard');
    board.setAttribute('aria-busy', 'true');
    setDashStatus('Loading…');
    let report;
    let Chart;
    try {
      [report, Chart] = await Promise.all([api('GET', `/metrics?${q.query}`), loadChartLib()]);
    } catch (e) {
      if (run !== dash.run) return;
      board.removeAttribute('aria-busy');
      if (e.status !== 401) setDashStatus(`Could not load the metrics: ${e.message}`, true);
      return;
    }
    if (run !== dash.run || !isLead()) return;
    board.removeAttribute('aria-busy');
    dash.report = report;
    renderDashboard(report, Chart);
    board.dataset.loads = String(Number(board.dataset.loads || 0) + 1);
  };

  const renderDashboard = (report, Chart) => {
    const days = (report.breakdowns && report.breakdowns.day) || [];
    const team = report.period && report.period.team;
    const span = days.length ? `${dayLabel(days[0].key)} – ${dayLabel(days[days.length - 1].key)}` : 'the period';
    setDashStatus(`${span}${team ? `, ${teamName(team)}'s escalations` : ', all teams'}.${Chart ? '' : ' The charts could not be loaded; the tables below have every number.'}`);
    renderTiles(report.totals || {});
    fillIndustries(report);
    renderRateChart(Chart);
    renderVolumeChart(Chart, days);
    renderBreakdowns(report.breakdowns || {});
    renderCauses(report.root_causes || {});
  };

  const setTile = (kpi, value, sub) => {
    const el = document.querySelector(`#dash-tiles [data-kpi="${kpi}"]`);
    el.textContent = value;
    el.nextElementSibling.textContent = sub;
  };

  const renderTiles = (t) => {
    setTile('conversations', fmtCount(t.conversations), `${fmtCount(t.escalated)} escalated`);
    setTile('escalation_rate', fmtPercent(t.escalation_rate),
      `${fmtCount(t.escalated)} of ${fmtCount(t.conversations)} conversations`);
    setTile('containment', fmtPercent(t.containment_rate), `${fmtCount(t.contained)} without a person`);
    const time = (kpi, m, what) => {
      const measure = m || {};
      setTile(kpi, fmtSeconds(measure.median), measure.count
        ? `median; 90 % within ${fmtSeconds(measure.p90)} (${fmtCount(measure.count)} ${what})` : `no ${what} yet`);
    };
    time('time_to_escalation', t.time_to_escalation, 'escalations');
    time('first_reply', t.first_reply, 'answered');
    time('resolution', t.resolution, 'resolved');
    const sla = t.sla || {};
    setTile('sla', fmtPercent(sla.compliance), sla.measured
      ? `${fmtCount(sla.met)} of ${fmtCount(sla.measured)} tickets met both deadlines` : 'no deadline decided yet');
    const csat = t.csat || {};
    setTile('csat', typeof csat.average === 'number' ? `${csat.average.toFixed(1)} / 5` : '–', csat.answers
      ? `${fmtPercent(csat.satisfied_rate)} rated 4 or 5 (${fmtCount(csat.answers)} answers)` : 'no ratings yet');
  };

  const references = () => ((dash.report && dash.report.references && dash.report.references.escalation_rate) || []);

  const fillIndustries = () => {
    const select = $('dash-industry');
    const current = select.value;
    const names = references().map((r) => String(r.industry));
    select.textContent = '';
    select.append(h('option', { value: '', text: 'None' }));
    names.forEach((name) => select.append(h('option', { value: name, text: name })));
    if (current === '' && select.dataset.chosen) select.value = '';
    else if (names.includes(current)) select.value = current;
    else select.value = names.includes(DEFAULT_INDUSTRY) ? DEFAULT_INDUSTRY : (names[0] || '');
  };

  /** A table: a header row, then rows whose first cell heads the row; cells are text or nodes. */
  const fillTable = (el, head, rows) => {
    el.textContent = '';
    el.append(
      h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null, text: c })))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c, i) => (i === 0
        ? h('th', { scope: 'row' }, c) : h('td', { class: 'num' }, c)))))),
    );
  };

  const drawChart = (name, Chart, config) => {
    if (dash.charts[name]) dash.charts[name].destroy();
    delete dash.charts[name];
    if (!Chart) return;
    dash.charts[name] = new Chart($(`dash-${name}-chart`), config);
  };

  const chartOptions = (yTitle, tickSuffix, tooltip) => ({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    scales: {
      y: { beginAtZero: true, title: { display: true, text: yTitle }, ticks: { callback: (v) => `${v}${tickSuffix}` } },
      x: { ticks: { autoSkip: true, maxRotation: 0 } },
    },
    plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: tooltip } } },
  });

  const rateSpread = (rates) => {
    if (!rates.length) return '';
    const low = Math.min(...rates);
    const high = Math.max(...rates);
    return low === high ? `${fmtPercent(low)} each day with conversations, `
      : `between ${fmtPercent(low)} and ${fmtPercent(high)} a day, `;
  };

  const renderRateChart = (Chart) => {
    const report = dash.report;
    if (!report) return;
    const days = (report.breakdowns && report.breakdowns.day) || [];
    const chosen = $('dash-industry').value;
    const ref = references().find((r) => String(r.industry) === chosen) || null;
    const datasets = [{
      label: 'Escalation rate', data: days.map((d) => d.escalation_rate),
      borderColor: COLORS.rate, backgroundColor: COLORS.rate, pointRadius: 3, tension: 0.2,
    }];
    if (ref) {
      const line = (value, extra) => ({
        label: `${ref.industry}, ${value === ref.low ? 'low' : 'high'}: ${value} %`,
        data: days.map(() => value), borderColor: COLORS.band, borderDash: [6, 4], borderWidth: 1.5,
        pointRadius: 0, pointHoverRadius: 0, ...extra,
      });
      datasets.push(line(ref.low, { fill: false }), line(ref.high, { fill: '-1', backgroundColor: COLORS.bandFill }));
    }
    drawChart('rate', Chart, {
      type: 'line',
      data: { labels: days.map((d) => dayLabel(d.key)), datasets },
      options: chartOptions('% of conversations', ' %',
        (c) => `${c.dataset.label.split(':')[0]}: ${c.parsed.y === null ? 'no conversations' : fmtPercent(c.parsed.y)}`),
    });
    const rates = days.map((d) => d.escalation_rate).filter((r) => typeof r === 'number');
    const total = report.totals && report.totals.escalation_rate;
    $('dash-rate-chart').setAttribute('aria-label', days.length
      ? `Escalation rate per day, ${dayLabel(days[0].key)} to ${dayLabel(days[days.length - 1].key)}: `
        + `${rateSpread(rates)}${fmtPercent(total)} over the period.`
        + `${ref ? ` ${ref.industry} reference: ${ref.low} to ${ref.high} %.` : ''} Every day is in the table below.`
      : 'Escalation rate per day: no days in the period.');
    fillTable($('dash-rate-table'), ['Day', 'Conversations', 'Escalated', 'Escalation rate'],
      days.map((d) => [d.key, fmtCount(d.conversations), fmtCount(d.escalated), fmtPercent(d.escalation_rate)]));
  };

  const renderVolumeChart = (Chart, days) => {
    drawChart('volume', Chart, {
      type: 'bar',
      data: {
        labels: days.map((d) => dayLabel(d.key)),
        datasets: [
          { label: 'Conversations', data: days.map((d) => d.conversations), backgroundColor: COLORS.conversations },
          { label: 'Escalated', data: days.map((d) => d.escalated), backgroundColor: COLORS.escalated },
        ],
      },
      options: chartOptions('conversations', '', (c) => `${c.dataset.label}: ${fmtCount(c.parsed.y)}`),
    });
    const sum = (key) => days.reduce((n, d) => n + (d[key] || 0), 0);
    $('dash-volume-chart').setAttribute('aria-label', days.length
      ? `Conversations and escalations per day, ${dayLabel(days[0].key)} to ${dayLabel(days[days.length - 1].key)}: `
        + `${fmtCount(sum('conversations'))} conversations, ${fmtCount(sum('escalated'))} escalated. Every day is in the table below.`
      : 'Conversations and escalations per day: no days in the period.');
    fillTable($('dash-volume-table'), ['Day', 'Conversations', 'Escalated'],
      days.map((d) => [d.key, fmtCount(d.conversations), fmtCount(d.escalated)]));
  };

  /** A rate with a bar scaled to the largest of its table (the number is the text; the bar is decoration). */
  const rateCell = (rate, largest) => {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'fill' }));
    bar.firstChild.style.width = `${largest > 0 && typeof rate === 'number' ? Math.max(2, (rate / largest) * 100) : 0}%`;
    return h('span', { class: 'rate' }, bar, h('span', { text: fmtPercent(rate) }));
  };

  const renderBreakdowns = (breakdowns) => {
    const box = $('dash-breakdowns');
    box.textContent = '';
    BREAKDOWNS.forEach(([dimension, title]) => {
      const rows = breakdowns[dimension] || [];
      const largest = Math.max(0, ...rows.map((r) => (typeof r.escalation_rate === 'number' ? r.escalation_rate : 0)));
      const own = dimension === 'channel';
      const table = h('table', { class: 'data', 'data-testid': `dash-breakdown-${dimension}` });
      fillTable(table,
        [title.replace(/^By /, '').replace(/^./, (c) => c.toUpperCase()), ...(own ? ['Conversations'] : []),
          'Escalated', own ? 'Rate' : 'Share', 'To escalation', 'Resolution', 'SLA met', 'CSAT'],
        rows.map((r) => [
          keyText(dimension, r.key), ...(own ? [fmtCount(r.conversations)] : []), fmtCount(r.escalated),
          rateCell(r.escalation_rate, largest), fmtSeconds(r.time_to_escalation && r.time_to_escalation.median),
          fmtSeconds(r.resolution && r.resolution.median), fmtPercent(r.sla && r.sla.compliance),
          r.csat && typeof r.csat.average === 'number' ? r.csat.average.toFixed(1) : '–',
        ]));
      box.append(h('section', { class: 'dash-card', 'data-dimension': dimension },
        h('h4', { text: title }),
        h('p', { class: 'hint', text: own
          ? "Escalated ÷ the channel's own conversations. Times are medians."
          : 'Escalated ÷ all conversations of the period: its share of the escalation rate. Times are medians.' }),
        rows.length ? h('div', { class: 'table-wrap' }, table) : h('p', { class: 'muted', text: 'No escalations in this period.' })));
    });
  };

  const exampleLinks = (examples) => h('span', { class: 'examples' }, ...(examples || []).map((ex) => h('a', {
    href: `#conversation=${enc(ex.conversation)}`, class: 'example', 'data-testid': 'dash-example',
    'data-conversation-id': ex.conversation, title: 'Open this conversation',
    text: ex.ticket || 'conversation',
    onclick: (e) => { e.preventDefault(); openConversation(ex.conversation); },
  })));

  const renderCauses = (causes) => {
    const box = $('dash-causes');
    box.textContent = '';
    const card = (title, testid, head, rows, cells) => {
      const table = h('table', { class: 'data', 'data-testid': testid });
      fillTable(table, head, rows.map(cells));
      box.append(h('section', { class: 'dash-card' }, h('h4', { text: title }),
        rows.length ? h('div', { class: 'table-wrap' }, table) : h('p', { class: 'muted', text: 'None in this period.' })));
    };
    card('Intents before an escalation', 'dash-causes-intents', ['Intent', 'Escalations', 'Examples'],
      causes.intents || [], (c) => [String(c.intent), fmtCount(c.escalations), exampleLinks(c.examples)]);
    card('FAQ answers that did not help', 'dash-causes-faq', ['FAQ', 'Escalations', 'Examples'],
      causes.faq_misses || [], (c) => [String(c.intent), fmtCount(c.escalations), exampleLinks(c.examples)]);
    card('Messages the bot did not understand', 'dash-causes-fallback', ['Message', 'Escalations', 'Examples'],
      causes.fallback_utterances || [], (c) => [
        h('span', { class: 'utterance' }, h('q', { text: String(c.text) }),
          (c.similar || []).length ? h('ul', { class: 'similar', 'aria-label': 'Similar wordings' },
            ...c.similar.map((s) => h('li', { 'data-testid': 'dash-similar', text: String(s) }))) : null),
        fmtCount(c.count), exampleLinks(c.examples)]);
  };

  const clearDashboard = () => {
    dash.run += 1;
    Object.values(dash.charts).forEach((chart) => chart.destroy());
    dash.charts = {};
    dash.report = null;
    document.querySelectorAll('#dash-tiles [data-kpi]').forEach((el) => {
      el.textContent = '–';
      el.nextElementSibling.textContent = '';
    });
    ['dash-rate-table', 'dash-volume-table', 'dash-breakdowns', 'dash-causes'].forEach((id) => { $(id).textContent = ''; });
    setDashStatus('');
  };

  /** Show the conversations (the queue and one conversation) or, for leads, the dashboard. */
  const showView = (view) => {
    const dashboard = view === 'dashboard' && isLead();
    const changed = state.view !== (dashboard ? 'dashboard' : 'desk');
    state.view = dashboard ? 'dashboard' : 'desk';
    $('desk-view').hidden = dashboard;
    $('dashboard').hidden = !dashboard;
    $('view-desk').setAttribute('aria-pressed', String(!dashboard));
    $('view-dashboard').setAttribute('aria-pressed', String(dashboard));
    if (dashboard && changed) openDashboard();
  };

  /** An example of the dashboard: the conversation in the usual view (a lead may open any). */
  const openConversation = (id) => {
    if (!id) return;
    showView('desk');
    select(id);
    $('chat-title').focus();
  };

  /** `/desk/#conversation=<id>` (an example opened in a new tab): open it once signed in. */
  const openFromHash = () => {
    const m = /^#conversation=(.+)$/.exec(location.hash);
    if (!m) return;
    let id;
    try { id = decodeURIComponent(m[1]); } catch (e) { return; }
    history.replaceState(null, '', location.pathname + location.search);
    openConversation(id);
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
      if (!id) return;
      showView('desk'); // the offer shows over the dashboard too: the conversation opens where it can be read
      accept(id);
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
    $('call-video').addEventListener('click', () => startCall('video'));
    $('call-screen').addEventListener('click', () => startCall('screen'));
    $('call-accept').addEventListener('click', acceptRequest);
    $('call-decline').addEventListener('click', declineRequest);
    $('call-hangup').addEventListener('click', () => hangUpCall('hung_up'));
    $('call-close').addEventListener('click', dismissCall);
    $('view-desk').addEventListener('click', () => showView('desk'));
    $('view-dashboard').addEventListener('click', () => showView('dashboard'));
    $('dash-filters').addEventListener('submit', (e) => { e.preventDefault(); loadDashboard(); });
    $('dash-preset').addEventListener('change', () => { applyPreset(); loadDashboard(); });
    ['dash-from', 'dash-to'].forEach((id) => $(id).addEventListener('change', () => {
      $('dash-preset').value = 'custom';
      loadDashboard();
    }));
    $('dash-team').addEventListener('change', loadDashboard);
    $('dash-industry').addEventListener('change', () => {
      $('dash-industry').dataset.chosen = 'true';
      loadChartLib().then(renderRateChart);
    });
    window.addEventListener('hashchange', () => { if (state.agent) openFromHash(); });
    $('call-unmute').addEventListener('click', () => {
      const video = $('call-remote');
      video.muted = false;
      video.play().catch(() => {});
      $('call-unmute').hidden = true;
    });
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
