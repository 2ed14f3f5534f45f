/* The Dashboard (supervisors and admins; docs/metrics.md, GET /desk/api/metrics): the
 * filters, the KPI tiles, Chart.js charts with their tables, the breakdowns and the root
 * causes. Its example links open a conversation: main.js listens for their clicks. */

import { API, enc } from './api.js';
import { api } from './client.js';
import { loadTeams } from './conversations.js';
import { $, h } from './dom.js';
import {
  DAY_MS, dayLabel, dayMs, fmtCount, fmtPercent, fmtSeconds, humanize, isoDay,
} from './format.js';
import { isLead } from './rules.js';
import { state } from './state.js';

const CHART_JS = '/desk/assets/vendor/chart.umd.min.js';
// The breakdowns shown as tables, in this order; `channel` divides by its own conversations.
const BREAKDOWNS = [
  ['type', 'By escalation type'], ['reason', 'By reason'], ['team', 'By team'],
  ['category', 'By category'], ['intent', 'By intent'], ['channel', 'By channel'],
];
// The demo business is an internet and mobile provider: its industry's band comes first.
const DEFAULT_INDUSTRY = 'Telecommunications';
const COLORS = {
  rate: '#0b5cad', conversations: '#9db8d9', escalated: '#d9480f', band: '#9a6700', bandFill: 'rgba(224, 168, 0, 0.16)',
};
const dash = { report: null, charts: {}, run: 0, chartLib: null };

const teamName = (key) => {
  const team = state.teams.find((t) => t.key === key);
  return (team && team.name) || String(key);
};
const keyText = (dimension, key) => {
  if (key === null || key === undefined || key === '') return '(none)';
  if (dimension === 'team') return teamName(key);
  if (dimension === 'type' || dimension === 'reason') return humanize(key);
  return String(key);
};

/** Chart.js, loaded the first time a chart is drawn (agents never download it); null if it fails. */
export const loadChartLib = () => {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!dash.chartLib) {
    dash.chartLib = new Promise((resolve) => {
      const script = h('script', { src: CHART_JS });
      script.addEventListener('load', () => resolve(window.Chart || null));
      script.addEventListener('error', () => { dash.chartLib = null; resolve(null); });
      document.head.append(script);
    });
  }
  return dash.chartLib;
};

const setDashStatus = (text, error) => {
  const status = $('dash-status');
  status.textContent = text;
  status.classList.toggle('error', Boolean(error));
};

/** The preset's dates: the last N UTC days, today included. */
export const applyPreset = () => {
  const preset = $('dash-preset').value;
  if (preset === 'custom') return;
  const today = dayMs(isoDay(Date.now()));
  $('dash-to').value = isoDay(today);
  $('dash-from').value = isoDay(today - (Number(preset) - 1) * DAY_MS);
};

/** The API query of the filters (until is the day after "To": the API's until is excluded). */
const dashQuery = () => {
  const from = $('dash-from').value;
  const to = $('dash-to').value;
  if (!from || !to) return { error: 'Choose the first and the last day.' };
  if (from > to) return { error: 'The first day must not be after the last day.' };
  const params = new URLSearchParams({ since: from, until: isoDay(dayMs(to) + DAY_MS) });
  const team = $('dash-team').value;
  if (team) params.set('team', team);
  return { query: params.toString() };
};

const fillTeamFilter = () => {
  const select = $('dash-team');
  const current = select.value;
  select.textContent = '';
  select.append(h('option', { value: '', text: 'All teams' }));
  state.teams.forEach((t) => select.append(h('option', { value: t.key, text: t.name || t.key })));
  select.value = state.teams.some((t) => t.key === current) ? current : '';
};

const openDashboard = async () => {
  if (!state.teams.length) await loadTeams();
  if (state.view !== 'dashboard') return;
  fillTeamFilter();
  if (!$('dash-from').value || !$('dash-to').value) applyPreset();
  loadDashboard();
};

export const loadDashboard = async () => {
  const run = ++dash.run;
  const q = dashQuery();
  if (q.error) { setDashStatus(q.error, true); return; }
  $('dash-csv').href = `${API}/metrics.csv?${q.query}`;
  const board = $('dashboard');
  board.setAttribute('aria-busy', 'true');
  setDashStatus('Loading…');
  let report;
  let Chart;
  try {
    [report, Chart] = await Promise.all([api('GET', `/metrics?${q.query}`), loadChartLib()]);
  } catch (e) {
    if (run !== dash.run) return;
    board.removeAttribute('aria-busy');
    if (e.status !== 401) setDashStatus(`Could not load the metrics: ${e.message}`, true);
    return;
  }
  if (run !== dash.run || !isLead(state.agent)) return;
  board.removeAttribute('aria-busy');
  dash.report = report;
  renderDashboard(report, Chart);
  board.dataset.loads = String(Number(board.dataset.loads || 0) + 1);
};

