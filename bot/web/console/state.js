/* The console's state: one object the modules share. Live events change it through the
 * reducer (live.js, pure); the agent's actions and the fetches they start change it in
 * conversations.js and calls.js; the views (render.js, calls.js, dashboard.js) read it. */

/** The state of a console no one is signed in to. */
export const initialState = () => ({
  agent: null,
  csrf: null,
  teams: [],
  queue: [],
  selected: null,     // conversation id
  detail: null,       // the selected conversation's Detail
  live: [],           // live messages of the selected conversation, not yet in a fetched transcript
  seen: new Set(),    // keys of the messages shown in the transcript
  offers: new Map(),  // conversation id -> expires_at (ms)
  unread: new Map(),  // conversation id -> customer messages since it was last shown
  busy: false,        // an action request is in flight
  action: null,       // the action whose form is open
  callsProvider: null, // GET /me's calls.provider: "webrtc" | "jitsi" | null (calls off)
  connectionId: null,  // from this socket's `hello`
  call: null,          // the call on screen (it follows the call, not the selection)
  lostCall: null,      // {id, conversation_id} of a call our dropped socket ended here
  view: 'desk',        // 'desk' (queue and conversation) or 'dashboard' (supervisors and admins)
});

/** The page's one state (modules share it; nothing else is global). */
export const state = initialState();

/** Forget everything of a session (sign-out), keeping the object the modules share. */
export const resetState = () => Object.assign(state, initialState());
