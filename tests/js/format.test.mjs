// The console's formatting (bot/web/console/format.js): pure functions, no DOM.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  callDuration, customerFacts, customerName, dayLabel, dueText, fmtCount, fmtDuration, fmtPercent,
  fmtSeconds, historyText, humanize, isoDay, levelText, messageKey, parseTime, priorityClass,
  sentimentText, tierText,
} from '../../bot/web/console/format.js';

test('a guest (tier null, as the real desk answers) shows no tier, never "nullnull"', () => {
  const facts = customerFacts({ name: null, verified: false, tier: null, customer_id: null }, {});
  assert.deepEqual(facts, { name: 'Guest', verified: false, verifiedText: 'not verified', tier: '' });
  assert.ok(!Object.values(facts).some((v) => String(v).includes('null')));
});

test('a customer with a tier shows it as a tag', () => {
  const facts = customerFacts({ name: 'Jane Doe', verified: true, tier: 'business' }, {});
  assert.deepEqual(facts, { name: 'Jane Doe', verified: true, verifiedText: 'verified', tier: 'tier: business' });
});

test('the handoff context stands in for a Detail without a customer', () => {
  const facts = customerFacts(undefined, { name: 'Ravi', verified: true, tier: 'consumer' });
  assert.equal(facts.name, 'Ravi');
  assert.equal(facts.verified, true);
  assert.equal(facts.tier, 'tier: consumer');
});

for (const missing of [null, undefined, '']) {
  test(`tierText(${JSON.stringify(missing)}) is empty`, () => assert.equal(tierText(missing), ''));
}

test('customerName falls back to Guest', () => {
  assert.equal(customerName(null), 'Guest');
  assert.equal(customerName({ name: '' }), 'Guest');
  assert.equal(customerName({ name: 'Ana' }), 'Ana');
});

test('levelText joins the tier and the level, a dash when neither', () => {
  assert.equal(levelText({ tier: 'L1', level: 0 }), 'L1 · level 0');
  assert.equal(levelText({ tier: null, level: 2 }), 'level 2');
  assert.equal(levelText({ tier: null, level: null }), '–');
  assert.equal(levelText(undefined), '–');
});

const DURATIONS = [
  [0, '0 s'], [-5000, '0 s'], [44_400, '44 s'], [60_000, '1 min'], [59 * 60_000, '59 min'],
  [3 * 3600_000 + 5 * 60_000, '3 h 5 min'], [50 * 3600_000, '2 d 2 h'],
];
for (const [ms, text] of DURATIONS) {
  test(`fmtDuration(${ms}) = ${text}`, () => assert.equal(fmtDuration(ms), text));
}

const CALL_DURATIONS = [[0, '0 s'], ['abc', '0 s'], [59, '59 s'], [185, '3 min 5 s'], [3720, '1 h 2 min']];
for (const [seconds, text] of CALL_DURATIONS) {
  test(`callDuration(${JSON.stringify(seconds)}) = ${text}`, () => assert.equal(callDuration(seconds), text));
}

const SECONDS = [
  [null, '–'], [45, '45 s'], [95, '1 min 35 s'], [120, '2 min'], [7500, '2 h 5 min'], [7200, '2 h'],
  [3 * 86400 + 4 * 3600, '3 d 4 h'],
];
for (const [value, text] of SECONDS) {
  test(`fmtSeconds(${value}) = ${text}`, () => assert.equal(fmtSeconds(value), text));
}

test('counts and percentages, with a dash for a missing number', () => {
  assert.equal(fmtCount(1234), '1,234');
  assert.equal(fmtCount(undefined), '–');
  assert.equal(fmtPercent(12.345), '12.3 %');
  assert.equal(fmtPercent(null), '–');
});

test('parseTime reads ISO times and refuses the rest', () => {
  assert.equal(parseTime('2026-01-02T03:04:05Z'), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(parseTime(null), null);
  assert.equal(parseTime('soon'), null);
});

test('UTC days', () => {
  assert.equal(isoDay(Date.UTC(2026, 11, 7, 23, 59)), '2026-12-07');
  assert.equal(dayLabel('2026-12-07'), 'Dec 7');
  assert.equal(dayLabel('not a day'), 'not a day');
});

test('messageKey: the server id, else time, sender and text', () => {
  assert.equal(messageKey({ id: 7, at: 'x', sender: 'bot', text: 'hi' }), 'id:7');
  assert.equal(messageKey({ id: 0 }), 'id:0');
  assert.equal(messageKey({ at: 't', sender: 'bot', text: 'hi' }), 't\u0000bot\u0000hi');
});

test('priorityClass knows P1 to P4 only', () => {
  assert.equal(priorityClass('P1'), 'p1');
  assert.equal(priorityClass('P4'), 'p4');
  assert.equal(priorityClass('P5'), 'p-unknown');
  assert.equal(priorityClass(null), 'p-unknown');
});

test('humanize drops the case_ prefix and underscores', () => {
  assert.equal(humanize('case_order_id'), 'order id');
  assert.equal(humanize('too_slow'), 'too slow');
});

test('historyText says who did what, from where to where, and why', () => {
  assert.equal(historyText({ action: 'transfer', actor: 'Ana', from: 'billing', to: 'technical', reason: 'router' }),
    'transfer by Ana (billing → technical): router');
  assert.equal(historyText({ to: 'queued', type: 'functional' }), 'changed (– → queued) [functional]');
});

test('sentimentText gives the score, and the cues of a frustrated message', () => {
  assert.equal(sentimentText({ label: 'neutral', compound: 0.1 }), 'neutral (0.10)');
  assert.equal(sentimentText({ label: 'negative', compound: -0.7, frustrated: true, cues: ['all_caps', 'repeat'] }),
    'negative (-0.70), frustrated: all caps, repeat');
  assert.equal(sentimentText({ label: 'negative', frustrated: true }), 'negative, frustrated');
});

test('dueText: due in, or overdue by, with the label and the clock', () => {
  const now = Date.UTC(2026, 0, 1, 10, 0);
  assert.equal(dueText(now + 5 * 60_000, now, { label: 'First response' }), 'First response due in 5 min');
  assert.equal(dueText(now - 90_000, now, { clock: '09:58' }), '09:58 · overdue by 1 min');
  assert.equal(dueText(now + 1000, now), 'due in 1 s');
});
