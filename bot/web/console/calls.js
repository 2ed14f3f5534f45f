/* Calls in the console (docs/calls.md): this console offers, the customer answers. The call
 * record's state machine and the WebRTC plumbing are call-core.js, shared with the widget;
 * here are the console's signals (over the desk API and the live socket), texts and view. */

import {
  CALL_LIVE, acquireMedia, addLocalTracks, closeCallMedia, endedFields, hangUpReason, keepsLocalNotice,
  localDescriptionOf, mediaFailureKind, mediaFailureReason, newCallRecord, openPeer, showRemoteStream,
  takeRemoteDescription, takeRemoteIce, watchConnection,
} from './call-core.js';
import { planCallSignal } from './call-signals.js';
import { api } from './client.js';
import { enc } from './api.js';
import { $, clearAlert, notify, showAlert, attempt } from './dom.js';
import { callDuration, customerName, parseTime } from './format.js';
import { allowed } from './rules.js';
import { state } from './state.js';

export const callLabel = (media) => (media === 'screen' ? 'Screen share' : 'Video call');

const AGENT_MEDIA_TEXTS = {
  unsupported: 'This browser cannot make video calls.',
  permission_denied: 'Your browser blocked the camera or microphone, so the call did not start. Allow them in the site settings and try again.',
  in_use: 'Your camera or microphone is in use by another application.',
  no_device: 'No camera or microphone was found.',
};
const agentMediaText = (e) => AGENT_MEDIA_TEXTS[mediaFailureKind(e)];

