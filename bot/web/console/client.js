/* The page's desk API client: the session's CSRF token from the state, and a 401 after
 * signing in ends the session (main.js says what that does). */

import { createApi } from './api.js';
import { state } from './state.js';

let sessionEnded = () => {};

/** What to do when the server says the session is over (set once by main.js). */
export const onSessionEnded = (handler) => { sessionEnded = handler; };

export const api = createApi({
  csrf: () => state.csrf,
  // Signed in a moment ago, and now not: the session expired or was ended elsewhere.
  onUnauthorized: () => { if (state.agent) sessionEnded('Your session has ended. Please sign in again.'); },
  fetchImpl: (url, init) => fetch(url, init),
});
