// The call state machine and WebRTC plumbing shared by the console and the widget
// (bot/web/console/call-core.js). The plumbing runs against a small recording peer connection.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';

import {
  CALL_LIVE, DROP_GRACE_MS, activeFields, closeCallMedia, connectionVerdict, endedFields, hangUpReason,
  iceStep, keepsLocalNotice, mediaFailureKind, mediaFailureReason, newCallRecord, takeRemoteDescription,
  takeRemoteIce, watchConnection,
} from '../../bot/web/console/call-core.js';

/** A peer connection that records what is done to it. */
class RecordingPeer {
  constructor() { this.log = []; this.connectionState = 'new'; }
  async setRemoteDescription(d) { this.log.push(['remote', d.type, d.sdp]); }
  async addIceCandidate(c) { this.log.push(['ice', c]); }
  close() { this.log.push(['close']); }
}

const track = (log) => ({ stop: () => log.push('stopped') });

test('the states the server runs', () => {
  assert.deepEqual(CALL_LIVE, ['requested', 'inviting', 'connecting', 'active']);
});

test('a new call record waits for candidates', () => {
  assert.deepEqual(newCallRecord({ id: 'c', state: 'inviting' }), { ice: [], remoteSet: false, id: 'c', state: 'inviting' });
});

const VERDICTS = [
  ['connected', false, 'connected'], ['connected', true, 'connected'], ['failed', false, 'failed'],
  ['disconnected', false, 'grace'], ['disconnected', true, 'none'], ['checking', false, 'none'],
  ['new', false, 'none'], ['closed', false, 'none'],
];
for (const [st, waiting, verdict] of VERDICTS) {
  test(`connectionVerdict(${st}, waiting=${waiting}) = ${verdict}`, () => assert.equal(connectionVerdict(st, waiting), verdict));
}

test('ICE candidates: dropped when ended or empty, kept before the remote description, added after', () => {
  const pc = new RecordingPeer();
  assert.equal(iceStep(null, {}), 'drop');
  assert.equal(iceStep({ state: 'active', pc }, null), 'drop');
  assert.equal(iceStep({ state: 'ended', pc, remoteSet: true }, {}), 'drop');
  assert.equal(iceStep({ state: 'connecting', pc: null }, {}), 'keep');
  assert.equal(iceStep({ state: 'connecting', pc, remoteSet: false }, {}), 'keep');
  assert.equal(iceStep({ state: 'connecting', pc, remoteSet: true }, {}), 'add');
});

test('candidates that come before the description are added after it, in order', async () => {
  const pc = new RecordingPeer();
  const c = newCallRecord({ state: 'connecting', pc });
  takeRemoteIce(c, { candidate: 'a' });
  takeRemoteIce(c, { candidate: 'b' });
  assert.deepEqual(pc.log, []);
  await takeRemoteDescription(c, pc, 'offer', 'v=0');
  takeRemoteIce(c, { candidate: 'c' });
  assert.equal(c.remoteSet, true);
  assert.deepEqual(c.ice, []);
  assert.deepEqual(pc.log, [['remote', 'offer', 'v=0'], ['ice', { candidate: 'a' }], ['ice', { candidate: 'b' }],
    ['ice', { candidate: 'c' }]]);
});

test('active: the connection time is never in the future; the join link only if accepted', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  const https = (u) => (u.startsWith('https://') ? u : null);
  assert.deepEqual(activeFields({ connected_at: '2026-01-01T11:59:00Z' }, now, https),
    { state: 'active', answering: false, connectedAt: now - 60_000 });
  assert.equal(activeFields({ connected_at: '2026-01-01T13:00:00Z' }, now, https).connectedAt, now);
  assert.equal(activeFields({}, now, https).connectedAt, now);
  assert.equal(activeFields({ join_url: 'https://meet.example/x' }, now, https).joinUrl, 'https://meet.example/x');
  assert.equal('joinUrl' in activeFields({ join_url: 'javascript:alert(1)' }, now, https), false);
});

test("a local media error's notice outlives the server's ended", () => {
  assert.deepEqual(endedFields('permission_denied', 'permission_denied'),
    { state: 'ended', endReason: 'permission_denied', localNotice: true });
  assert.deepEqual(endedFields('hung_up'), { state: 'ended', endReason: 'hung_up', localNotice: false });
  assert.equal(keepsLocalNotice({ state: 'ended', localNotice: true }), true);
  assert.equal(keepsLocalNotice({ state: 'ended', localNotice: false }), false);
  assert.equal(keepsLocalNotice({ state: 'active', localNotice: true }), false);
});

