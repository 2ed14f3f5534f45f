// What a call signal does to the console's call (bot/web/console/call-signals.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planCallSignal } from '../../bot/web/console/call-signals.js';

const ME = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const NOW = Date.UTC(2026, 0, 1, 12);
const ctx = { connectionId: ME, callsProvider: 'webrtc', customerName: 'Jane', now: NOW };
const signal = (type, extra = {}, connection = ME) => ({
  type: 'call_signal', conversation_id: 'c1', connection_id: connection,
  signal: { type, call_id: 'k1', media: 'video', provider: 'webrtc', ...extra },
});
const ours = (state, extra = {}) => ({ id: 'k1', conversation_id: 'c1', state, ...extra });
const another = (state) => ({ id: 'k0', conversation_id: 'c2', state });

test('an event without a signal is ignored', () => {
  assert.equal(planCallSignal(null, { type: 'call_signal' }, ctx), null);
  assert.equal(planCallSignal(null, { type: 'call_signal', signal: 'ended' }, ctx), null);
});

test("a customer's request starts a call to answer and says so", () => {
  const plan = planCallSignal(null, signal('requested', { customer_name: 'Jane Doe', expires_at: '2026-01-01T12:00:30Z' }), ctx);
  assert.deepEqual(plan, {
    start: {
      id: 'k1', conversation_id: 'c1', media: 'video', provider: 'webrtc', state: 'requested',
      customerName: 'Jane Doe', expiresAt: NOW + 30_000,
    },
    render: true,
    notify: 'Jane Doe asks for a video call.',
  });
});

test('a request while another call is live, or for ours, is ignored', () => {
  assert.equal(planCallSignal(another('active'), signal('requested'), ctx), null);
  assert.equal(planCallSignal(ours('requested'), signal('requested'), ctx), null);
  assert.ok(planCallSignal(another('ended'), signal('requested'), ctx).start);
});

test("our invite's signal overtaking its REST answer adopts the call id", () => {
  const starting = { id: null, conversation_id: 'c1', state: 'starting' };
  const plan = planCallSignal(starting, signal('inviting', { expires_at: '2026-01-01T12:01:00Z' }), ctx);
  assert.deepEqual(plan, { adoptId: 'k1', update: { state: 'inviting', expiresAt: NOW + 60_000 }, render: true });
});

test('an invite cancelled before its id came is hung up at once', () => {
  const starting = { id: null, conversation_id: 'c1', state: 'starting', cancelled: true };
  assert.deepEqual(planCallSignal(starting, signal('inviting'), ctx), { adoptId: 'k1', hangUp: true });
});

test("another conversation's signal is not adopted", () => {
  const starting = { id: null, conversation_id: 'c2', state: 'starting' };
  assert.equal(planCallSignal(starting, signal('sdp'), ctx), null);
});

test("another window's invite is mirrored here", () => {
  const plan = planCallSignal(null, signal('inviting', {}, OTHER), ctx);
  assert.equal(plan.start.mirror, true);
  assert.equal(plan.start.customerName, 'Jane');
  assert.deepEqual(plan.update, { state: 'inviting', expiresAt: null });
});

test('connecting on the bound console makes the offer; elsewhere it mirrors', () => {
  assert.deepEqual(planCallSignal(ours('inviting'), signal('connecting'), ctx), { update: { mirror: false }, run: 'offer' });
  assert.deepEqual(planCallSignal(ours('inviting'), signal('connecting', {}, OTHER), ctx),
    { update: { mirror: true, state: 'connecting' }, render: true });
  const fresh = planCallSignal(null, signal('connecting', {}, OTHER), ctx);
  assert.equal(fresh.start.mirror, true);
  assert.equal(planCallSignal(another('active'), signal('connecting'), ctx), null);
});

test('the answer and candidates are taken on the bound console only', () => {
  assert.deepEqual(planCallSignal(ours('connecting'), signal('sdp'), ctx), { run: 'answer' });
  assert.deepEqual(planCallSignal(ours('connecting'), signal('ice'), ctx), { run: 'ice' });
  assert.equal(planCallSignal(ours('connecting'), signal('sdp', {}, OTHER), ctx), null);
  assert.equal(planCallSignal(another('connecting'), signal('ice'), ctx), null);
  assert.deepEqual(planCallSignal(ours('connecting'), { ...signal('ice'), connection_id: undefined }, ctx), { run: 'ice' });
});

test('active: the call is timed from when it connected; a Jitsi link must be https', () => {
  const plan = planCallSignal(ours('connecting'), signal('active', {
    connected_at: '2026-01-01T11:59:50Z', join_url: 'http://meet.example/x',
  }), ctx);
  assert.deepEqual(plan, { update: { state: 'active', answering: false, connectedAt: NOW - 10_000 }, render: true });
  const jitsi = planCallSignal(null, signal('active', { provider: 'jitsi', join_url: 'https://meet.example/x' }), ctx);
  assert.equal(jitsi.start.mirror, false);
  assert.equal(jitsi.update.joinUrl, 'https://meet.example/x');
  assert.equal(planCallSignal(null, signal('active'), ctx).start.mirror, true);
});

test('active for a call already ended here, or while another is live, is ignored', () => {
  assert.equal(planCallSignal(ours('ended'), signal('active'), ctx), null);
  assert.equal(planCallSignal(another('active'), signal('active'), ctx), null);
});

test('ended ends our call only', () => {
  assert.deepEqual(planCallSignal(ours('active'), signal('ended', { reason: 'hung_up', by: 'customer' }), ctx), { run: 'end' });
  assert.equal(planCallSignal(another('active'), signal('ended'), ctx), null);
  assert.equal(planCallSignal(null, signal('ended'), ctx), null);
});

test('types added later are ignored', () => {
  assert.equal(planCallSignal(ours('active'), signal('renegotiate'), ctx), null);
});
