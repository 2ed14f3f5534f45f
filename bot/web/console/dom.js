/* The few DOM helpers every view uses. Server values always go in as text (textContent or
 * text nodes), never parsed as HTML: customer and agent text may contain markup. */

export const $ = (id) => document.getElementById(id);

/** Build an element; `text` sets textContent, `on*` adds listeners, null values are skipped,
 * and so are null children (Element.append would write them as the text "null"). */
export const h = (tag, attrs, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  kids.forEach((c) => { if (c !== null && c !== undefined && c !== false) el.append(c); });
  return el;
};

// --- Alerts and notices -----------------------------------------------------------------
export const showAlert = (text) => {
  $('alert-text').textContent = text;
  $('alert').hidden = false;
};

export const clearAlert = () => {
  $('alert').hidden = true;
  $('alert-text').textContent = '';
};

export const notify = (text) => { $('notice').textContent = text; };

/** Run a user's action: clear the last error, show this one's if it fails. */
export const attempt = async (what, fn) => {
  clearAlert();
  try {
    return await fn();
  } catch (e) {
    if (e.status !== 401) showAlert(`${what}: ${e.message}`);
    return undefined;
  }
};

export const setLive = (mode) => {
  document.body.dataset.live = mode;
  $('live-text').textContent = {
    connected: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline',
  }[mode];
};
