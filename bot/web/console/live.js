/* The live socket's events (docs/desk.md, "Live updates"), reduced: (state, event) → the new
 * state and the effects to carry out (fetches, rendering, calls). Pure: no DOM, no network,
 * the given state never changed (tests/js/live.test.mjs). main.js carries out the effects. */

import { parseTime } from './format.js';

const CONNECTION_ID = /^[0-9a-f]{32}$/;

/** The effects the reducer asks for, by type:
 * refresh_queue, load_detail, render_queue, offer_changed, render_call_buttons,
 * show_message {message}, customer_typing {on}, hang_up_lost {call}, call_signal {event}. */
export const reduceLive = (state, event) => {
  const none = { state, effects: [] };
  if (!event || typeof event !== 'object') return none;
  const selected = event.conversation_id === state.selected;
  switch (event.type) {
    case 'queue_changed':
      return { state, effects: [{ type: 'refresh_queue' }] };
    case 'conversation_changed':
      return selected ? { state, effects: [{ type: 'load_detail' }] } : none;
    case 'message': {
      const m = event.message;
      if (!m) return none;
      if (selected) {
        const effects = m.sender === 'customer' ? [{ type: 'customer_typing', on: false }] : [];
        return { state, effects: [...effects, { type: 'show_message', message: m }] };
      }
      if (m.sender !== 'customer') return none;
      const unread = new Map(state.unread);
      unread.set(event.conversation_id, (unread.get(event.conversation_id) || 0) + 1);
      return { state: { ...state, unread }, effects: [{ type: 'render_queue' }] };
    }
    case 'typing':
      return selected && event.sender === 'customer'
        ? { state, effects: [{ type: 'customer_typing', on: Boolean(event.typing) }] } : none;
    case 'offer': {
      const expires = parseTime(event.expires_at);
      const offers = new Map(state.offers);
      offers.set(event.conversation_id, expires === null ? Infinity : expires);
      return { state: { ...state, offers }, effects: [{ type: 'offer_changed' }, { type: 'render_queue' }] };
    }
    case 'hello': {
      const connectionId = CONNECTION_ID.test(event.connection_id || '') ? event.connection_id : null;
      const lost = state.lostCall;
      const effects = lost ? [{ type: 'hang_up_lost', call: lost }] : [];
      return {
        state: { ...state, connectionId, lostCall: null },
        effects: [...effects, { type: 'render_call_buttons' }],
      };
    }
    case 'call_signal':
      return { state, effects: [{ type: 'call_signal', event }] };
    default: // pong, and types added later
      return none;
  }
};
