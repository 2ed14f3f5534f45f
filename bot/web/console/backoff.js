/* Reconnecting the live socket: exponential back-off with jitter (pure; tests/js/backoff.test.mjs). */

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 30000;
/** After this many failed attempts in a row, check the session before trying again. */
export const SESSION_CHECK_AFTER = 2;

/** The wait before attempt `attempt` (0 first): doubling from the minimum up to the maximum,
 * times a jitter of ±20 % so that consoles dropped together do not come back together.
 * `random` is a number in [0, 1), Math.random() in the page. */
export const reconnectDelay = (attempt, random) => Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt)
  * (0.8 + random * 0.4);

/** Whether attempt `attempt` first asks GET /me whether the session still holds. */
export const checksSession = (attempt) => attempt >= SESSION_CHECK_AFTER;
