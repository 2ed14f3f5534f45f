/* What a `call_signal` live event does to the console's call (docs/calls.md 3.3): a pure
 * plan, carried out by calls.js (tests/js/call_signals.test.mjs). The console offers: the
 * console the call is bound to (its `connection_id`) makes the offer; another console of
 * the same agent only mirrors the call ("In a call in another window"). */

import { activeFields } from './call-core.js';
import { parseTime } from './format.js';

const httpsOnly = (url) => (/^https:\/\//.test(url) ? url : null);

/** The plan for one signal, or null to ignore it:
 * - `adoptId`: our own invite learns its id (its signals overtook the REST answer);
 *   with `hangUp`, it was cancelled meanwhile and is hung up now, nothing else;
 * - `start`: the fields of a new call record, which replaces the one on screen;
 * - `update`: fields set on the call;
 * - `run`: `offer`, `answer`, `ice` or `end` (the WebRTC and notice work of calls.js);
 * - `render`: show the call again; `notify`: a line for the notice bar.
 * `ctx` is {connectionId, callsProvider, customerName (of the event's conversation), now}. */
export const planCallSignal = (call, event, ctx) => {
  const s = event.signal;
  if (!s || typeof s !== 'object') return null;
  const bound = !event.connection_id || event.connection_id === ctx.connectionId;
  const plan = {};
  let id = call ? call.id : undefined;
  if (call && !call.id && call.state === 'starting' && call.conversation_id === event.conversation_id
    && s.type !== 'requested') {
    plan.adoptId = s.call_id;
    id = s.call_id;
    if (call.cancelled) return { ...plan, hangUp: true };
  }
  const ours = Boolean(call && id === s.call_id);
  const live = Boolean(call && call.state !== 'ended');
  const mirror = (mirrored) => ({
    id: s.call_id, conversation_id: event.conversation_id, media: s.media, provider: s.provider,
    customerName: ctx.customerName, mirror: mirrored,
  });
  switch (s.type) {
    case 'requested':
      if (ours || live) return null;
      return {
        ...plan,
        start: {
          id: s.call_id, conversation_id: event.conversation_id, media: 'video', provider: ctx.callsProvider || 'webrtc',
          state: 'requested', customerName: s.customer_name || ctx.customerName, expiresAt: parseTime(s.expires_at),
        },
        render: true,
        notify: `${s.customer_name || ctx.customerName} asks for a video call.`,
      };
    case 'inviting':
      if (!ours && live) return adoptedOnly(plan);
      return {
        ...plan, ...(ours ? {} : { start: mirror(!bound) }),
        update: { state: 'inviting', expiresAt: parseTime(s.expires_at) }, render: true,
      };
    case 'connecting': {
      if (!ours && live) return adoptedOnly(plan);
      const start = ours ? {} : { start: mirror(true) };
      if (!bound) return { ...plan, ...start, update: { mirror: true, state: 'connecting' }, render: true };
      return { ...plan, ...start, update: { mirror: false }, run: 'offer' };
    }
    case 'sdp':
      return ours && bound ? { ...plan, run: 'answer' } : adoptedOnly(plan);
    case 'ice':
      return ours && bound ? { ...plan, run: 'ice' } : adoptedOnly(plan);
    case 'active':
      if (!ours) {
        if (live) return adoptedOnly(plan);
        return { ...plan, start: mirror(s.provider !== 'jitsi'), update: activeFields(s, ctx.now, httpsOnly), render: true };
      }
      if (call.state === 'ended') return adoptedOnly(plan);
      return { ...plan, update: activeFields(s, ctx.now, httpsOnly), render: true };
    case 'ended':
      return ours ? { ...plan, run: 'end' } : adoptedOnly(plan);
    default: // types added later
      return adoptedOnly(plan);
  }
};

/** Nothing to do but, perhaps, keep the id our invite learnt. */
const adoptedOnly = (plan) => (plan.adoptId ? plan : null);
