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
  let ended = false;       // the team ended and blocked the conversation: no reconnecting
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
  // --- Calls: the DOM (docs/calls.md 3.6.1, test ids 5.1) -----------------------------------
  const callRequest = h('button', {
    type: 'button', class: 'call-request', 'data-testid': 'baton-call-request', hidden: '',
    'aria-label': 'Start a video call with the agent', onclick: () => requestCall(),
  }, h('span', { text: 'Video call' }));
  const callPromptText = h('p', { id: 'baton-call-prompt-text', class: 'call-text' });
  const callAccept = h('button', {
    type: 'button', class: 'call-primary', 'data-testid': 'baton-call-accept', onclick: () => acceptCall(),
  });
  const callDecline = h('button', {
    type: 'button', class: 'call-secondary', 'data-testid': 'baton-call-decline', text: 'Decline',
    onclick: () => declineCall(),
  });
  const callPrompt = h('div', {
    class: 'call-prompt', role: 'alertdialog', 'aria-labelledby': 'baton-call-prompt-title',
    'aria-describedby': 'baton-call-prompt-text', 'data-testid': 'baton-call-prompt', hidden: '',
  }, h('p', { id: 'baton-call-prompt-title', class: 'call-title', text: 'Call request' }), callPromptText,
  h('div', { class: 'call-buttons' }, callAccept, callDecline));
  const callStatus = h('p', { class: 'call-status', role: 'status', 'data-testid': 'baton-call-status' });
  // Not muted: it carries the agent's voice.
  const callRemote = h('video', {
    class: 'call-remote', autoplay: '', playsinline: '', 'data-testid': 'baton-call-remote',
    'aria-label': 'The agent', hidden: '',
  });
  const callLocal = h('video', {
    class: 'call-local', autoplay: '', playsinline: '', muted: '', 'data-testid': 'baton-call-local',
    'aria-label': 'Your camera', hidden: '',
  });
  callLocal.muted = true;
  const callTimer = h('span', { class: 'call-timer', role: 'timer', 'data-testid': 'baton-call-timer', hidden: '' });
  const callJoin = h('a', {
    class: 'call-join', target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'baton-call-join',
    text: 'Join the video call', hidden: '',
  });
  const callUnmute = h('button', {
    type: 'button', class: 'call-secondary', text: 'Turn the sound on', hidden: '',
    onclick: () => { callRemote.muted = false; callRemote.play().catch(() => {}); callUnmute.hidden = true; },
  });
  const callHangup = h('button', {
    type: 'button', class: 'call-hangup', 'data-testid': 'baton-call-hangup', hidden: '',
    onclick: () => hangUp(),
  });
  const callClose = h('button', {
    type: 'button', class: 'call-secondary', 'data-testid': 'baton-call-close', text: 'Close', hidden: '',
    onclick: () => dismissCall(),
  });
  const callNotice = h('p', { class: 'call-notice', role: 'alert', 'data-testid': 'baton-call-notice', hidden: '' });
  const callArea = h('section', {
    class: 'call', 'aria-label': 'Call', 'data-testid': 'baton-call', 'data-state': 'idle', hidden: '',
  }, callPrompt, callStatus, h('div', { class: 'call-videos' }, callRemote, callLocal), callNotice,
  h('div', { class: 'call-bar' }, callTimer, callJoin, callUnmute, callHangup, callClose));

  const panel = h('section', {
    id: 'baton-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'baton-title',
    'data-testid': 'baton-panel', hidden: '',
  },
  h('header', {}, h('div', {}, h('h2', { id: 'baton-title', text: title }), status), callRequest, closeBtn),
  handoff, callArea, log, typing, form, counter);
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
    socket.on('baton_error', (e) => {
      // The team ended and blocked this conversation: say so, and stop reconnecting.
      if (!e || e.code !== 'blocked' || ended) return;
      ended = true;
      render({ sender: 'system', text: e.message || 'Our team has ended this conversation.' });
    });
    socket.on('baton_typing', (data) => {
      const t = data || {};
      if (t.agent_name) agentName = t.agent_name;
      setTyping(Boolean(t.typing), t.agent_name || agentName || 'An agent');
    });
    socket.on('baton_call', onCallSignal);
    socket.on('disconnect', (reason) => {
      callLost();
      confirmed = false;
      typingOut.on = false;
      clearTimeout(typingOut.idle);
      setTyping(false);
      if (ended) {
        setStatus('Conversation ended', 'offline');
        return;
      }
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

  // --- Calls (docs/calls.md): the customer answers, the agent's console offers --------------
  // The shared call machinery (bot/web/console/call-core.js), inlined by tools/build_widget.mjs:
  // edit it there, then run `node tools/build_widget.mjs`.
  /* BEGIN call-core */
  /* The call machinery shared by the agent console and the customer widget (docs/calls.md):
   * the call record's state machine and the WebRTC plumbing, written once.
   *
   * An ES module for the console; tools/build_widget.mjs inlines it into widget.js (a classic
   * script) with its `export` keywords removed. So it imports nothing, declares only these
   * names, and touches no element of its own: callers pass their elements and callbacks.
   * The console offers (it creates the SDP offer), the customer's widget answers.
   */

  /** The states of a call the server still runs (the console's own "starting" and the
   * widget's "requesting" come before the server knows of the call). */
  const CALL_LIVE = ['requested', 'inviting', 'connecting', 'active'];
  /** A connection `disconnected` this long is given up (docs/calls.md 2.3). */
  const DROP_GRACE_MS = 10000;
  /** Before the call rings through, a hang-up cancels it on the side that asked for it. */
  const HANG_UP_CANCELS = { agent: ['starting', 'inviting'], customer: ['requesting', 'requested'] };

  // --- The state machine (pure) ------------------------------------------------------------

  /** A new call record; ICE candidates that come before the remote description wait in `ice`. */
  const newCallRecord = (fields) => ({ ice: [], remoteSet: false, ...fields });

  /** What a peer connection's state means: `connected`, `failed`, a drop to wait out (`grace`), or nothing. */
  const connectionVerdict = (connectionState, alreadyWaiting) => {
    if (connectionState === 'connected') return 'connected';
    if (connectionState === 'failed') return 'failed';
    if (connectionState === 'disconnected' && !alreadyWaiting) return 'grace';
    return 'none';
  };

  /** A remote ICE candidate: `add` it now, `keep` it until the remote description is set, or `drop` it. */
  const iceStep = (c, candidate) => {
    if (!c || !candidate || c.state === 'ended') return 'drop';
    return c.pc && c.remoteSet ? 'add' : 'keep';
  };

  /** The fields of an `active` signal: when it connected (never in the future) and the join
   * link, if `safeJoinUrl` accepts it (it returns the URL to use, or null). */
  const activeFields = (signal, now, safeJoinUrl) => {
    const at = Date.parse(signal.connected_at);
    const fields = { state: 'active', answering: false, connectedAt: Number.isNaN(at) ? now : Math.min(at, now) };
    const url = signal.join_url ? safeJoinUrl(signal.join_url) : null;
    if (url) fields.joinUrl = url;
    return fields;
  };

  /** The fields of a call ended here; `noticeReason` marks a local notice (a media error says more
   * than the server's `ended` that follows, so it is kept). */
  const endedFields = (reason, noticeReason) => ({
    state: 'ended', endReason: reason, localNotice: Boolean(noticeReason),
  });

  /** Whether the server's `ended` leaves the notice already shown (a local media error's). */
  const keepsLocalNotice = (c) => c.state === 'ended' && Boolean(c.localNotice);

  /** The reason a hang-up by `side` ("agent" or "customer") ends the call with, here. */
  const hangUpReason = (side, stateBefore, reason) => {
    if (reason !== 'hung_up') return reason;
    if (HANG_UP_CANCELS[side].includes(stateBefore)) return 'cancelled';
    if (side === 'customer' && stateBefore === 'inviting') return 'declined';
    return reason;
  };

  /** What went wrong getting the camera, microphone or screen: `unsupported`,
   * `permission_denied`, `in_use` or `no_device`. */
  const mediaFailureKind = (err) => {
    const name = (err && err.name) || '';
    if (name === 'unsupported') return 'unsupported';
    if (name === 'NotAllowedError' || name === 'SecurityError') return 'permission_denied';
    if (name === 'NotReadableError' || name === 'AbortError') return 'in_use';
    return 'no_device';
  };

  /** The reason a media failure gives the server (it knows no `in_use`). */
  const mediaFailureReason = (err) => {
    const kind = mediaFailureKind(err);
    return kind === 'in_use' ? 'no_device' : kind;
  };

  // --- The WebRTC plumbing -----------------------------------------------------------------

  /** Milliseconds since the epoch, as precise as the page's clock. */
  const epochNow = () => performance.timeOrigin + performance.now();

  const mediaSupported = (media) => Boolean(window.isSecureContext && navigator.mediaDevices
    && window.RTCPeerConnection
    && (media === 'screen' ? navigator.mediaDevices.getDisplayMedia : navigator.mediaDevices.getUserMedia));

  /** Camera and microphone, or the screen. Call it in the click handler with no await before it. */
  const acquireMedia = async (media) => {
    if (!mediaSupported(media)) throw Object.assign(new Error('unsupported'), { name: 'unsupported' });
    const devices = navigator.mediaDevices;
    if (media === 'screen') return devices.getDisplayMedia({ video: true, audio: false });
    try {
      return await devices.getUserMedia({ audio: true, video: true });
    } catch (e) {
      if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') throw e;
      return devices.getUserMedia({ audio: true }); // no camera: talk and listen all the same
    }
  };

  /** Stop a call's media and close its peer connection; idempotent. */
  const closeCallMedia = (c) => {
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
  };

  /** The call's peer connection: local candidates go to `sendIce`, the remote stream to
   * `onStream`, state changes to `onConnectionState`. Throws what the constructor throws. */
  const openPeer = (c, rtc, { sendIce, onStream, onConnectionState }) => {
    const pc = new window.RTCPeerConnection(rtc || {}); // through the global, named at call time
    c.pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate && c.pc === pc) sendIce(e.candidate.toJSON());
    };
    pc.ontrack = (e) => onStream(e.streams[0] || new MediaStream([e.track]));
    pc.onconnectionstatechange = () => onConnectionState();
    return pc;
  };

  /** Follow the connection: `onConnected` once, `onFailed` at a failure or after a drop's grace. */
  const watchConnection = (c, { onConnected, onFailed }) => {
    if (!c.pc) return;
    const verdict = connectionVerdict(c.pc.connectionState, Boolean(c.dropTimer));
    if (verdict === 'connected') {
      clearTimeout(c.dropTimer);
      c.dropTimer = null;
      if (!c.connectedSent) { c.connectedSent = true; onConnected(); }
    } else if (verdict === 'failed') {
      onFailed();
    } else if (verdict === 'grace') {
      c.dropTimer = setTimeout(onFailed, DROP_GRACE_MS);
    }
  };

  /** Microphone then camera: the answer reuses the offer's transceivers in that order. */
  const addLocalTracks = (pc, stream) => {
    [...stream.getAudioTracks(), ...stream.getVideoTracks()].forEach((t) => pc.addTrack(t, stream));
  };

  /** Set the other side's description, then add the candidates that came before it, in order. */
  const takeRemoteDescription = async (c, pc, type, sdp) => {
    await pc.setRemoteDescription({ type, sdp: String(sdp) });
    c.remoteSet = true;
    c.ice.splice(0).forEach((cand) => pc.addIceCandidate(cand).catch(() => {}));
  };

  /** A remote ICE candidate: added, kept for later, or dropped (see iceStep). */
  const takeRemoteIce = (c, candidate) => {
    const step = iceStep(c, candidate);
    if (step === 'add') c.pc.addIceCandidate(candidate).catch(() => {});
    else if (step === 'keep') c.ice.push(candidate);
  };

  /** The local description as the signal carries it. */
  const localDescriptionOf = (pc) => ({ type: pc.localDescription.type, sdp: pc.localDescription.sdp });

  /** Show the other side's stream in `video`; `isCurrent()` says the call is still the one
   * on screen; `onMutedAutoplay` runs when the browser plays it only muted (offer the sound). */
  const showRemoteStream = (c, video, stream, { isCurrent, onMutedAutoplay }) => {
    c.remote = true;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.hidden = false; // a hidden video presents no frames
    if (!c.frameWatch) {
      c.frameWatch = true;
      const mark = (t) => { if (isCurrent() && c.pc) video.dataset.firstFrameAt = String(t); };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback((now) => mark(performance.timeOrigin + now));
      else video.addEventListener('loadeddata', () => mark(epochNow()), { once: true });
    }
    video.play().catch(() => {
      // Autoplay with sound refused: play muted and offer the sound on a click.
      video.muted = true;
      video.play().catch(() => {});
      onMutedAutoplay();
    });
  };
  /* END call-core */

  let callsProvider = null;  // "webrtc" | "jitsi" while the server says calls are available
  /* The call on screen: {id, media, provider, state, pc, local, ice, remoteSet, answering,
   * acceptedAt, connectedAt, endReason, ...}; state "requesting" = before `requested`. */
  let call = null;
  let callClock = null;

  const who = () => agentName || 'The agent';
  const callLabel = (media) => (media === 'screen' ? 'screen sharing' : 'video call');

  const MEDIA_FAILURE_TEXTS = {
    permission_denied: (media) => (media === 'screen'
      ? 'Screen sharing was blocked or cancelled. The chat continues here.'
      : "Your browser blocked the camera or microphone, so the call did not start. You can allow them in your browser's site settings and try again. The chat continues here."),
    unsupported: (media) => `This browser cannot ${media === 'screen' ? 'share the screen' : 'make video calls'}. The chat continues here.`,
    in_use: () => 'Your camera or microphone is in use by another application. The chat continues here.',
    no_device: () => 'No camera or microphone was found. The chat continues here.',
  };
  const mediaFailure = (err, media) => ({
    reason: mediaFailureReason(err), text: MEDIA_FAILURE_TEXTS[mediaFailureKind(err)](media),
  });

  const endedText = (c, reason, by) => {
    const screen = c.media === 'screen';
    switch (reason) {
      case 'hung_up':
        if (by === 'customer') return screen ? 'You stopped sharing your screen.' : 'You ended the call.';
        return screen ? `${who()} stopped the screen sharing.` : `${who()} ended the call.`;
      case 'declined':
        return by === 'customer' ? `You declined the ${callLabel(c.media)}.` : `${who()} could not take the call now.`;
      case 'cancelled':
        return by === 'customer' ? 'You cancelled the call.' : `${who()} cancelled the ${callLabel(c.media)}.`;
      case 'unanswered': return 'The call was not answered.';
      case 'customer_disconnected':
      case 'agent_disconnected': return 'Call ended: connection lost.';
      case 'conversation_closed': return 'The call ended: the conversation was closed.';
      case 'agent_changed': return 'The call ended: another agent took over the conversation.';
      case 'max_duration': return 'The call reached its time limit.';
      default: return 'The call could not start. The chat continues here.';
    }
  };

  const emitCall = (signal) => {
    if (socket && socket.connected) socket.emit('baton_call', signal);
  };

  const fmtCallTime = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, '0')}`;
  };

  const renderCall = () => {
    const c = call;
    callRequest.hidden = !(callsProvider && (!c || c.state === 'ended'));
    if (!c) {
      callArea.hidden = true;
      callArea.dataset.state = 'idle';
      ['media', 'provider', 'callId', 'endReason'].forEach((k) => delete callArea.dataset[k]);
      return;
    }
    callArea.hidden = false;
    callArea.dataset.state = c.state === 'requesting' ? 'idle' : c.state;
    callArea.dataset.media = c.media;
    callArea.dataset.provider = c.provider;
    if (c.id) callArea.dataset.callId = c.id; else delete callArea.dataset.callId;
    if (c.state === 'ended' && c.endReason) callArea.dataset.endReason = c.endReason;
    else delete callArea.dataset.endReason;
    if (c.acceptedAt) callArea.dataset.acceptedAt = String(c.acceptedAt);
    const prompting = c.state === 'inviting' && !c.answering;
    callPrompt.hidden = !prompting;
    callPrompt.dataset.media = c.media;
    const ended = c.state === 'ended';
    callHangup.hidden = ended || prompting;
    callHangup.textContent = ['requesting', 'requested'].includes(c.state) ? 'Cancel'
      : (c.media === 'screen' ? 'Stop sharing' : 'End call');
    callClose.hidden = !ended;
    callTimer.hidden = c.state !== 'active';
    callLocal.hidden = ended || !(c.local && c.media === 'video' && c.local.getVideoTracks().length);
    callRemote.hidden = ended || !c.remote || c.provider !== 'webrtc';
    callJoin.hidden = ended || !c.joinUrl;
    if (c.joinUrl) callJoin.href = c.joinUrl;
    if (ended) callUnmute.hidden = true;
    let text = '';
    if (c.state === 'requesting') text = 'Starting your camera…';
    else if (c.state === 'requested') text = `Waiting for ${who()} to answer…`;
    else if (c.state === 'inviting') text = c.answering ? 'Connecting…' : '';
    else if (c.state === 'connecting') text = 'Connecting…';
    else if (c.state === 'active') {
      if (c.provider === 'jitsi') text = `Your ${callLabel(c.media)} with ${who()} is ready: join it with the link.`;
      else text = c.media === 'screen' ? `You are sharing your screen with ${who()}` : `In a video call with ${who()}`;
    }
    callStatus.textContent = text;
    callStatus.hidden = !text;
  };

  const showCallNotice = (reason, text) => {
    callNotice.dataset.reason = reason;
    callNotice.textContent = text;
    callNotice.hidden = !text;
  };

  const clearCallNotice = () => {
    delete callNotice.dataset.reason;
    callNotice.textContent = '';
    callNotice.hidden = true;
  };

  const tickCall = () => {
    if (call && call.state === 'active') callTimer.textContent = fmtCallTime(Date.now() - call.connectedAt);
  };

  /** Stop the media and the peer connection of a call, and its clock; idempotent. */
  const teardown = (c) => {
    if (c === call) { clearInterval(callClock); callClock = null; }
    closeCallMedia(c);
    if (c === call) {
      callRemote.srcObject = null;
      callLocal.srcObject = null;
      delete callRemote.dataset.firstFrameAt;
    }
  };

  /** End the call on this side at once (the server is told separately, or already knows). */
  const endLocally = (c, reason, text, noticeReason) => {
    const hadFocus = callArea.contains(root.activeElement);
    teardown(c);
    Object.assign(c, endedFields(reason, noticeReason));
    if (c !== call) return;
    showCallNotice(noticeReason || reason, text);
    renderCall();
    if (hadFocus) callClose.focus();
  };

  const dismissCall = (focus = true) => {
    if (call) teardown(call);
    call = null;
    clearCallNotice();
    renderCall();
    if (focus) input.focus();
  };

  const newCall = (fields) => {
    if (call) teardown(call);
    clearCallNotice();
    call = newCallRecord({ answering: false, ...fields });
    return call;
  };

  const attachRemote = (c, stream) => {
    if (c !== call) return;
    showRemoteStream(c, callRemote, stream, {
      isCurrent: () => c === call,
      onMutedAutoplay: () => { callUnmute.hidden = false; },
    });
    renderCall();
  };

  const onConnecting = (s) => {
    const c = call;
    if (!c || c.id !== s.call_id || c.state === 'ended' || c.pc) return;
    c.state = 'connecting';
    try {
      openPeer(c, s.rtc, {
        sendIce: (candidate) => emitCall({ type: 'ice', call_id: c.id, candidate }),
        onStream: (stream) => attachRemote(c, stream),
        onConnectionState: () => watchConnection(c, {
          onConnected: () => emitCall({ type: 'connected', call_id: c.id }),
          onFailed: () => hangUp('media_failed', c),
        }),
      });
    } catch (e) {
      hangUp('media_failed', c);
      return;
    }
    renderCall();
  };

  const onOffer = async (s) => {
    const c = call;
    const d = s.description;
    if (!c || c.id !== s.call_id || !c.pc || !d || d.type !== 'offer') return;
    const pc = c.pc;
    try {
      await takeRemoteDescription(c, pc, 'offer', d.sdp);
      if (c.local) addLocalTracks(pc, c.local);
      await pc.setLocalDescription(await pc.createAnswer());
      if (c.pc !== pc) return;
      emitCall({ type: 'sdp', call_id: c.id, description: localDescriptionOf(pc) });
    } catch (e) {
      if (c.pc === pc) hangUp('media_failed', c);
    }
  };

  const onIce = (s) => {
    if (!call || call.id !== s.call_id) return;
    takeRemoteIce(call, s.candidate);
  };

  const onActive = (s) => {
    let c = call;
    if (!c || c.id !== s.call_id) {
      if (s.provider !== 'jitsi') return; // webrtc: only the bound tab hears of it
      c = newCall({ id: s.call_id, media: s.media, provider: 'jitsi', state: 'active' });
    }
    if (c.state === 'ended') return;
    Object.assign(c, activeFields(s, Date.now(), safeUrl));
    clearInterval(callClock);
    callClock = setInterval(tickCall, 1000);
    tickCall();
    renderCall();
  };

  const onEnded = (s) => {
    const c = call;
    if (!c || c.id !== s.call_id) return;
    const keep = keepsLocalNotice(c); // a media error said it better already
    const hadFocus = callArea.contains(root.activeElement);
    teardown(c);
    c.state = 'ended';
    c.endReason = s.reason;
    if (!keep) showCallNotice(s.reason, endedText(c, s.reason, s.by));
    renderCall();
    if (hadFocus) callClose.focus();
  };

  const onInvite = (s) => {
    if (call && call.id !== s.call_id && CALL_LIVE.includes(call.state)) return;
    if (call && call.id === s.call_id && call.state !== 'ended') return; // sent again on reconnect
    if (s.agent_name) agentName = s.agent_name;
    const c = newCall({ id: s.call_id, media: s.media === 'screen' ? 'screen' : 'video', provider: s.provider, state: 'inviting' });
    callPromptText.textContent = c.media === 'screen'
      ? `${who()} asks to see your screen. You choose what to share and can stop at any time.`
      : `${who()} would like to start a video call. Your camera and microphone will be used.`;
    callAccept.textContent = c.media === 'screen' ? 'Share my screen' : 'Accept video call';
    renderCall();
    if (panel.hidden) open(false);
    callAccept.focus();
  };

  const onRequested = (s) => {
    const c = call;
    if (c && c.state === 'requesting' && !c.id) {
      c.id = s.call_id;
      c.state = 'requested';
    } else if (c && c.id === s.call_id) {
      return;
    } else if (c && c.state === 'ended' && c.cancelled && !c.id) {
      emitCall({ type: 'hangup', call_id: s.call_id, reason: 'hung_up' }); // cancelled while in flight
      return;
    } else {
      newCall({ id: s.call_id, media: 'video', provider: callsProvider || 'webrtc', state: 'requested' }); // another tab asked
    }
    renderCall();
  };

  const onCallError = (s) => {
    const c = call;
    if (!c || c.state === 'ended') return;
    if (s.call_id ? s.call_id !== c.id : c.id) return;
    if (c.id && c.pc) emitCall({ type: 'hangup', call_id: c.id, reason: 'media_failed' });
    endLocally(c, 'error', 'The call could not start. The chat continues here.', 'error');
  };

  const onCallSignal = (s) => {
    if (!s || typeof s !== 'object') return;
    switch (s.type) {
      case 'available':
        callsProvider = ['webrtc', 'jitsi'].includes(s.provider) ? s.provider : null;
        renderCall();
        break;
      case 'unavailable':
        callsProvider = null;
        renderCall();
        break;
      case 'invite': onInvite(s); break;
      case 'requested': onRequested(s); break;
      case 'connecting': onConnecting(s); break;
      case 'sdp': onOffer(s); break;
      case 'ice': onIce(s); break;
      case 'active': onActive(s); break;
      case 'ended': onEnded(s); break;
      case 'elsewhere':
        if (call && call.id === s.call_id) { teardown(call); call = null; clearCallNotice(); renderCall(); }
        break;
      case 'error': onCallError(s); break;
      default: // types added later
    }
  };

  /** The consent click: media first (the permission prompt), then `accept`; a failure declines. */
  const acceptCall = async () => {
    const c = call;
    if (!c || c.state !== 'inviting' || c.answering) return;
    c.answering = true;
    c.acceptedAt = epochNow();
    renderCall();
    callHangup.focus();
    if (c.provider === 'webrtc') {
      try {
        c.local = await acquireMedia(c.media);
      } catch (e) {
        const failure = mediaFailure(e, c.media);
        emitCall({ type: 'decline', call_id: c.id, reason: failure.reason });
        endLocally(c, failure.reason, failure.text, failure.reason);
        return;
      }
      if (c !== call || c.state === 'ended') { c.local.getTracks().forEach((t) => t.stop()); c.local = null; return; }
      if (c.media === 'screen') {
        // The browser's own "Stop sharing" ends the call.
        c.local.getVideoTracks().forEach((t) => t.addEventListener('ended', () => hangUp('hung_up', c)));
      } else {
        callLocal.srcObject = c.local;
        callLocal.play().catch(() => {});
      }
    }
    emitCall({ type: 'accept', call_id: c.id });
    renderCall();
  };

  const declineCall = () => {
    const c = call;
    if (!c || c.state !== 'inviting') return;
    emitCall({ type: 'decline', call_id: c.id, reason: 'declined' });
    endLocally(c, 'declined', `You declined the ${callLabel(c.media)}.`);
  };

  /** The customer's *Video call*: camera first, then `request`. */
  const requestCall = async () => {
    if (!callsProvider || (call && call.state !== 'ended')) return;
    if (!socket || !socket.connected || !confirmed) return;
    const c = newCall({ id: null, media: 'video', provider: callsProvider, state: 'requesting', acceptedAt: epochNow() });
    renderCall();
    callHangup.focus();
    if (c.provider === 'webrtc') {
      try {
        c.local = await acquireMedia('video');
      } catch (e) {
        const failure = mediaFailure(e, 'video');
        endLocally(c, failure.reason, failure.text, failure.reason);
        return;
      }
      if (c !== call || c.state === 'ended') { c.local.getTracks().forEach((t) => t.stop()); c.local = null; return; }
      callLocal.srcObject = c.local;
      callLocal.play().catch(() => {});
    }
    emitCall({ type: 'request', media: 'video' });
    renderCall();
  };

  const HANG_UP_TEXTS = {
    cancelled: () => 'You cancelled the call.',
    declined: (c) => `You declined the ${callLabel(c.media)}.`,
    media_failed: () => 'The call lost its connection. The chat continues here.',
  };

  /** *End call*, *Stop sharing*, *Cancel*, or a failed connection (`reason` media_failed). */
  const hangUp = (reason = 'hung_up', which = call) => {
    const c = which;
    if (!c || c.state === 'ended') return;
    if (c.id) emitCall({ type: 'hangup', call_id: c.id, reason });
    else c.cancelled = true; // the request is still on its way: its `requested` gets a hangup
    const ended = hangUpReason('customer', c.state, reason);
    const text = HANG_UP_TEXTS[ended] ? HANG_UP_TEXTS[ended](c) : endedText(c, 'hung_up', 'customer');
    endLocally(c, ended, text);
  };

  /** The socket dropped: end the call here at once (2.5). */
  const callLost = () => {
    if (call && CALL_LIVE.concat('requesting').includes(call.state)) {
      endLocally(call, 'customer_disconnected', 'Call ended: connection lost.');
    }
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
      if (call) hangUp();
      dismissCall(false);
      callsProvider = null;
      renderCall();
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
