// Reconnecting the console's live socket (bot/web/console/backoff.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BACKOFF_MAX_MS, BACKOFF_MIN_MS, checksSession, reconnectDelay,
} from '../../bot/web/console/backoff.js';

test('the first attempt waits the minimum, give or take the jitter', () => {
  assert.equal(reconnectDelay(0, 0.5), BACKOFF_MIN_MS);
  assert.equal(reconnectDelay(0, 0), BACKOFF_MIN_MS * 0.8);
  assert.ok(reconnectDelay(0, 0.999999) < BACKOFF_MIN_MS * 1.2);
});

test('each failure doubles the wait', () => {
  const waits = [0, 1, 2, 3, 4].map((n) => reconnectDelay(n, 0.5));
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000]);
});

test('the wait never exceeds the maximum plus the jitter', () => {
  assert.equal(reconnectDelay(6, 0.5), BACKOFF_MAX_MS);
  assert.equal(reconnectDelay(50, 0.5), BACKOFF_MAX_MS);
  assert.ok(reconnectDelay(50, 0.999999) < BACKOFF_MAX_MS * 1.2);
  assert.ok(reconnectDelay(50, 0) >= BACKOFF_MAX_MS * 0.8);
});

test('the session is checked from the third attempt on', () => {
  assert.deepEqual([0, 1, 2, 3].map(checksSession), [false, false, true, true]);
});
