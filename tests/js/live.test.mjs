// The console's live-event reducer (bot/web/console/live.js): (state, event) → state and effects.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { reduceLive } from '../../bot/web/console/live.js';
import { initialState } from '../../bot/web/console/state.js';

const CONNECTION = 'a'.repeat(32);

const viewing = (selected, extra = {}) => ({ ...initialState(), agent: { id: 1 }, selected, ...extra });

/** Reduce and check that the given state was left as it was. */
const reduce = (state, event) => {
  const unread = new Map(state.unread);
  const offers = new Map(state.offers);
  const before = { ...state };
  const result = reduceLive(state, event);
  assert.deepEqual(state, before);
  assert.deepEqual(state.unread, unread);
  assert.deepEqual(state.offers, offers);
  return result;
};

for (const junk of [null, undefined, 'text', 42]) {
  test(`${JSON.stringify(junk)} changes nothing`, () => {
    const state = viewing('c1');
    assert.deepEqual(reduce(state, junk), { state, effects: [] });
  });
}

test('queue_changed refreshes the queue', () => {
  const state = viewing(null);
  assert.deepEqual(reduce(state, { type: 'queue_changed' }).effects, [{ type: 'refresh_queue' }]);
});

test('conversation_changed reloads the selected conversation only', () => {
  assert.deepEqual(reduce(viewing('c1'), { type: 'conversation_changed', conversation_id: 'c1' }).effects,
    [{ type: 'load_detail' }]);
  assert.deepEqual(reduce(viewing('c1'), { type: 'conversation_changed', conversation_id: 'c2' }).effects, []);
});

test("a customer's message in the open conversation ends their typing and shows it", () => {
  const message = { sender: 'customer', text: 'hello' };
  const { effects } = reduce(viewing('c1'), { type: 'message', conversation_id: 'c1', message });
  assert.deepEqual(effects, [{ type: 'customer_typing', on: false }, { type: 'show_message', message }]);
});

test("an agent's message in the open conversation is shown, the typing left alone", () => {
  const message = { sender: 'agent', text: 'on it' };
  const { effects } = reduce(viewing('c1'), { type: 'message', conversation_id: 'c1', message });
  assert.deepEqual(effects, [{ type: 'show_message', message }]);
});

test("a customer's message elsewhere counts as unread, in a new map", () => {
  const state = viewing('c1', { unread: new Map([['c2', 2]]) });
  const message = { sender: 'customer', text: 'hello?' };
  const result = reduce(state, { type: 'message', conversation_id: 'c2', message });
  assert.equal(result.state.unread.get('c2'), 3);
  assert.notEqual(result.state.unread, state.unread);
  assert.deepEqual(result.effects, [{ type: 'render_queue' }]);
  const first = reduce(viewing('c1'), { type: 'message', conversation_id: 'c3', message });
  assert.equal(first.state.unread.get('c3'), 1);
});

test('a bot message elsewhere, or an event without a message, changes nothing', () => {
  const state = viewing('c1');
  assert.deepEqual(reduce(state, { type: 'message', conversation_id: 'c2', message: { sender: 'bot' } }),
    { state, effects: [] });
  assert.deepEqual(reduce(state, { type: 'message', conversation_id: 'c1' }), { state, effects: [] });
});

test("the customer's typing shows in the open conversation only", () => {
  const state = viewing('c1');
  assert.deepEqual(reduce(state, { type: 'typing', conversation_id: 'c1', sender: 'customer', typing: true }).effects,
    [{ type: 'customer_typing', on: true }]);
  assert.deepEqual(reduce(state, { type: 'typing', conversation_id: 'c1', sender: 'customer' }).effects,
    [{ type: 'customer_typing', on: false }]);
  assert.deepEqual(reduce(state, { type: 'typing', conversation_id: 'c2', sender: 'customer', typing: true }).effects, []);
  assert.deepEqual(reduce(state, { type: 'typing', conversation_id: 'c1', sender: 'agent', typing: true }).effects, []);
});

test('an offer is kept until it expires; one without a time never expires', () => {
  const state = viewing(null);
  const timed = reduce(state, { type: 'offer', conversation_id: 'c9', expires_at: '2026-01-01T00:00:30Z' });
  assert.equal(timed.state.offers.get('c9'), Date.UTC(2026, 0, 1, 0, 0, 30));
  assert.deepEqual(timed.effects, [{ type: 'offer_changed' }, { type: 'render_queue' }]);
  const open = reduce(state, { type: 'offer', conversation_id: 'c9', expires_at: null });
  assert.equal(open.state.offers.get('c9'), Infinity);
});

test('hello keeps a well-formed connection id and forgets a malformed one', () => {
  const good = reduce(viewing(null), { type: 'hello', connection_id: CONNECTION });
  assert.equal(good.state.connectionId, CONNECTION);
  assert.deepEqual(good.effects, [{ type: 'render_call_buttons' }]);
  const bad = reduce(viewing(null, { connectionId: CONNECTION }), { type: 'hello', connection_id: '../x' });
  assert.equal(bad.state.connectionId, null);
});

test('hello after a dropped socket hangs up the call it ended', () => {
  const lost = { id: 'call-1', conversation_id: 'c1' };
  const result = reduce(viewing('c1', { lostCall: lost }), { type: 'hello', connection_id: CONNECTION });
  assert.equal(result.state.lostCall, null);
  assert.deepEqual(result.effects, [{ type: 'hang_up_lost', call: lost }, { type: 'render_call_buttons' }]);
});

test('call signals go to the call module as they are', () => {
  const event = { type: 'call_signal', conversation_id: 'c1', signal: { type: 'ended', call_id: 'x' } };
  assert.deepEqual(reduce(viewing('c1'), event).effects, [{ type: 'call_signal', event }]);
});

test('pong and unknown types change nothing', () => {
  const state = viewing('c1');
  assert.deepEqual(reduce(state, { type: 'pong' }), { state, effects: [] });
  assert.deepEqual(reduce(state, { type: 'added_later', conversation_id: 'c1' }), { state, effects: [] });
});
