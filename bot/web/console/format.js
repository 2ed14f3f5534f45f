/* Formatting: pure functions from the desk API's values to the words the console shows.
 * No DOM, no state: unit-tested by tests/js/format.test.mjs. */

export const customerName = (customer) => (customer && customer.name) || 'Guest';

/** Milliseconds since the epoch, or null for a missing or unreadable time. */
export const parseTime = (t) => {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
};

/** A span as a clock's countdown reads it: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export const fmtDuration = (ms) => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
};

export const fmtClock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export const fmtDateTime = (t) => {
  const ms = parseTime(t);
  return ms === null ? '' : new Date(ms).toLocaleString([], {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
};

/** A key of the collected details or a reason, as words: "case_order_id" → "order id". */
export const humanize = (key) => String(key).replace(/^case_/, '').replace(/_/g, ' ');

/** The dedupe key of a message: the server's id when it sends one, else time + sender + text. */
export const messageKey = (m) => (m.id !== undefined && m.id !== null
  ? `id:${m.id}` : `${m.at}\u0000${m.sender}\u0000${m.text}`);

/** The CSS class of a priority badge. */
export const priorityClass = (p) => (/^P[1-4]$/.test(p || '') ? `p${p[1]}` : 'p-unknown');

/** The ticket's escalation tier and level ("L1 · level 0"), or a dash. */
export const levelText = (ticket) => {
  const t = ticket || {};
  return [t.tier, t.level !== undefined && t.level !== null ? `level ${t.level}` : null]
    .filter(Boolean).join(' · ') || '–';
};

/** A customer's tier as its tag reads ("tier: business"); empty for a guest, whose tier is null. */
export const tierText = (tier) => (tier === null || tier === undefined || tier === '' ? '' : `tier: ${tier}`);

/** The context panel's customer line: the name, whether verified, and the tier when there is one.
 * `customer` is the Detail's, `fromContext` the handoff context's (for older tickets). */
export const customerFacts = (customer, fromContext) => {
  const ctx = fromContext || {};
  const verified = Boolean(customer ? customer.verified : ctx.verified);
  return {
    name: customerName(customer || ctx),
    verified,
    verifiedText: verified ? 'verified' : 'not verified',
    tier: tierText((customer && customer.tier) || ctx.tier),
  };
};

/** A call's length: "45 s", "3 min 5 s", "1 h 2 min". */
export const callDuration = (seconds) => {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
};

/** A ticket history row (not a call's) in words: "transfer by Ana (billing → technical): why". */
export const historyText = (row) => {
  let text = `${row.action || 'changed'}`;
  if (row.actor) text += ` by ${row.actor}`;
  if (row.from || row.to) text += ` (${row.from || '–'} → ${row.to || '–'})`;
  if (row.type) text += ` [${row.type}]`;
  if (row.reason) text += `: ${row.reason}`;
  return text;
};

/** A customer message's sentiment in words, with the cues when it reads as frustrated. */
export const sentimentText = (s) => {
  const label = String(s.label);
  const score = typeof s.compound === 'number' ? ` (${s.compound.toFixed(2)})` : '';
  if (s.frustrated !== true) return `${label}${score}`;
  const cues = Array.isArray(s.cues) ? s.cues.map((c) => String(c).replaceAll('_', ' ')) : [];
  return `${label}${score}, frustrated${cues.length ? `: ${cues.join(', ')}` : ''}`;
};

// --- The dashboard's numbers ------------------------------------------------------------
export const DAY_MS = 24 * 60 * 60 * 1000;

export const fmtCount = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–');
export const fmtPercent = (n) => (typeof n === 'number' ? `${n.toFixed(1)} %` : '–');

/** Seconds as a person reads them: "45 s", "1 min 35 s", "2 h 5 min", "3 d 4 h". */
export const fmtSeconds = (value) => {
  if (typeof value !== 'number') return '–';
  const s = Math.round(value);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
};

export const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);
export const dayLabel = (iso) => {
  const ms = dayMs(iso);
  return Number.isNaN(ms) ? String(iso)
    : new Date(ms).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
};

/** A due time as the clocks show it: "10:30 · First response due in 5 min", or overdue. */
export const dueText = (due, now, { label, clock } = {}) => {
  const over = due < now;
  const prefix = `${clock ? `${clock} · ` : ''}${label ? `${label} ` : ''}`;
  return over ? `${prefix}overdue by ${fmtDuration(now - due)}` : `${prefix}due in ${fmtDuration(due - now)}`;
};