const renderDashboard = (report, Chart) => {
  const days = (report.breakdowns && report.breakdowns.day) || [];
  const team = report.period && report.period.team;
  const span = days.length ? `${dayLabel(days[0].key)} – ${dayLabel(days[days.length - 1].key)}` : 'the period';
  setDashStatus(`${span}${team ? `, ${teamName(team)}'s escalations` : ', all teams'}.${Chart ? '' : ' The charts could not be loaded; the tables below have every number.'}`);
  renderTiles(report.totals || {});
  fillIndustries(report);
  renderRateChart(Chart);
  renderVolumeChart(Chart, days);
  renderBreakdowns(report.breakdowns || {});
  renderCauses(report.root_causes || {});
};

const setTile = (kpi, value, sub) => {
  const el = document.querySelector(`#dash-tiles [data-kpi="${kpi}"]`);
  el.textContent = value;
  el.nextElementSibling.textContent = sub;
};

const renderTiles = (t) => {
  setTile('conversations', fmtCount(t.conversations), `${fmtCount(t.escalated)} escalated`);
  setTile('escalation_rate', fmtPercent(t.escalation_rate),
    `${fmtCount(t.escalated)} of ${fmtCount(t.conversations)} conversations`);
  setTile('containment', fmtPercent(t.containment_rate), `${fmtCount(t.contained)} without a person`);
  const time = (kpi, m, what) => {
    const measure = m || {};
    setTile(kpi, fmtSeconds(measure.median), measure.count
      ? `median; 90 % within ${fmtSeconds(measure.p90)} (${fmtCount(measure.count)} ${what})` : `no ${what} yet`);
  };
  time('time_to_escalation', t.time_to_escalation, 'escalations');
  time('first_reply', t.first_reply, 'answered');
  time('resolution', t.resolution, 'resolved');
  const sla = t.sla || {};
  setTile('sla', fmtPercent(sla.compliance), sla.measured
    ? `${fmtCount(sla.met)} of ${fmtCount(sla.measured)} tickets met both deadlines` : 'no deadline decided yet');
  const csat = t.csat || {};
  setTile('csat', typeof csat.average === 'number' ? `${csat.average.toFixed(1)} / 5` : '–', csat.answers
    ? `${fmtPercent(csat.satisfied_rate)} rated 4 or 5 (${fmtCount(csat.answers)} answers)` : 'no ratings yet');
};

const references = () => ((dash.report && dash.report.references && dash.report.references.escalation_rate) || []);

const fillIndustries = () => {
  const select = $('dash-industry');
  const current = select.value;
  const names = references().map((r) => String(r.industry));
  select.textContent = '';
  select.append(h('option', { value: '', text: 'None' }));
  names.forEach((name) => select.append(h('option', { value: name, text: name })));
  if (current === '' && select.dataset.chosen) select.value = '';
  else if (names.includes(current)) select.value = current;
  else select.value = names.includes(DEFAULT_INDUSTRY) ? DEFAULT_INDUSTRY : (names[0] || '');
};

/** A table: a header row, then rows whose first cell heads the row; cells are text or nodes. */
const fillTable = (el, head, rows) => {
  el.textContent = '';
  el.append(
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null, text: c })))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c, i) => (i === 0
      ? h('th', { scope: 'row' }, c) : h('td', { class: 'num' }, c)))))),
  );
};

const drawChart = (name, Chart, config) => {
  if (dash.charts[name]) dash.charts[name].destroy();
  delete dash.charts[name];
  if (!Chart) return;
  dash.charts[name] = new Chart($(`dash-${name}-chart`), config);
};

const chartOptions = (yTitle, tickSuffix, tooltip) => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: 'index', intersect: false },
  scales: {
    y: { beginAtZero: true, title: { display: true, text: yTitle }, ticks: { callback: (v) => `${v}${tickSuffix}` } },
    x: { ticks: { autoSkip: true, maxRotation: 0 } },
  },
  plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: tooltip } } },
});