const HANG_UPS = [
  ['agent', 'starting', 'hung_up', 'cancelled'], ['agent', 'inviting', 'hung_up', 'cancelled'],
  ['agent', 'connecting', 'hung_up', 'hung_up'], ['agent', 'active', 'hung_up', 'hung_up'],
  ['agent', 'requested', 'hung_up', 'hung_up'], ['agent', 'inviting', 'media_failed', 'media_failed'],
  ['customer', 'requesting', 'hung_up', 'cancelled'], ['customer', 'requested', 'hung_up', 'cancelled'],
  ['customer', 'inviting', 'hung_up', 'declined'], ['customer', 'active', 'hung_up', 'hung_up'],
  ['customer', 'connecting', 'media_failed', 'media_failed'], ['customer', 'requesting', 'media_failed', 'media_failed'],
];
for (const [side, before, reason, ended] of HANG_UPS) {
  test(`hangUpReason: the ${side} hangs up (${reason}) while ${before} → ${ended}`, () => {
    assert.equal(hangUpReason(side, before, reason), ended);
  });
}

const FAILURES = [
  ['unsupported', 'unsupported', 'unsupported'], ['NotAllowedError', 'permission_denied', 'permission_denied'],
  ['SecurityError', 'permission_denied', 'permission_denied'], ['NotReadableError', 'in_use', 'no_device'],
  ['AbortError', 'in_use', 'no_device'], ['NotFoundError', 'no_device', 'no_device'], ['', 'no_device', 'no_device'],
];
for (const [name, kind, reason] of FAILURES) {
  test(`media failure ${name || '(unnamed)'}: ${kind}, told the server as ${reason}`, () => {
    assert.equal(mediaFailureKind({ name }), kind);
    assert.equal(mediaFailureReason({ name }), reason);
  });
}
test('a media failure without an error is a missing device', () => assert.equal(mediaFailureReason(null), 'no_device'));

test('watchConnection: connected is told once', () => {
  const pc = new RecordingPeer();
  const c = newCallRecord({ pc });
  let told = 0;
  pc.connectionState = 'connected';
  watchConnection(c, { onConnected: () => { told += 1; }, onFailed: () => assert.fail('not failed') });
  watchConnection(c, { onConnected: () => { told += 1; }, onFailed: () => assert.fail('not failed') });
  assert.equal(told, 1);
});

test('watchConnection: a drop is given up after the grace period, unless it reconnects', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const pc = new RecordingPeer();
    const c = newCallRecord({ pc });
    let failed = 0;
    const handlers = { onConnected: () => {}, onFailed: () => { failed += 1; } };
    pc.connectionState = 'disconnected';
    watchConnection(c, handlers);
    watchConnection(c, handlers); // a second `disconnected` does not restart the wait
    mock.timers.tick(DROP_GRACE_MS - 1);
    assert.equal(failed, 0);
    mock.timers.tick(1);
    assert.equal(failed, 1);

    const again = newCallRecord({ pc });
    watchConnection(again, handlers);
    pc.connectionState = 'connected';
    watchConnection(again, handlers);
    mock.timers.tick(DROP_GRACE_MS);
    assert.equal(failed, 1);
    assert.equal(again.dropTimer, null);
  } finally {
    mock.timers.reset();
  }
});

test('watchConnection: failed at once; nothing once the peer is closed', () => {
  const pc = new RecordingPeer();
  let failed = 0;
  pc.connectionState = 'failed';
  watchConnection(newCallRecord({ pc }), { onConnected: () => {}, onFailed: () => { failed += 1; } });
  watchConnection(newCallRecord({ pc: null }), { onConnected: () => {}, onFailed: () => { failed += 1; } });
  assert.equal(failed, 1);
});

test('closeCallMedia closes the peer, stops the tracks, and can run twice', () => {
  const pc = new RecordingPeer();
  const stopped = [];
  const c = newCallRecord({ pc, local: { getTracks: () => [track(stopped), track(stopped)] } });
  pc.onicecandidate = () => {};
  closeCallMedia(c);
  closeCallMedia(c);
  assert.deepEqual(pc.log, [['close']]);
  assert.equal(pc.onicecandidate, null);
  assert.deepEqual(stopped, ['stopped', 'stopped']);
  assert.equal(c.pc, null);
  assert.equal(c.local, null);
});