/** The notice of a call the server ended, in the agent's words. */
export const endedText = (c, reason, by) => {
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

// --- The view ---------------------------------------------------------------------------
export const renderCall = () => {
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

/** *Video call* and *Ask to share screen*: shown when calls are on, usable in one's own chat. */
export const renderCallButtons = () => {
  const on = Boolean(state.callsProvider);
  const d = state.detail;
  const serverLive = Boolean(d && d.call && CALL_LIVE.includes(d.call.state)
    && !(state.call && state.call.id === d.call.id && state.call.state === 'ended'));
  const can = on && allowed(state).chat && !callLive() && !serverLive && Boolean(state.connectionId);
  ['call-video', 'call-screen'].forEach((id) => {
    $(id).hidden = !on;
    $(id).disabled = !can;
  });
};

/** Every second: the call's timer, and the time left to answer. */
export const tickCall = () => {
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

// --- The call's life --------------------------------------------------------------------
export const teardownCall = (c) => {
  closeCallMedia(c);
  if (c === state.call) {
    $('call-remote').srcObject = null;
    $('call-local').srcObject = null;
    delete $('call-remote').dataset.firstFrameAt;
  }
};

const newCall = (fields) => {
  if (state.call) teardownCall(state.call);
  clearCallNotice();
  state.call = newCallRecord({ chain: Promise.resolve(), ...fields });
  return state.call;
};

const endCallHere = (c, reason, text, noticeReason) => {
  const hadFocus = $('call').contains(document.activeElement);
  teardownCall(c);
  Object.assign(c, endedFields(reason, noticeReason));
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
  showRemoteStream(c, $('call-remote'), stream, {
    isCurrent: () => c === state.call,
    onMutedAutoplay: () => { $('call-unmute').hidden = false; },
  });
  renderCall();
};

/** `connecting` on the bound console: create the offer (never on a REST answer). */
const makeOffer = async (c, s) => {
  if (c.pc || c.state === 'ended') return;
  c.state = 'connecting';
  renderCall();
  let pc;
  try {
    pc = openPeer(c, s.rtc, {
      sendIce: (candidate) => postSignal(c, { type: 'ice', candidate }),
      onStream: (stream) => attachRemote(c, stream),
      onConnectionState: () => watchConnection(c, {
        onConnected: () => postSignal(c, { type: 'connected' }),
        onFailed: () => hangUpCall('media_failed', c),
      }),
    });
    if (c.media === 'screen') pc.addTransceiver('video', { direction: 'recvonly' });
    else if (c.local) addLocalTracks(pc, c.local);
    await pc.setLocalDescription(await pc.createOffer());
    if (c.pc !== pc) return;
    postSignal(c, { type: 'sdp', description: localDescriptionOf(pc) });
  } catch (e) {
    if (c.pc === pc || !pc) hangUpCall('media_failed', c);
  }
};

const takeAnswer = async (c, s) => {
  const d = s.description;
  if (!c.pc || !d || d.type !== 'answer' || c.remoteSet) return;
  const pc = c.pc;
  try {
    await takeRemoteDescription(c, pc, 'answer', d.sdp);
  } catch (e) {
    if (c.pc === pc) hangUpCall('media_failed', c);
  }
};

/** The server ended the call: its notice, unless a local media error said it better. */
const endedByServer = (c, s) => {
  const keep = keepsLocalNotice(c);
  const hadFocus = $('call').contains(document.activeElement);
  teardownCall(c);
  c.state = 'ended';
  c.endReason = s.reason;
  if (!keep) showCallNotice(s.reason, endedText(c, s.reason, s.by));
  renderCall();
  if (hadFocus) $('call-close').focus();
};

/** A `call_signal` live event: the server's word on a call of this agent's (call-signals.js
 * decides what it means; this carries it out). */
export const onCallSignal = (event) => {
  const conv = state.queue.find((q) => q.conversation_id === event.conversation_id)
    || (state.detail && state.detail.conversation_id === event.conversation_id ? state.detail : null);
  const plan = planCallSignal(state.call, event, {
    connectionId: state.connectionId, callsProvider: state.callsProvider,
    customerName: customerName(conv && conv.customer), now: Date.now(),
  });
  if (!plan) return;
  const s = event.signal;
  let c = state.call;
  if (plan.adoptId) {
    c.id = plan.adoptId;
    if (plan.hangUp) { hangUpCall('hung_up', c); return; }
  }
  if (plan.start) c = newCall(plan.start);
  if (plan.update) Object.assign(c, plan.update);
  if (plan.run === 'offer') makeOffer(c, s);
  else if (plan.run === 'answer') takeAnswer(c, s);
  else if (plan.run === 'ice') takeRemoteIce(c, s.candidate); // before the answer is set: kept, in order
  else if (plan.run === 'end') endedByServer(c, s);
  if (plan.render) renderCall();
  if (plan.notify) notify(plan.notify);
};

// --- The agent's buttons ----------------------------------------------------------------
/** The camera for a video call; false (the call ended with the reason) if it cannot be had. */
const takeCamera = async (c, onFailure) => {
  try {
    c.local = await acquireMedia('video');
  } catch (e) {
    const reason = mediaFailureReason(e);
    endCallHere(c, reason, agentMediaText(e), reason);
    onFailure(reason);
    return false;
  }
  if (c !== state.call || c.state === 'ended') { teardownCall(c); return false; }
  $('call-local').srcObject = c.local;
  return true;
};

/** *Video call* / *Ask to share screen*: the camera first (video), then POST /calls. */
export const startCall = async (media) => {
  const id = state.selected;
  const d = state.detail;
  if (!id || !d || callLive() || !state.callsProvider) return;
  clearAlert();
  const provider = state.callsProvider;
  const c = newCall({ id: null, conversation_id: id, media, provider, state: 'starting', customerName: customerName(d.customer) });
  renderCall();
  if (media === 'video' && provider === 'webrtc') {
    if (!(await takeCamera(c, () => {}))) return;
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
export const acceptRequest = async () => {
  const c = state.call;
  if (!c || c.state !== 'requested' || c.answering) return;
  c.answering = true;
  renderCall();
  if (c.provider === 'webrtc') {
    const declined = (reason) => api('POST', callPath(c, 'decline'), { reason }).catch(() => {});
    if (!(await takeCamera(c, declined))) return;
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

export const declineRequest = async () => {
  const c = state.call;
  if (!c || c.state !== 'requested') return;
  endCallHere(c, 'declined', 'You declined the call.');
  await attempt('Could not decline the call', () => api('POST', callPath(c, 'decline'), { reason: 'declined' }));
};

const HANG_UP_TEXTS = { cancelled: 'You cancelled the call.', media_failed: 'The call lost its connection.' };

/** *Hang up* / *Cancel*; also a failed connection (media_failed). */
export const hangUpCall = async (reason = 'hung_up', which = state.call) => {
  const c = which;
  if (!c || c.state === 'ended') return;
  const local = hangUpReason('agent', c.state, reason);
  endCallHere(c, local, HANG_UP_TEXTS[local] || 'You ended the call.');
  if (!c.id) { c.cancelled = true; return; } // POST /calls still on its way
  try {
    await api('POST', callPath(c, 'hangup'), { reason });
  } catch (e) {
    if (e.status !== 401 && c === state.call) showAlert(`Could not hang up: ${e.message}`);
  }
};

export const dismissCall = () => {
  if (state.call) teardownCall(state.call);
  state.call = null;
  clearCallNotice();
  renderCall();
  const video = $('call-video');
  if (!video.disabled && !video.hidden) video.focus();
  else $('composer-input').focus();
};

/** Sign-out: hang up a call in progress and forget it. */
export const endCallsOnSignOut = () => {
  if (state.call) { hangUpCall('hung_up'); teardownCall(state.call); }
  state.call = null;
  state.callsProvider = null;
  state.connectionId = null;
  state.lostCall = null;
  renderCall();
};

/** The live socket closed: end a call here at once, hang it up after the next `hello` (2.5). */
export const callSocketLost = () => {
  const c = state.call;
  if (!c || c.state === 'ended' || c.mirror) return;
  if (c.id) state.lostCall = { id: c.id, conversation_id: c.conversation_id };
  endCallHere(c, 'agent_disconnected', 'Call ended: connection lost.');
};

/** After the next `hello`: hang up the call the dropped socket ended here. */
export const hangUpLostCall = (lost) => {
  api('POST', callPath(lost, 'hangup'), { reason: 'agent_disconnected' }).catch(() => {});
};

export const unmuteRemote = () => {
  const video = $('call-remote');
  video.muted = false;
  video.play().catch(() => {});
  $('call-unmute').hidden = true;
};

/** A history row of a call (1.3.2), in words. */
export const callHistoryText = (row, rows) => {
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
