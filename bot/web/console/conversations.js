/* The desk view's work: fetching the queue and the selected conversation, the actions on it
 * (accept, transfer, escalate, resolve, return, block), notes, and chatting with the customer. */

import { api } from './client.js';
import { enc } from './api.js';
import { $, attempt, notify, showAlert } from './dom.js';
import {
  ACTIONS, addMessage, closeActionForm, renderDetail, renderOffer, renderNotes, renderQueue,
  renderSelection, scrollDown, setCustomerTyping,
} from './render.js';
import { state } from './state.js';

const TYPING_THROTTLE_MS = 3000; // at most one "typing: true" per this long
const TYPING_IDLE_MS = 3000;     // "typing: false" after this long without a keystroke

// --- Fetching ---------------------------------------------------------------------------
/** Run `fetchOnce` now; calls while it runs make it run once more when it ends. */
const coalesced = (fetchOnce) => {
  let run = null;
  let again = false;
  return () => {
    if (run) { again = true; return run; }
    run = (async () => {
      do {
        again = false;
        if (!(await fetchOnce())) return;
      } while (again && state.agent);
    })().finally(() => { run = null; });
    return run;
  };
};

/** Fetch /queue (true to go on, false to stop). */
export const refreshQueue = coalesced(async () => {
  try {
    const data = await api('GET', '/queue');
    if (!state.agent) return false;
    state.queue = (data && data.conversations) || [];
    renderQueue();
    return true;
  } catch (e) {
    if (e.status !== 401) showAlert(`Could not load the queue: ${e.message}`);
    return false;
  }
});

/** Fetch the selected conversation. */
export const loadDetail = coalesced(async () => {
  const id = state.selected;
  if (!id) return false;
  try {
    const d = await api('GET', `/conversations/${enc(id)}`);
    if (state.selected === id) renderDetail(d);
    return true;
  } catch (e) {
    if (e.status !== 401) showAlert(`Could not load the conversation: ${e.message}`);
    return false;
  }
});

export const loadTeams = async () => {
  try {
    const data = await api('GET', '/teams');
    state.teams = (data && data.teams) || [];
  } catch (e) {
    if (e.status !== 401) showAlert(`Could not load the teams: ${e.message}`);
  }
};

export const select = (id) => {
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

// --- Actions ----------------------------------------------------------------------------
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

export const accept = async (id) => {
  if (id !== state.selected) await select(id);
  const d = await perform('Could not accept the conversation', 'accept');
  if (!d) return;
  state.offers.delete(id);
  renderOffer();
  notify('You have the conversation.');
  $('composer-input').focus();
};

export const submitAction = async (event) => {
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

export const addNote = async (event) => {
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
const typing = { on: false, for: null, sentAt: 0, idle: null }; // what we told the customer

const postTyping = (id, on) => {
  if (!id || !state.agent) return;
  api('POST', `/conversations/${enc(id)}/typing`, { typing: on }).catch(() => { /* best effort */ });
};

/** Tell the customer we type: at most one "true" per throttle period, "false" when idle. */
export const noteOurTyping = () => {
  const input = $('composer-input');
  if (input.disabled || !state.selected) return;
  if (!input.value.trim()) { stopOurTyping(); return; }
  const now = Date.now();
  if (!typing.on || typing.for !== state.selected || now - typing.sentAt >= TYPING_THROTTLE_MS) {
    if (typing.on && typing.for !== state.selected) stopOurTyping();
    typing.on = true;
    typing.for = state.selected;
    typing.sentAt = now;
    postTyping(typing.for, true);
  }
  clearTimeout(typing.idle);
  typing.idle = setTimeout(stopOurTyping, TYPING_IDLE_MS);
};

export const stopOurTyping = () => {
  clearTimeout(typing.idle);
  typing.idle = null;
  if (!typing.on) return;
  typing.on = false;
  postTyping(typing.for, false);
};

export const sendMessage = async () => {
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
