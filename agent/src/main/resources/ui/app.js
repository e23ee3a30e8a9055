// Driftwatch review page. Plain JavaScript, no dependencies, works offline.
// Every value shown comes from the profiles, which attackers influence (paths, peers, keys):
// the page builds the DOM with createElement/textContent only and never uses innerHTML.
'use strict';

const DIMENSIONS = [
  ['exec', 'executables', 'Executables'],
  ['file_read', 'file_reads', 'File reads'],
  ['file_write', 'file_writes', 'File writes'],
  ['listen', 'listening_ports', 'Listening ports'],
  ['connect', 'outbound_peers', 'Outbound peers'],
  ['accept', 'inbound_accepts', 'Inbound accepts'],
];
const TOKEN_KEY = 'driftwatch.token';

// ---- DOM helpers -----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function show(view, ...children) {
  view.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
}

function setStatus(msg, isError) {
  const s = document.getElementById('status');
  s.textContent = msg || '';
  s.className = isError ? 'error' : '';
}

function badge(mode) {
  return el('span', { class: 'badge mode-' + (['learning', 'monitor', 'enforce'].includes(mode) ? mode : 'other'), text: mode });
}

function bar(value) {
  const v = typeof value === 'number' ? Math.max(0, Math.min(1, value)) : 0;
  const inner = el('span');
  inner.style.width = Math.round(v * 100) + '%';   // CSSOM, allowed by the CSP (no inline style attribute)
  return el('span', { class: 'bar' + (v >= 1 ? ' full' : ''), title: v.toFixed(3) }, inner);
}

function shortDigest(d) {
  if (typeof d !== 'string') return '';
  const i = d.indexOf(':');
  return i >= 0 ? d.slice(0, i + 1) + d.slice(i + 1, i + 13) : d.slice(0, 12);
}

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, field) { super(message); this.status = status; this.field = field; }
}

async function api(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401) showTokenPanel(true);
  if (!r.ok) {
    const msg = data && data.error ? data.error : 'HTTP ' + r.status;
    throw new ApiError(r.status, msg + (data && data.field ? ' (field: ' + data.field + ')' : ''), data && data.field);
  }
  return data;
}

function profilePath(key, action) {
  return '/api/v1/profiles/' + encodeURIComponent(key) + (action ? '/' + action : '');
}

// ---- token -------------------------------------------------------------------------------------

function showTokenPanel(show) {
  document.getElementById('token-panel').hidden = !show;
  if (show) document.getElementById('token-input').focus();
}

function setupToken() {
  document.getElementById('token-button').addEventListener('click', () =>
    showTokenPanel(document.getElementById('token-panel').hidden));
  document.getElementById('token-save').addEventListener('click', () => {
    const v = document.getElementById('token-input').value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    document.getElementById('token-input').value = '';
    showTokenPanel(false);
    route();
  });
  document.getElementById('token-clear').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus('Token forgotten.');
  });
}

// ---- list --------------------------------------------------------------------------------------

async function renderList(view) {
  const data = await api('GET', '/api/v1/profiles');
  document.getElementById('node').textContent = 'node ' + (data.node || '?') + ' · ' + (data.dir || '');
  const rows = (data.profiles || []).map(p => {
    const conf = p.confidence || {};
    const values = Object.values(conf).filter(v => typeof v === 'number');
    const min = values.length ? Math.min(...values) : 0;
    const confCell = el('td', { class: 'conf', title: Object.entries(conf).map(([k, v]) => k + ' ' + v).join(', ') },
      bar(min), ' ', min.toFixed(2));
    const counts = p.entries_by_dimension || {};
    return el('tr', { 'data-key': p.key },
      el('td', {}, el('a', { href: '#/p/' + encodeURIComponent(p.key), class: 'value', text: p.key })),
      el('td', {}, badge(p.mode)),
      el('td', { text: p.state }),
      confCell,
      el('td', { class: 'num', title: DIMENSIONS.map(([t]) => t + ' ' + (counts[t] || 0)).join(', '), text: p.entries }),
      el('td', { class: 'num', text: p.proposals === null || p.proposals === undefined ? '?' : p.proposals }),
      el('td', { text: p.last_change || '' }),
      el('td', { text: p.approved || 'never' }));
  });
  const errors = (data.errors || []).map(e => el('li', {},
    el('code', { text: e.file + (e.line ? ':' + e.line + ':' + e.column : '') }), ' ', e.problem));
  show(view,
    el('h2', { text: 'Profiles' }),
    rows.length ? el('table', { id: 'profiles' },
      el('thead', {}, el('tr', {}, ['Key', 'Mode', 'State', 'Confidence (min)', 'Entries', 'Proposals', 'Last change', 'Approved']
        .map(h => el('th', { class: ['Entries', 'Proposals'].includes(h) ? 'num' : null, text: h })))),
      el('tbody', {}, rows)) : el('p', { class: 'muted', text: 'No profiles yet: the agent creates one per workload it sees.' }),
    errors.length ? el('div', {}, el('h2', { text: 'Rejected profile files' }), el('ul', { id: 'errors' }, errors)) : null);
}

