/* The desk API client (docs/desk.md): JSON over fetch, the CSRF header on every change,
 * and one error type that carries the HTTP status and the server's message. */

export const API = '/desk/api';

export class ApiError extends Error {
  constructor(status, message, code = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A client: `api(method, path, body)` answers the parsed JSON (null for 204) or throws an
 * ApiError (status 0: the server cannot be reached). `csrf()` gives the session's token;
 * `onUnauthorized()` runs on a 401 (the session ended). `fetchImpl` is fetch in the page. */
export const createApi = ({ csrf, onUnauthorized, fetchImpl }) => async (method, path, body) => {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = csrf();
  if (method !== 'GET' && token) headers['X-CSRF-Token'] = token;
  let res;
  try {
    res = await fetchImpl(API + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'cannot reach the desk server');
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const error = new ApiError(res.status, (data && data.error) || `${res.status} ${res.statusText}`,
      (data && data.code) || null);
    if (res.status === 401) onUnauthorized();
    throw error;
  }
  return data;
};

export const enc = encodeURIComponent;