const rateSpread = (rates) => {
  if (!rates.length) return '';
  const low = Math.min(...rates);
  const high = Math.max(...rates);
  return low === high ? `${fmtPercent(low)} each day with conversations, `
    : `between ${fmtPercent(low)} and ${fmtPercent(high)} a day, `;
};

export const renderRateChart = (Chart) => {
  const report = dash.report;
  if (!report) return;
  const days = (report.breakdowns && report.breakdowns.day) || [];
  const chosen = $('dash-industry').value;
  const ref = references().find((r) => String(r.industry) === chosen) || null;
  const datasets = [{
    label: 'Escalation rate', data: days.map((d) => d.escalation_rate),
    borderColor: COLORS.rate, backgroundColor: COLORS.rate, pointRadius: 3, tension: 0.2,
  }];
  if (ref) {
    const line = (value, extra) => ({
      label: `${ref.industry}, ${value === ref.low ? 'low' : 'high'}: ${value} %`,
      data: days.map(() => value), borderColor: COLORS.band, borderDash: [6, 4], borderWidth: 1.5,
      pointRadius: 0, pointHoverRadius: 0, ...extra,
    });
    datasets.push(line(ref.low, { fill: false }), line(ref.high, { fill: '-1', backgroundColor: COLORS.bandFill }));
  }
  drawChart('rate', Chart, {
    type: 'line',
    data: { labels: days.map((d) => dayLabel(d.key)), datasets },
    options: chartOptions('% of conversations', ' %',
      (c) => `${c.dataset.label.split(':')[0]}: ${c.parsed.y === null ? 'no conversations' : fmtPercent(c.parsed.y)}`),
  });
  const rates = days.map((d) => d.escalation_rate).filter((r) => typeof r === 'number');
  const total = report.totals && report.totals.escalation_rate;
  $('dash-rate-chart').setAttribute('aria-label', days.length
    ? `Escalation rate per day, ${dayLabel(days[0].key)} to ${dayLabel(days[days.length - 1].key)}: `
      + `${rateSpread(rates)}${fmtPercent(total)} over the period.`
      + `${ref ? ` ${ref.industry} reference: ${ref.low} to ${ref.high} %.` : ''} Every day is in the table below.`
    : 'Escalation rate per day: no days in the period.');
  fillTable($('dash-rate-table'), ['Day', 'Conversations', 'Escalated', 'Escalation rate'],
    days.map((d) => [d.key, fmtCount(d.conversations), fmtCount(d.escalated), fmtPercent(d.escalation_rate)]));
};

const renderVolumeChart = (Chart, days) => {
  drawChart('volume', Chart, {
    type: 'bar',
    data: {
      labels: days.map((d) => dayLabel(d.key)),
      datasets: [
        { label: 'Conversations', data: days.map((d) => d.conversations), backgroundColor: COLORS.conversations },
        { label: 'Escalated', data: days.map((d) => d.escalated), backgroundColor: COLORS.escalated },
      ],
    },
    options: chartOptions('conversations', '', (c) => `${c.dataset.label}: ${fmtCount(c.parsed.y)}`),
  });
  const sum = (key) => days.reduce((n, d) => n + (d[key] || 0), 0);
  $('dash-volume-chart').setAttribute('aria-label', days.length
    ? `Conversations and escalations per day, ${dayLabel(days[0].key)} to ${dayLabel(days[days.length - 1].key)}: `
      + `${fmtCount(sum('conversations'))} conversations, ${fmtCount(sum('escalated'))} escalated. Every day is in the table below.`
    : 'Conversations and escalations per day: no days in the period.');
  fillTable($('dash-volume-table'), ['Day', 'Conversations', 'Escalated'],
    days.map((d) => [d.key, fmtCount(d.conversations), fmtCount(d.escalated)]));
};

/** A rate with a bar scaled to the largest of its table (the number is the text; the bar is decoration). */
const rateCell = (rate, largest) => {
  const bar = h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'fill' }));
  bar.firstChild.style.width = `${largest > 0 && typeof rate === 'number' ? Math.max(2, (rate / largest) * 100) : 0}%`;
  return h('span', { class: 'rate' }, bar, h('span', { text: fmtPercent(rate) }));
};

