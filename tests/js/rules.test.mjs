// What an agent may do, and how a conversation's state reads (bot/web/console/rules.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  allowed, assignedToMe, currentOffer, deadline, isLead, openOffers, stateText,
} from '../../bot/web/console/rules.js';

const AGENT = { id: 1, role: 'agent' };
const LEAD = { id: 2, role: 'supervisor' };
const conv = (state, assignee) => ({
  conversation_id: 'c1', state, ticket: { assigned_agent: assignee ? { id: assignee, name: `Agent ${assignee}` } : null },
});

test('supervisors and admins lead', () => {
  assert.equal(isLead(LEAD), true);
  assert.equal(isLead({ role: 'admin' }), true);
  assert.equal(isLead(AGENT), false);
  assert.equal(isLead(null), false);
});

test('assignedToMe compares the assignee with the signed-in agent', () => {
  assert.equal(assignedToMe(conv('with_agent', 1), AGENT), true);
  assert.equal(assignedToMe(conv('with_agent', 3), AGENT), false);
  assert.equal(assignedToMe(conv('queued'), AGENT), false);
  assert.equal(assignedToMe(conv('with_agent', 1), null), false);
});

const STATES = [
  [conv('with_agent', 1), 'with you'], [conv('with_agent', 3), 'with agent Agent 3'],
  [{ state: 'with_agent', ticket: { assigned_agent: null } }, 'with agent unknown'],
  [conv('queued'), 'queued'], [conv('bot'), 'back with the bot'], [conv('resolved'), 'resolved'],
  [conv('later'), 'later'],
];
for (const [c, text] of STATES) {
  test(`stateText: ${c.state} → ${text}`, () => assert.equal(stateText(c, AGENT), text));
}

test('the deadline: first response while queued, else resolution', () => {
  const ticket = { first_response_due: 'f', resolution_due: 'r' };
  assert.deepEqual(deadline({ state: 'queued', ticket }), { label: 'First response', due: 'f' });
  assert.deepEqual(deadline({ state: 'with_agent', ticket }), { label: 'Resolution', due: 'r' });
  assert.deepEqual(deadline({ state: 'queued' }), { label: 'First response', due: undefined });
});

const NONE = { accept: false, work: false, chat: false, note: false, takeOver: false };
const ALLOWED = [
  ['nothing selected', { detail: null, agent: AGENT, busy: false }, NONE],
  ['a request in flight', { detail: conv('queued'), agent: AGENT, busy: true }, NONE],
  ['signed out', { detail: conv('queued'), agent: null, busy: false }, { ...NONE, note: true }],
  ['queued', { detail: conv('queued'), agent: AGENT, busy: false },
    { accept: true, work: true, chat: false, note: true, takeOver: false }],
  ['mine', { detail: conv('with_agent', 1), agent: AGENT, busy: false },
    { accept: false, work: true, chat: true, note: true, takeOver: false }],
  ["another agent's", { detail: conv('with_agent', 3), agent: AGENT, busy: false },
    { accept: false, work: false, chat: false, note: true, takeOver: false }],
  ["another agent's, as a lead", { detail: conv('with_agent', 3), agent: LEAD, busy: false },
    { accept: true, work: true, chat: false, note: true, takeOver: true }],
  ['resolved', { detail: conv('resolved'), agent: AGENT, busy: false },
    { accept: false, work: false, chat: false, note: true, takeOver: false }],
];
for (const [name, state, expected] of ALLOWED) {
  test(`allowed: ${name}`, () => assert.deepEqual(allowed(state), expected));
}

test('the offer shown is the one that expires first; expired ones are dropped', () => {
  const now = 1000;
  const offers = new Map([['late', 5000], ['soon', 2000], ['gone', 900], ['open', Infinity]]);
  assert.deepEqual(currentOffer(offers, now), { id: 'soon', expires: 2000 });
  assert.deepEqual([...openOffers(offers, now).keys()], ['late', 'soon', 'open']);
  assert.deepEqual(currentOffer(new Map([['open', Infinity]]), now), { id: 'open', expires: Infinity });
  assert.equal(currentOffer(new Map([['gone', 1000]]), now), null);
});
