/* Baton chat widget: one <script> tag, no build step, no framework.
 * Talks to the webchat channel over Socket.IO; see docs/widget.md for the protocol.
 * Every piece of message content is rendered with textContent / text nodes, never as HTML.
 */
(() => {
  'use strict';
  if (window.Baton && window.Baton.version) return; // embedded twice: keep the first

  const MAX_LEN = 2000;
  const TYPING_THROTTLE_MS = 2000; // at most one `baton_typing: true` per this long
  const TYPING_IDLE_MS = 3000;     // `baton_typing: false` after this long without a keystroke
  const NOTICES = {
    message_too_long: `That message is too long. Please keep it under ${MAX_LEN} characters.`,
  };
  const script = document.currentScript || document.querySelector('script[src*="webchat/widget.js"]');
  const cfg = (script && script.dataset) || {};
  const server = (cfg.server || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const origin = new URL(server, location.href).origin;
  const base = `${server}/webhooks/webchat/`;
  const title = cfg.title || 'Chat with us';
  const SESSION_KEY = `baton.session.${origin}`;
  const OPEN_KEY = `baton.open.${origin}`;

  // Storage can be disabled (privacy modes, sandboxed frames): the chat still works, unremembered.
  const store = (s, k, v) => {
    try {
      if (v === undefined) return s.getItem(k);
      if (v === null) s.removeItem(k); else s.setItem(k, v);
    } catch (e) { /* storage unavailable */ }
    return null;
  };

  let token = cfg.customerToken || null;
  let socket = null;
  let confirmed = false;   // this connection's session is confirmed and its history shown
  let pending = [];        // messages typed before the session was confirmed
  let flushTimer = null;
  let agentName = null;    // the person who last joined or wrote, for "<name> closed the conversation"
  let withPerson = false;  // queued for or talking to a person: the bot will not answer at once
  const typingOut = { on: false, sentAt: 0, idle: null }; // what we told the server of our typing

  // --- DOM -------------------------------------------------------------------------------
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v);
    }
    kids.forEach((c) => c && el.append(c));
    return el;
  };

  // A custom element name, so host rules such as `div { ... }` don't match it, and the few
  // properties that place it pinned inline; everything else lives in the shadow root.
  const host = h('baton-chat', {
    id: 'baton-widget',
    style: 'position:fixed!important;z-index:2147483000!important;display:block!important;visibility:hidden',
  });
  const root = host.attachShadow({ mode: 'open' });
  const css = h('link', { rel: 'stylesheet', href: `${base}widget.css` });
  const reveal = () => host.style.removeProperty('visibility');
  css.addEventListener('load', reveal);
  css.addEventListener('error', reveal);

  const launcher = h('button', {
    type: 'button', class: 'launcher', 'aria-label': `Open chat: ${title}`, 'aria-expanded': 'false',
    'aria-controls': 'baton-panel', 'data-testid': 'baton-launcher', onclick: () => toggle(),
  }, h('span', { class: 'launcher-icon', 'aria-hidden': 'true' }));
  const status = h('p', { class: 'status', 'data-testid': 'baton-status', 'aria-live': 'polite' });
  const closeBtn = h('button', {
    type: 'button', class: 'close', 'aria-label': 'Close chat', 'data-testid': 'baton-close',
    onclick: () => close(),
  }, h('span', { 'aria-hidden': 'true', text: '\u00d7' }));
  const log = h('div', {
    class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation',
    'data-testid': 'baton-messages', tabindex: '0',
  });
  const typingLabel = h('span', { class: 'typing-label', 'data-testid': 'baton-typing-label' });
  const typing = h('div', {
    class: 'typing', 'data-testid': 'baton-typing', role: 'status', 'aria-label': 'The assistant is typing',
    hidden: '',
  }, h('span', { class: 'dot' }), h('span', { class: 'dot' }), h('span', { class: 'dot' }), typingLabel);
  // Where the customer stands in the hand-off ("Waiting for an agent — you're number 2"), in place.
  const handoff = h('p', {
    class: 'handoff', 'data-testid': 'baton-handoff', role: 'status', 'aria-live': 'polite', hidden: '',
  });
  const input = h('textarea', {
    id: 'baton-input', rows: '1', placeholder: 'Type your message…', autocomplete: 'off',
    'aria-describedby': 'baton-counter', 'data-testid': 'baton-input',
  });
  const counter = h('p', { id: 'baton-counter', class: 'counter', 'data-testid': 'baton-counter' });
  const send = h('button', { type: 'submit', class: 'send', 'data-testid': 'baton-send', text: 'Send' });
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { for: 'baton-input', class: 'sr-only', text: 'Message' }), input, send);
  const panel = h('section', {
    id: 'baton-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'baton-title',
    'data-testid': 'baton-panel', hidden: '',
  },
  h('header', {}, h('div', {}, h('h2', { id: 'baton-title', text: title }), status), closeBtn),
  handoff, log, typing, form, counter);
  root.append(css, panel, launcher);

  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(); }
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    updateCounter();
    noteTyping(); // an emptied input (sent, or cleared) ends the typing
  });

  // --- Rendering ---------------------------------------------------------------------------
  const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  const withLinks = (text) => {
    const frag = document.createDocumentFragment();
    const str = String(text);
    const re = new RegExp(URL_RE.source, 'g');
    let last = 0;
    for (let m = re.exec(str); m; m = re.exec(str)) {
      frag.append(document.createTextNode(str.slice(last, m.index)));
      frag.append(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer', text: m[0] }));
      last = m.index + m[0].length;
    }
    frag.append(document.createTextNode(str.slice(last)));
    return frag;
  };

  const toDate = (t) => {
    if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
    const d = t ? new Date(t) : new Date();
    return Number.isNaN(d.getTime()) ? new Date() : d;
  };

  const safeUrl = (u) => {
    try {
      const url = new URL(u, base);
      return /^https?:$/.test(url.protocol) ? url.href : null;
    } catch (e) { return null; }
  };

  const scrollDown = () => { log.scrollTop = log.scrollHeight; };
  const clearReplies = () => log.querySelectorAll('.replies').forEach((r) => r.remove());

  /** Append one message: {sender, text?, buttons?, image?, timestamp?}. */
  const render = (msg) => {
    const sender = ['user', 'bot', 'agent', 'system'].includes(msg.sender) ? msg.sender : 'bot';
    const when = toDate(msg.timestamp);
    const item = h('div', {
      class: `msg ${sender}`, 'data-testid': 'baton-message', 'data-sender': sender,
      title: when.toLocaleString(),
    });
    if (sender === 'agent') item.append(h('span', { class: 'who', 'data-testid': 'baton-agent-name', text: msg.name || 'Support agent' }));
    if (msg.text) item.append(h('p', { class: 'bubble' }, withLinks(msg.text)));
    const src = msg.image && safeUrl(msg.image);
    if (src) {
      const img = h('img', { class: 'image', alt: msg.alt || 'Image from the assistant', src });
      img.addEventListener('load', scrollDown);
      item.append(img);
    }
    if (msg.buttons && msg.buttons.length) {
      const replies = h('div', { class: 'replies', role: 'group', 'aria-label': 'Suggested replies' });
      for (const b of msg.buttons) {
        replies.append(h('button', {
          type: 'button', class: 'reply', 'data-testid': 'baton-quick-reply', 'data-payload': b.payload,
          text: b.title, onclick: () => sendMessage(b.payload, b.title),
        }));
      }
      item.append(replies);
    }
    log.append(item);
    scrollDown();
    return item;
  };

  /** The typing indicator: the bot's dots, or "<name> is typing…" for a person. */
  const setTyping = (on, name) => {
    typing.hidden = !on;
    typingLabel.textContent = on && name ? `${name} is typing…` : '';
    typing.setAttribute('aria-label', on && name ? `${name} is typing` : 'The assistant is typing');
    typing.classList.toggle('person', Boolean(on && name));
    if (on) scrollDown();
  };

  const setHandoff = (text) => {
    handoff.textContent = text || '';
    handoff.hidden = !text;
  };

  /** A message from the server: the history's shape, or an agent's name under `agent`. */
  const fromHistory = (m) => {
    const msg = { ...m };
    const agent = m.agent && typeof m.agent === 'object' ? m.agent : null;
    if (agent || m.sender === 'agent') {
      msg.sender = 'agent';
      msg.name = (agent && agent.name) || m.name;
      if (msg.name) agentName = msg.name;
    }
    return msg;
  };

  const setStatus = (text, state) => {
    status.textContent = text;
    panel.dataset.state = state;
  };

  const updateCounter = () => {
    const n = [...input.value].length; // code points, as the server counts them
    const over = n > MAX_LEN;
    counter.textContent = over
      ? `${n} / ${MAX_LEN}: too long to send, please shorten it.`
      : (n > MAX_LEN * 0.8 ? `${n} / ${MAX_LEN}` : '');
    counter.classList.toggle('over', over);
    input.setAttribute('aria-invalid', String(over));
    send.disabled = over;
  };

  // --- Protocol ----------------------------------------------------------------------------
  const customData = () => (token ? { token } : {});

  const requestSession = () => {
    confirmed = false;
    socket.emit('session_request', { session_id: store(localStorage, SESSION_KEY), customData: customData() });
  };

  /** Tell the server the customer types: throttled, and `false` when idle or on send. */
  const noteTyping = () => {
    if (!socket || !socket.connected || !confirmed) return;
    if (!input.value.trim()) { stopTyping(); return; }
    const now = Date.now();
    if (!typingOut.on || now - typingOut.sentAt >= TYPING_THROTTLE_MS) {
      typingOut.on = true;
      typingOut.sentAt = now;
      socket.emit('baton_typing', { typing: true });
    }
    clearTimeout(typingOut.idle);
    typingOut.idle = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  const stopTyping = () => {
    clearTimeout(typingOut.idle);
    typingOut.idle = null;
    if (!typingOut.on) return;
    typingOut.on = false;
    if (socket && socket.connected) socket.emit('baton_typing', { typing: false });
  };

  const emitUtterance = (payload) => {
    stopTyping();
    socket.emit('user_uttered', {
      message: payload, session_id: store(localStorage, SESSION_KEY), customData: customData(),
    });
    if (!withPerson) setTyping(true); // a person shows their own typing (baton_typing)
  };

  const flush = () => {
    clearTimeout(flushTimer);
    confirmed = true; // from here on, messages go straight out
    const queued = pending;
    pending = [];
    queued.forEach((m) => emitUtterance(m.payload));
  };

  /** Show the user's bubble now; send when the session is confirmed. */
  const sendMessage = (payload, shown) => {
    clearReplies();
    const msg = { sender: 'user', text: shown, payload };
    render(msg);
    if (socket && socket.connected && confirmed) emitUtterance(payload);
    else { pending.push(msg); connect(); }
  };

  const fromBot = (m) => {
    const msg = { sender: 'bot', text: m.text };
    const extra = m.baton || {};
    if (extra.notice) {
      msg.sender = 'system';
      msg.text = m.text || NOTICES[extra.notice] || 'Your message could not be delivered.';
    }
    if (extra.sender) msg.sender = extra.sender;
    if (extra.name) msg.name = extra.name;
    if (extra.agent && typeof extra.agent === 'object') {
      msg.sender = 'agent';
      msg.name = extra.agent.name || msg.name;
    }
    if (msg.sender === 'agent') {
      withPerson = true;
      if (msg.name) agentName = msg.name;
    }
    if (Array.isArray(m.quick_replies)) msg.buttons = m.quick_replies;
    else if (Array.isArray(m.buttons)) msg.buttons = m.buttons;
    const att = m.attachment;
    if (att && att.type === 'image' && att.payload && att.payload.src) msg.image = att.payload.src;
    return msg;
  };

  const connect = () => {
    if (socket) return;
    setStatus('Connecting…', 'connecting');
    // A path in data-server (a proxy prefix) belongs in `path`: io() would read it as a namespace.
    const url = new URL(server, location.href);
    socket = ioClient(url.origin, { path: `${url.pathname.replace(/\/+$/, '')}/socket.io/` });
    socket.on('connect', () => { setStatus('Connecting…', 'connecting'); requestSession(); });
    socket.on('session_confirm', (data) => {
      const id = typeof data === 'string' ? data : data && data.session_id;
      if (id) store(localStorage, SESSION_KEY, String(id));
      setStatus('Online', 'online');
      // The server sends `history` next; flush anyway if it never comes.
      flushTimer = setTimeout(flush, 3000);
    });
    socket.on('history', (data) => {
      log.textContent = '';
      const msgs = (data && data.messages) || [];
      msgs.forEach((m, i) => render({ ...fromHistory(m), buttons: i === msgs.length - 1 ? m.buttons : null }));
      pending.forEach(render); // typed while (re)connecting: not in the server's history yet
      setTyping(false);
      flush();
    });
    socket.on('bot_uttered', (m) => {
      setTyping(false);
      render(fromBot(m || {}));
    });
    socket.on('baton_status', (data) => {
      const s = data || {};
      if (s.state === 'queued') {
        withPerson = true;
        const parts = [];
        if (Number.isFinite(s.position)) parts.push(`you're number ${s.position}`);
        if (Number.isFinite(s.wait_minutes)) parts.push(`about ${s.wait_minutes} min`);
        setHandoff(`Waiting for an agent${parts.length ? ` — ${parts.join(', ')}` : ''}`);
        return;
      }
      setHandoff('');
      withPerson = s.state === 'agent_joined';
      setTyping(false);
      if (s.state === 'agent_joined') {
        if (s.agent_name) agentName = s.agent_name;
        render({ sender: 'system', text: `${s.agent_name || 'An agent'} joined the conversation` });
      } else if (s.state === 'back_to_bot') {
        render({ sender: 'system', text: "You're back with the assistant" });
      } else if (s.state === 'resolved') {
        const who = s.agent_name || agentName || 'The agent';
        render({ sender: 'system', text: `${who} closed the conversation` });
      }
    });
    socket.on('baton_typing', (data) => {
      const t = data || {};
      if (t.agent_name) agentName = t.agent_name;
      setTyping(Boolean(t.typing), t.agent_name || agentName || 'An agent');
    });
    socket.on('disconnect', (reason) => {
      confirmed = false;
      typingOut.on = false;
      clearTimeout(typingOut.idle);
      setTyping(false);
      setStatus('Reconnecting…', 'reconnecting');
      // The server hung up: socket.io does not retry on its own after that.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.io.on('reconnect_attempt', () => setStatus('Reconnecting…', 'reconnecting'));
    socket.on('connect_error', () => setStatus(
      socket.active ? 'Reconnecting…' : 'Cannot reach the chat service.',
      socket.active ? 'reconnecting' : 'offline',
    ));
  };

  const submit = () => {
    const text = input.value.trim();
    if (!text || [...text].length > MAX_LEN) return;
    input.value = '';
    input.dispatchEvent(new Event('input'));
    sendMessage(text, text);
    input.focus();
  };

  // --- Panel -------------------------------------------------------------------------------
  const open = (focus = true) => {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', `Close chat: ${title}`);
    host.classList.add('open');
    store(sessionStorage, OPEN_KEY, '1');
    loadClient(connect);
    if (focus) input.focus();
  };

  const close = () => {
    const hadFocus = root.activeElement !== null;
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', `Open chat: ${title}`);
    store(sessionStorage, OPEN_KEY, null);
    if (hadFocus) launcher.focus();
  };

  const toggle = () => (panel.hidden ? open() : close());

  // --- Socket.IO client ---------------------------------------------------------------------
  // A host page's own client is used only if it speaks our protocol (socket.io 3/4: protocol 5);
  // otherwise ours is loaded and the page's `window.io` is put back as it was.
  let ioClient = null;
  let waiting = null;
  const loadClient = (then) => {
    if (!ioClient && window.io && window.io.protocol === 5) ioClient = window.io;
    if (ioClient) { then(); return; }
    if (!waiting) {
      waiting = [];
      const hostIo = window.io;
      const s = document.createElement('script');
      s.src = `${base}vendor/socket.io.min.js`;
      s.async = true;
      s.onload = () => {
        ioClient = window.io;
        if (hostIo) window.io = hostIo;
        waiting.splice(0).forEach((f) => f());
      };
      s.onerror = () => setStatus('Cannot load the chat. Please try again later.', 'offline');
      document.head.append(s);
    }
    waiting.push(then);
  };

  // --- Public API ---------------------------------------------------------------------------
  window.Baton = {
    version: '1',
    open: () => open(),
    close,
    /** Identify the customer (or pass null to stop). Keeps the conversation. */
    setCustomerToken(jwt) {
      token = jwt || null;
      if (socket && socket.connected) requestSession();
    },
    /** Forget the session and the customer token: the next message starts a new conversation. */
    reset() {
      token = null;
      pending = [];
      store(localStorage, SESSION_KEY, null);
      log.textContent = '';
      setTyping(false);
      setHandoff('');
      agentName = null;
      withPerson = false;
      if (socket && socket.connected) requestSession();
    },
  };

  const mount = () => {
    document.body.append(host);
    if (store(sessionStorage, OPEN_KEY)) open(false); // reopened after a reload: don't steal focus
    window.dispatchEvent(new CustomEvent('baton:ready'));
  };
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