// ---- one profile -------------------------------------------------------------------------------

async function renderProfile(view, key) {
  const [p, props, diff] = await Promise.all([
    api('GET', profilePath(key)), api('GET', profilePath(key, 'proposals')), api('GET', profilePath(key, 'diff'))]);
  const doc = p.profile || {};
  document.title = 'Driftwatch — ' + key;

  const select = el('select', { id: 'mode-select', 'aria-label': 'mode' },
    ['learning', 'monitor', 'enforce'].map(m => el('option', { value: m, selected: m === p.mode, text: m })));
  const apply = el('button', { type: 'button', id: 'mode-apply', class: 'primary', text: 'Set mode', onclick: async () => {
    const mode = select.value;
    if (mode === p.mode) return;
    if (mode === 'enforce' && !window.confirm('Switch ' + key + ' to ENFORCE?\n\nDeviations will then be acted on'
        + ' (freeze or kill, per response.default_action).')) return;
    await act(() => api('PUT', profilePath(key, 'mode'), { mode }), 'Mode of ' + key + ' set to ' + mode + '.', key);
  } });
  const approveVersion = el('button', { type: 'button', id: 'approve-version', text: 'Approve this version',
    onclick: () => act(() => api('POST', profilePath(key, 'approve'), {}), 'Current version of ' + key + ' approved.', key) });

  const conf = p.confidence || {};
  const summary = el('dl', { class: 'summary' },
    el('dt', { text: 'Key' }), el('dd', {}, el('code', { id: 'profile-key', text: key })),
    el('dt', { text: 'Mode' }), el('dd', {}, badge(p.mode), ' ', el('span', { class: 'muted', text:
      (doc.mode_changed ? 'since ' + doc.mode_changed : '') + (doc.mode_changed_by ? ' by ' + doc.mode_changed_by : '') })),
    el('dt', { text: 'State' }), el('dd', { id: 'profile-state', text: p.state }),
    el('dt', { text: 'Observations' }), el('dd', { text: p.observations }),
    el('dt', { text: 'File' }), el('dd', {}, el('code', { text: p.file || '(not written yet)' })),
    el('dt', { text: 'Confidence' }), el('dd', {}, DIMENSIONS.map(([t]) =>
      el('span', { class: 'conf' }, t + ' ', bar(conf[t]), ' ', typeof conf[t] === 'number' ? conf[t].toFixed(2) : '?', '  '))),
    el('dt', { text: 'Since approval' }), el('dd', { id: 'diff-summary', text: diff.approved
      ? diff.changes + ' change(s) since ' + (diff.approved.time || '?') + ' (' + (diff.approved.by || '?') + ')'
      : 'never approved: every entry is new' }));

  show(view,
    el('p', {}, el('a', { href: '#/', text: '← all profiles' })),
    el('h2', { text: key }),
    summary,
    el('div', { class: 'toolbar' }, el('label', {}, 'Mode ', select), apply, approveVersion),
    renderProposals(key, props.proposals || []),
    renderDiff(diff),
    ...DIMENSIONS.map(([tag, section, title]) => renderDimension(title, tag, doc[section] || [])),
    renderTombstones(doc.tombstones || []));
}

function renderProposals(key, list) {
  const rows = list.map(pr => el('tr', { 'data-dimension': pr.dimension, 'data-value': pr.value },
    el('td', { text: pr.dimension }),
    el('td', {}, el('span', { class: 'value', text: pr.value })),
    el('td', {}, pr.reason, pr.suspect_reason ? el('div', { class: 'evidence', text: pr.suspect_reason }) : null),
    el('td', { class: 'num', text: pr.count }),
    el('td', {}, evidence(pr)),
    el('td', {},
      el('button', { type: 'button', class: 'approve', text: 'Approve', onclick: () => act(() =>
        api('POST', profilePath(key, 'proposals/approve'), { dimension: pr.dimension, value: pr.value }),
        'Approved ' + pr.dimension + ' ' + pr.value + '.', key) }), ' ',
      el('button', { type: 'button', class: 'reject danger', text: 'Reject', onclick: () => act(() =>
        api('POST', profilePath(key, 'proposals/reject'), { dimension: pr.dimension, value: pr.value }),
        'Rejected (tombstoned) ' + pr.dimension + ' ' + pr.value + '.', key) }))));
  return el('section', {}, el('h3', { text: 'Proposals (' + list.length + ')' }),
    rows.length ? el('table', { id: 'proposals' }, el('thead', {}, el('tr', {},
      ['Dimension', 'Value', 'Reason', 'Count', 'Evidence', ''].map(h => el('th', { text: h })))), el('tbody', {}, rows))
      : el('p', { class: 'muted', text: 'Nothing to review.' }));
}

