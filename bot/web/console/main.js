/* Baton agent console: native ES modules, no build step, no framework (docs/desk.md,
 * "The console's modules"). This module wires them: sign-in and sign-out, the header, the
 * live events (reduced by live.js, their effects carried out here) and the page's listeners. */

import { api, onSessionEnded } from './client.js';
import {
  acceptRequest, callSocketLost, declineRequest, dismissCall, endCallsOnSignOut, hangUpCall,
  hangUpLostCall, onCallSignal, renderCallButtons, startCall, unmuteRemote,
} from './calls.js';
import {
  accept, addNote, loadDetail, loadTeams, noteOurTyping, refreshQueue, select, sendMessage,
  stopOurTyping, submitAction,
} from './conversations.js';
import {
  applyPreset, clearDashboard, loadChartLib, loadDashboard, renderRateChart, showView,
} from './dashboard.js';
import { $, attempt, clearAlert, notify } from './dom.js';
import { reduceLive } from './live.js';
import {
  ACTION_BUTTONS, addMessage, closeActionForm, moveInQueue, offerChanged, openActionForm,
  renderOffer, renderQueue, renderSelection, setCustomerTyping, tick,
} from './render.js';
import { isLead } from './rules.js';
import { resetState, state } from './state.js';
import { startLive, stopLive } from './socket.js';

let ticker = null;

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
  startLive({ onOpen: liveOpened, onEvent: onLiveEvent, onClose: liveClosed });
  clearInterval(ticker);
  ticker = setInterval(tick, 1000);
  openFromHash();
};

/** Back to the sign-in form, forgetting everything of the session. */
const signedOut = (message) => {
  stopOurTyping();
  endCallsOnSignOut();
  clearInterval(ticker);
  stopLive();
  resetState();
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
  $('views').hidden = !isLead(a);
  if (!isLead(a) && state.view === 'dashboard') showView('desk');
};

const changeStatus = async () => {
  const wanted = $('me-status').value;
  const result = await attempt('Could not change your status', () => api('PUT', '/me/status', { status: wanted }));
  if (result && result.agent) state.agent = result.agent;
  if (state.agent) renderMe(); // puts the select back when the change failed
};

// --- Live events ------------------------------------------------------------------------
const EFFECTS = {
  refresh_queue: () => refreshQueue(),
  load_detail: () => loadDetail(),
  render_queue: () => renderQueue(),
  offer_changed: () => offerChanged(),
  render_call_buttons: () => renderCallButtons(),
  show_message: (effect) => addMessage(effect.message),
  customer_typing: (effect) => setCustomerTyping(effect.on),
  hang_up_lost: (effect) => hangUpLostCall(effect.call),
  call_signal: (effect) => onCallSignal(effect.event),
};

const onLiveEvent = (event) => {
  const { state: next, effects } = reduceLive(state, event);
  Object.assign(state, next);
  effects.forEach((effect) => EFFECTS[effect.type](effect));
};

/** Events sent while we were away are lost: fetch what they would have told us. */
const liveOpened = () => {
  refreshQueue();
  if (state.selected) loadDetail();
};

const liveClosed = () => {
  state.connectionId = null;
  callSocketLost();
  renderCallButtons();
};

// --- Opening a conversation from elsewhere ----------------------------------------------
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
  $('queue-list').addEventListener('click', (e) => {
    const row = e.target.closest('button.row[data-conversation-id]');
    if (row) select(row.dataset.conversationId);
  });
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
  $('call-unmute').addEventListener('click', unmuteRemote);
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
  $('dash-causes').addEventListener('click', (e) => {
    const example = e.target.closest('a[data-testid="dash-example"]');
    if (!example) return;
    e.preventDefault();
    openConversation(example.dataset.conversationId);
  });
  window.addEventListener('hashchange', () => { if (state.agent) openFromHash(); });
};

const boot = async () => {
  onSessionEnded(signedOut);
  bind();
  try {
    enter(await api('GET', '/me'));
  } catch (e) {
    showSignin(e.status === 401 ? '' : `Cannot reach the desk: ${e.message}`);
  }
};

// A module runs once the document is parsed (modules are deferred).
boot();