const renderBreakdowns = (breakdowns) => {
  const box = $('dash-breakdowns');
  box.textContent = '';
  BREAKDOWNS.forEach(([dimension, title]) => {
    const rows = breakdowns[dimension] || [];
    const largest = Math.max(0, ...rows.map((r) => (typeof r.escalation_rate === 'number' ? r.escalation_rate : 0)));
    const own = dimension === 'channel';
    const table = h('table', { class: 'data', 'data-testid': `dash-breakdown-${dimension}` });
    fillTable(table,
      [title.replace(/^By /, '').replace(/^./, (c) => c.toUpperCase()), ...(own ? ['Conversations'] : []),
        'Escalated', own ? 'Rate' : 'Share', 'To escalation', 'Resolution', 'SLA met', 'CSAT'],
      rows.map((r) => [
        keyText(dimension, r.key), ...(own ? [fmtCount(r.conversations)] : []), fmtCount(r.escalated),
        rateCell(r.escalation_rate, largest), fmtSeconds(r.time_to_escalation && r.time_to_escalation.median),
        fmtSeconds(r.resolution && r.resolution.median), fmtPercent(r.sla && r.sla.compliance),
        r.csat && typeof r.csat.average === 'number' ? r.csat.average.toFixed(1) : '–',
      ]));
    box.append(h('section', { class: 'dash-card', 'data-dimension': dimension },
      h('h4', { text: title }),
      h('p', { class: 'hint', text: own
        ? "Escalated ÷ the channel's own conversations. Times are medians."
        : 'Escalated ÷ all conversations of the period: its share of the escalation rate. Times are medians.' }),
      rows.length ? h('div', { class: 'table-wrap' }, table) : h('p', { class: 'muted', text: 'No escalations in this period.' })));
  });
};

const exampleLinks = (examples) => h('span', { class: 'examples' }, ...(examples || []).map((ex) => h('a', {
  href: `#conversation=${enc(ex.conversation)}`, class: 'example', 'data-testid': 'dash-example',
  'data-conversation-id': ex.conversation, title: 'Open this conversation',
  text: ex.ticket || 'conversation',
})));

const renderCauses = (causes) => {
  const box = $('dash-causes');
  box.textContent = '';
  const card = (title, testid, head, rows, cells) => {
    const table = h('table', { class: 'data', 'data-testid': testid });
    fillTable(table, head, rows.map(cells));
    box.append(h('section', { class: 'dash-card' }, h('h4', { text: title }),
      rows.length ? h('div', { class: 'table-wrap' }, table) : h('p', { class: 'muted', text: 'None in this period.' })));
  };
  card('Intents before an escalation', 'dash-causes-intents', ['Intent', 'Escalations', 'Examples'],
    causes.intents || [], (c) => [String(c.intent), fmtCount(c.escalations), exampleLinks(c.examples)]);
  card('FAQ answers that did not help', 'dash-causes-faq', ['FAQ', 'Escalations', 'Examples'],
    causes.faq_misses || [], (c) => [String(c.intent), fmtCount(c.escalations), exampleLinks(c.examples)]);
  card('Messages the bot did not understand', 'dash-causes-fallback', ['Message', 'Escalations', 'Examples'],
    causes.fallback_utterances || [], (c) => [
      h('span', { class: 'utterance' }, h('q', { text: String(c.text) }),
        (c.similar || []).length ? h('ul', { class: 'similar', 'aria-label': 'Similar wordings' },
          ...c.similar.map((s) => h('li', { 'data-testid': 'dash-similar', text: String(s) }))) : null),
      fmtCount(c.count), exampleLinks(c.examples)]);
};

export const clearDashboard = () => {
  dash.run += 1;
  Object.values(dash.charts).forEach((chart) => chart.destroy());
  dash.charts = {};
  dash.report = null;
  document.querySelectorAll('#dash-tiles [data-kpi]').forEach((el) => {
    el.textContent = '–';
    el.nextElementSibling.textContent = '';
  });
  ['dash-rate-table', 'dash-volume-table', 'dash-breakdowns', 'dash-causes'].forEach((id) => { $(id).textContent = ''; });
  setDashStatus('');
};

/** Show the conversations (the queue and one conversation) or, for leads, the dashboard. */
export const showView = (view) => {
  const dashboard = view === 'dashboard' && isLead(state.agent);
  const changed = state.view !== (dashboard ? 'dashboard' : 'desk');
  state.view = dashboard ? 'dashboard' : 'desk';
  $('desk-view').hidden = dashboard;
  $('dashboard').hidden = !dashboard;
  $('view-desk').setAttribute('aria-pressed', String(!dashboard));
  $('view-dashboard').setAttribute('aria-pressed', String(dashboard));
  if (dashboard && changed) openDashboard();
};