function renderDiff(diff) {
  if (!diff.approved || !diff.changes) return null;
  const items = [];
  if (diff.mode && diff.mode.approved !== diff.mode.current) {
    items.push(el('li', {}, 'mode ' + diff.mode.approved + ' → ' + diff.mode.current));
  }
  for (const [tag, d] of Object.entries(diff.dimensions || {})) {
    for (const a of d.added || []) items.push(el('li', {}, '+ ' + tag + ' ', el('span', { class: 'value', text: a.value })));
    for (const r of d.removed || []) items.push(el('li', {}, '− ' + tag + ' ', el('span', { class: 'value', text: r })));
  }
  const t = diff.tombstones || {};
  for (const a of t.added || []) items.push(el('li', {}, '+ tombstone ' + a.dimension + ' ', el('span', { class: 'value', text: a.value })));
  for (const r of t.removed || []) items.push(el('li', {}, '− tombstone ' + r.dimension + ' ', el('span', { class: 'value', text: r.value })));
  return el('section', {}, el('h3', { text: 'Changes since the approved version' }), el('ul', { id: 'diff' }, items));
}

function evidence(e) {
  const parts = [];
  if (e.generalised_by && e.generalised_by.length) parts.push('generalised by ' + e.generalised_by.join(', '));
  if (e.fanout) parts.push('fan-out of ' + e.fanout + ' children');
  if (e.parents && e.parents.length) parts.push('parents: ' + e.parents.join(', '));
  const ex = e.examples && e.examples.length
    ? el('ul', {}, e.examples.map(x => el('li', {}, el('span', { class: 'value', text: x })))) : null;
  if (!parts.length && !ex) return null;
  return el('div', { class: 'evidence' }, parts.join(' · '), ex ? ' examples:' : null, ex);
}

function renderDimension(title, tag, entries) {
  const rows = entries.map(e => el('tr', {},
    el('td', {}, el('span', { class: 'value', text: e.value }),
      e.phase ? el('span', { class: 'flag', text: e.phase }) : null,
      e.suspect ? el('span', { class: 'flag', title: e.suspect_reason || '', text: 'suspect' }) : null,
      e.added_by ? el('span', { class: 'flag', text: 'added by ' + e.added_by }) : null,
      e.reviewed_by ? el('span', { class: 'flag', text: 'reviewed' }) : null),
    el('td', { text: e.first_seen || '' }),
    el('td', { class: 'num', text: e.count }),
    el('td', {}, el('code', { title: e.image || '', text: shortDigest(e.image) })),
    el('td', {}, evidence(e))));
  return el('section', { 'data-dimension': tag }, el('h3', { text: title + ' (' + entries.length + ')' }),
    rows.length ? el('table', { class: 'entries' }, el('thead', {}, el('tr', {},
      ['Value', 'First seen', 'Count', 'Image', 'Evidence'].map(h => el('th', { class: h === 'Count' ? 'num' : null, text: h })))),
      el('tbody', {}, rows)) : el('p', { class: 'muted', text: 'none' }));
}

function renderTombstones(list) {
  if (!list.length) return null;
  return el('section', {}, el('h3', { text: 'Tombstones (' + list.length + ')' }),
    el('table', { id: 'tombstones' }, el('thead', {}, el('tr', {}, ['Dimension', 'Value', 'Removed', 'By', 'Reason']
      .map(h => el('th', { text: h })))), el('tbody', {}, list.map(t => el('tr', {},
      el('td', { text: t.dimension }), el('td', {}, el('span', { class: 'value', text: t.value })),
      el('td', { text: t.removed || '' }), el('td', { text: t.removed_by || '' }), el('td', { text: t.reason || '' }))))));
}

async function act(fn, okMessage, key) {
  const buttons = document.querySelectorAll('button');
  buttons.forEach(b => { b.disabled = true; });
  try {
    await fn();
    await renderProfile(document.getElementById('view'), key);
    setStatus(okMessage);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    document.querySelectorAll('button').forEach(b => { b.disabled = false; });
  }
}

// ---- routing -----------------------------------------------------------------------------------

async function route() {
  const view = document.getElementById('view');
  const h = location.hash || '#/';
  setStatus('');
  try {
    if (h.startsWith('#/p/')) await renderProfile(view, decodeURIComponent(h.slice(4)));
    else await renderList(view);
  } catch (e) {
    view.replaceChildren(el('p', { class: 'muted', text: 'Could not load.' }));
    setStatus(e.status === 401 ? 'The agent wants the API token (see above).' : e.message, true);
  }
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => { setupToken(); route(); });
