/* What the signed-in agent may do and how a conversation's state reads: pure functions of
 * the state (tests/js/rules.test.mjs). The server has the last word on every action. */

export const LEADS = ['supervisor', 'admin'];

export const isLead = (agent) => Boolean(agent && LEADS.includes(agent.role));

export const assignedToMe = (c, agent) => Boolean(c && c.ticket && c.ticket.assigned_agent && agent
  && c.ticket.assigned_agent.id === agent.id);

/** A conversation's state in words, as the queue and the context panel show it. */
export const stateText = (c, agent) => {
  if (c.state === 'with_agent') {
    const who = c.ticket && c.ticket.assigned_agent;
    if (assignedToMe(c, agent)) return 'with you';
    return `with agent ${(who && who.name) || 'unknown'}`;
  }
  return { queued: 'queued', bot: 'back with the bot', resolved: 'resolved' }[c.state] || String(c.state);
};

/** The deadline that matters now: the first response while queued, else the resolution. */
export const deadline = (c) => {
  const t = c.ticket || {};
  return c.state === 'queued'
    ? { label: 'First response', due: t.first_response_due }
    : { label: 'Resolution', due: t.resolution_due };
};

/** What the agent may do with the selected conversation: accept (or take over), work on it
 * (transfer, escalate, resolve, return, block), chat, add a note. */
export const allowed = ({ detail: d, agent, busy }) => {
  const none = { accept: false, work: false, chat: false, note: false, takeOver: false };
  if (!d || !agent || busy) return { ...none, note: Boolean(d) && !busy };
  const lead = isLead(agent);
  const open = d.state === 'queued' || d.state === 'with_agent';
  const mine = d.state === 'with_agent' && assignedToMe(d, agent);
  const others = d.state === 'with_agent' && !mine;
  return {
    accept: d.state === 'queued' || (others && lead),
    takeOver: others && lead,
    work: open && (!others || lead),
    chat: mine,
    note: true,
  };
};

/** The offer to show: the one that expires first, leaving out those already expired. */
export const currentOffer = (offers, now) => {
  let best = null;
  for (const [id, expires] of offers) {
    if (expires !== Infinity && expires <= now) continue;
    if (!best || expires < best.expires) best = { id, expires };
  }
  return best;
};

/** Offers still open at `now` (expired ones dropped). */
export const openOffers = (offers, now) => new Map([...offers]
  .filter(([, expires]) => expires === Infinity || expires > now));
