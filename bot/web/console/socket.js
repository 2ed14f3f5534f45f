/* The live socket (docs/desk.md, "Live updates"): connect, keep it alive, reconnect with
 * back-off (backoff.js). What its events mean is live.js's; what to do on open, close and
 * each event, main.js's (the handlers given to startLive). */

import { API } from './api.js';
import { api } from './client.js';
import { checksSession, reconnectDelay } from './backoff.js';
import { setLive } from './dom.js';
import { state } from './state.js';

const PING_MS = 25000;

let ws = null;
let attempts = 0;
let reconnectTimer = null;
let pingTimer = null;
let handlers = { onOpen: () => {}, onEvent: () => {}, onClose: () => {} };

/** Open the socket (once signed in); `onOpen`, `onEvent(event)`, `onClose` as it goes. */
export const startLive = (given) => {
  handlers = given;
  connect();
};

const connect = () => {
  if (!state.agent || ws) return;
  setLive(attempts ? 'reconnecting' : 'connecting');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  let socket;
  try {
    socket = new WebSocket(`${scheme}://${location.host}${API}/live`);
  } catch (e) {
    scheduleReconnect();
    return;
  }
  ws = socket;
  socket.addEventListener('open', () => {
    if (ws !== socket) return;
    attempts = 0;
    setLive('connected');
    handlers.onOpen();
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ping' }));
    }, PING_MS);
  });
  socket.addEventListener('message', (e) => {
    if (ws !== socket) return;
    let event;
    try { event = JSON.parse(e.data); } catch (err) { return; }
    handlers.onEvent(event);
  });
  socket.addEventListener('close', () => {
    if (ws !== socket) return; // closed by us
    ws = null;
    handlers.onClose();
    clearInterval(pingTimer);
    if (!state.agent) return;
    setLive('reconnecting');
    scheduleReconnect();
  });
};

/** Reconnect with exponential back-off and jitter; check the session after a few failures. */
const scheduleReconnect = () => {
  clearTimeout(reconnectTimer);
  const n = attempts;
  attempts += 1;
  reconnectTimer = setTimeout(async () => {
    reconnectTimer = null;
    if (!state.agent) return;
    if (checksSession(n)) {
      try { await api('GET', '/me'); } catch (e) { if (e.status === 401) return; }
    }
    connect();
  }, reconnectDelay(n, Math.random()));
};

/** Sign-out: close the socket and stop reconnecting. */
export const stopLive = () => {
  clearInterval(pingTimer);
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  const socket = ws;
  ws = null;
  if (socket) socket.close();
  setLive('offline');
};
