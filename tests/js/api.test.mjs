// The desk API client (bot/web/console/api.js), against a recording fetch.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, createApi } from '../../bot/web/console/api.js';

const reply = (status, body, statusText = '') => ({
  status, statusText, ok: status >= 200 && status < 300,
  json: async () => { if (body === undefined) throw new SyntaxError('no body'); return body; },
});

const client = (answer, { token = 'tok' } = {}) => {
  const calls = [];
  let unauthorized = 0;
  const api = createApi({
    csrf: () => token,
    onUnauthorized: () => { unauthorized += 1; },
    fetchImpl: async (url, init) => { calls.push({ url, init }); return answer(); },
  });
  return { api, calls, unauthorized: () => unauthorized };
};

test('a GET carries no CSRF header and answers the JSON', async () => {
  const { api, calls } = client(() => reply(200, { conversations: [] }));
  assert.deepEqual(await api('GET', '/queue'), { conversations: [] });
  assert.equal(calls[0].url, '/desk/api/queue');
  assert.equal(calls[0].init.headers['X-CSRF-Token'], undefined);
  assert.equal(calls[0].init.body, undefined);
  assert.equal(calls[0].init.credentials, 'same-origin');
});

test('a change carries the CSRF token and a JSON body', async () => {
  const { api, calls } = client(() => reply(200, { ok: true }));
  await api('POST', '/conversations/c1/notes', { text: 'hi' });
  assert.equal(calls[0].init.headers['X-CSRF-Token'], 'tok');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.body, '{"text":"hi"}');
});

test('no token (signing in): no CSRF header', async () => {
  const { api, calls } = client(() => reply(200, {}), { token: null });
  await api('POST', '/login', { email: 'a', password: 'b' });
  assert.equal(calls[0].init.headers['X-CSRF-Token'], undefined);
});

test("204 answers null", async () => {
  const { api } = client(() => reply(204));
  assert.equal(await api('POST', '/logout'), null);
});

test("an error carries the status, the server's message and code", async () => {
  const { api, unauthorized } = client(() => reply(409, { error: 'taken by Ana', code: 'conflict' }));
  await assert.rejects(api('POST', '/conversations/c1/accept'), (e) => e instanceof ApiError
    && e.status === 409 && e.message === 'taken by Ana' && e.code === 'conflict');
  assert.equal(unauthorized(), 0);
});

test('an error without a JSON body says its status', async () => {
  const { api } = client(() => reply(502, undefined, 'Bad Gateway'));
  await assert.rejects(api('GET', '/queue'), { status: 502, message: '502 Bad Gateway', code: null });
});

test('a 401 tells the page the session ended', async () => {
  const { api, unauthorized } = client(() => reply(401, { error: 'sign in' }));
  await assert.rejects(api('GET', '/queue'), { status: 401 });
  assert.equal(unauthorized(), 1);
});

test('an unreachable server is status 0', async () => {
  const { api } = client(() => { throw new TypeError('Failed to fetch'); });
  await assert.rejects(api('GET', '/me'), { status: 0, message: 'cannot reach the desk server' });
});
