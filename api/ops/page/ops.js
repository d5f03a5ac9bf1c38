// The ops page: lists onboardings from the ops API, opens one with its machine drawn from the
// definition the API returns, and sends repair actions. Data only ever comes from the API with the
// operator's token (kept in sessionStorage, so it lasts as long as the tab). Everything shown is
// set as text, never as HTML.

const TOKEN_KEY = 'coexist.opsToken';
const REFRESH_MS = 4000;

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let pageTokens = []; // the page being shown is the last one ('' for the first)
let nextPageToken;
let openPhone = null;
let refreshing = false;
let acting = false;
let actionsDone = 0; // a refresh begun before an action must not draw over its answer

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (init.body) headers['content-type'] = 'application/json';
  const response = await fetch(path, { ...init, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body && body.error ? body.error : { code: `http_${response.status}`, message: response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  return body;
}

// --- small DOM helpers ------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'data') Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

function fillRows(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
}

function showMessage(text, kind = 'error') {
  const message = $('message');
  message.hidden = !text;
  message.textContent = text ?? '';
  message.className = kind;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

function text(value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`)
      .join(', ');
  }
  return String(value);
}

// --- token ----------------------------------------------------------------------------------------

function signedIn(on) {
  $('token-form').hidden = on;
  $('signed-in').hidden = !on;
  $('content').hidden = !on;
  if (!on) {
    fillRows($('onboardings'), []);
    closeDetail();
  }
}

/**
 * The Temporal Web UI decrypts payloads through the API's /codec with this cookie (it can send no
 * header of ours); same name as CODEC_COOKIE in api/codec/routes.ts.
 */
function codecCookie(value) {
  document.cookie = value
    ? `coexist_ops_codec=${encodeURIComponent(value)}; Path=/codec; SameSite=Strict`
    : 'coexist_ops_codec=; Path=/codec; SameSite=Strict; Max-Age=0';
}

/** A 401 drops the token and everything shown with it. */
function handleError(error) {
  if (error instanceof ApiError && error.status === 401) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    codecCookie(null);
    signedIn(false);
    showMessage(
      'That is not one of the ops tokens in OPS_TOKENS. Paste the whole name:token pair or the token after the colon ' +
        '(locally: ops:local-ops-token-change-me).',
    );
    return;
  }
  showMessage(error.message);
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  $('token').value = '';
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  codecCookie(token);
  showMessage(null);
  signedIn(true);
  pageTokens = [''];
  void refresh();
});

$('forget').addEventListener('click', () => {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  codecCookie(null);
  signedIn(false);
  showMessage('Token forgotten.', 'info');
});

// --- list -----------------------------------------------------------------------------------------

function listQuery() {
  const query = new URLSearchParams({ limit: '50' });
  if ($('filter-stage').value) query.set('stage', $('filter-stage').value);
  if ($('filter-stuck').checked) query.set('stuck', 'true');
  const reason = $('filter-blocked').value.trim();
  if (reason) query.set('blockedReason', reason);
  const page = pageTokens[pageTokens.length - 1];
  if (page) query.set('pageToken', page);
  return query;
}

async function loadList() {
  const { onboardings, nextPageToken: next } = await api(`/ops/onboardings?${listQuery()}`);
  nextPageToken = next;
  fillRows(
    $('onboardings'),
    onboardings.map((o) =>
      el(
        'tr',
        {
          class: [o.stuck ? 'stuck' : '', o.phoneNumber === openPhone ? 'open' : ''].join(' ').trim(),
          data: { phone: o.phoneNumber ?? '', stage: o.stage },
        },
        el('td', {}, o.phoneNumber ?? o.id),
        el('td', {}, o.stage),
        el('td', {}, time(o.since)),
        el('td', {}, `${duration(o.ageMs)} / ${duration(o.budgetMs)}`),
        el('td', { class: 'stuck-cell' }, o.stuck ? 'STUCK' : ''),
        el('td', { title: o.remedy ?? '' }, o.blockedReason ?? ''),
        el('td', {}, o.linkingAttempts),
        el('td', { class: o.syncDeadlineNear ? 'stuck-cell' : '' }, o.syncDeadline ? time(o.syncDeadline) : ''),
        el('td', { class: `actor actor-${o.waitingFor.actor}`, title: o.waitingFor.waitsFor }, o.waitingFor.actor),
      ),
    ),
  );
  $('empty').hidden = onboardings.length > 0;
  $('next-page').hidden = !nextPageToken;
  $('first-page').hidden = pageTokens.length <= 1;
  $('refreshed').textContent = `refreshed ${new Date().toLocaleTimeString()}`;
}

$('onboardings').addEventListener('click', (event) => {
  const row = event.target.closest('tr[data-phone]');
  if (row && row.dataset.phone) void openDetail(row.dataset.phone);
});

$('filters').addEventListener('submit', (event) => event.preventDefault());
for (const id of ['filter-stage', 'filter-stuck', 'filter-blocked']) {
  $(id).addEventListener('change', () => {
    pageTokens = [''];
    void refresh();
  });
}
$('next-page').addEventListener('click', () => {
  pageTokens.push(nextPageToken);
  void refresh();
});
$('first-page').addEventListener('click', () => {
  pageTokens = [''];
  void refresh();
});

// --- one onboarding ---------------------------------------------------------------------------------

async function openDetail(phone) {
  openPhone = phone;
  history.replaceState(null, '', `#${encodeURIComponent(phone)}`);
  $('action-result').hidden = true;
  try {
    renderDetail(await api(`/ops/onboardings/${encodeURIComponent(phone)}`));
    $('detail').scrollIntoView({ block: 'start' });
  } catch (error) {
    handleError(error);
  }
}

function closeDetail() {
  openPhone = null;
  $('detail').hidden = true;
  if (location.hash) history.replaceState(null, '', location.pathname);
}
$('close-detail').addEventListener('click', closeDetail);

function renderDetail(o) {
  $('detail').hidden = false;
  $('detail-title').textContent = `${o.phoneNumber} — ${o.stage}${o.stuck ? ' (stuck)' : ''}`;
  $('detail').classList.toggle('is-stuck', Boolean(o.stuck));
  const linkingAttempts = o.context ? o.context.linkingAttempts : o.linkingAttempts;
  $('summary').replaceChildren(
    ...pairs({
      Workflow: o.id,
      State: o.state,
      Status: o.status,
      'In stage since': `${time(o.since)} (${duration(o.ageMs)} of ${duration(o.budgetMs)})`,
      'Linking attempts': linkingAttempts,
      'Sync deadline': o.syncDeadline
        ? `${time(o.syncDeadline)}${o.syncDeadlineNear ? ' (near: contacts and history not requested yet)' : ''}`
        : '',
      WABA: o.wabaId,
    }),
  );

  const blocked = $('blocked');
  blocked.hidden = !o.blocked;
  blocked.replaceChildren(
    ...(o.blocked ? [el('strong', {}, `Blocked in ${o.blocked.stage}: ${o.blocked.reason}`), el('p', {}, o.blocked.remedy)] : []),
  );

  const wait = o.waitingFor;
  $('waiting').replaceChildren(
    el('strong', {}, 'Waits for '),
    wait.waitsFor,
    ...(wait.actor === 'nobody'
      ? []
      : [' ', el('span', { class: `actor actor-${wait.actor}` }, `(${ACTOR[wait.actor]} must act)`)]),
  );
  showActions(o.actions ?? []);

  $('diagram').replaceChildren(diagram(o.machine, o.stateValue, o.timeline ?? []));
  $('status-card').replaceChildren(...pairs(o.statusCard ?? {}));
  fillRows(
    $('timers'),
    (o.pendingTimers ?? []).map((t) =>
      el(
        'tr',
        {},
        el('td', {}, t.id),
        el('td', { title: t.event }, shortEvent(t.event)),
        el('td', {}, `${time(t.dueAt)} (in ${duration(Date.parse(t.dueAt) - Date.now())})`),
      ),
    ),
  );
  fillRows(
    $('activities'),
    (o.activities ?? []).map((a) =>
      el('tr', {}, el('td', {}, a.type), el('td', {}, a.attempt), el('td', {}, a.lastFailure ?? '')),
    ),
  );
  fillRows(
    $('timeline'),
    [...(o.timeline ?? [])]
      .reverse()
      .map((t) =>
        el(
          'tr',
          { data: { event: t.event, by: t.by ?? '' } },
          el('td', {}, time(t.at)),
          el('td', {}, t.from),
          el('td', {}, t.to),
          el('td', { title: t.event }, shortEvent(t.event)),
          el('td', {}, t.by ?? ''),
        ),
      ),
  );
  $('context').textContent = JSON.stringify(o.context, null, 2);
}

function pairs(object) {
  return Object.entries(object).flatMap(([key, value]) => [el('dt', {}, key), el('dd', { data: { key } }, text(value))]);
}

// --- repair actions -------------------------------------------------------------------------------------

const ACTOR = { person: 'the person', business: "the business's backend", meta: 'Meta', ops: 'ops', nobody: 'nobody' };

/** Only the repairs the state accepts (the API asks the machine) are offered. */
function showActions(actions) {
  const offered = new Set(actions.map((a) => a.action));
  for (const button of document.querySelectorAll('button[data-action]')) button.hidden = !offered.has(button.dataset.action);
  const resets = actions.filter((a) => a.action === 'reset').map((a) => a.to);
  const select = $('reset-to');
  const chosen = select.value;
  select.replaceChildren(...resets.map((to) => el('option', { value: to }, to)));
  if (resets.includes(chosen)) select.value = chosen;
  $('reset-label').hidden = resets.length === 0;
  $('no-actions').hidden = actions.length > 0;
}

const CONFIRM = {
  cancel: 'Cancel this onboarding? It cannot be resumed.',
  reset: 'Reset this onboarding to the chosen stage?',
};

for (const button of document.querySelectorAll('button[data-action]')) {
  button.addEventListener('click', async () => {
    if (!openPhone || acting) return;
    const action = button.dataset.action;
    const body = action === 'reset' ? { action, to: $('reset-to').value } : { action };
    if (CONFIRM[action] && !window.confirm(CONFIRM[action])) return;
    const result = $('action-result');
    acting = true;
    try {
      renderDetail(
        await api(`/ops/onboardings/${encodeURIComponent(openPhone)}/actions`, { method: 'POST', body: JSON.stringify(body) }),
      );
      actionsDone++;
      result.className = 'ok';
      result.textContent = `${action} done.`;
      void loadList().catch(handleError);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) handleError(error);
      result.className = 'error';
      result.textContent =
        error instanceof ApiError && error.status === 409
          ? `Refused (${error.code}): ${error.message}`
          : `Failed: ${error.message}`;
    } finally {
      result.hidden = false;
      acting = false;
    }
  });
}

// --- the machine diagram ---------------------------------------------------------------------------------

/** Paths ("linking.attempt") of the states in a state value, ancestors included. */
function activePaths(value, prefix = '', into = new Set()) {
  if (typeof value === 'string') {
    into.add(prefix + value);
    return into;
  }
  for (const [key, child] of Object.entries(value ?? {})) {
    into.add(prefix + key);
    if (child !== undefined && child !== null) activePaths(child, `${prefix}${key}.`, into);
  }
  return into;
}

/** Every state a timeline entry was in or went to: "a.b,c.d" is two leaves, ancestors included. */
function visitedPaths(timeline) {
  const visited = new Set();
  for (const entry of timeline) {
    for (const leaf of `${entry.from},${entry.to}`.split(',')) {
      const parts = leaf.trim().split('.').filter(Boolean);
      parts.forEach((_, i) => visited.add(parts.slice(0, i + 1).join('.')));
    }
  }
  return visited;
}

/** Children and transitions, whether the definition lists them (API) or keys them (XState's JSON). */
function childrenOf(node) {
  return Array.isArray(node.states) ? node.states : Object.entries(node.states ?? {}).map(([key, s]) => ({ key, ...s }));
}
function transitionsOf(node) {
  if (Array.isArray(node.transitions)) return node.transitions;
  return Object.entries(node.on ?? {}).flatMap(([event, list]) =>
    (Array.isArray(list) ? list : [list]).map((t) => ({ event, targets: [].concat(t.target ?? []) })),
  );
}

function shortEvent(event) {
  const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  if (done) return `${done[1]}: ${done[2]}`;
  const after = /^xstate\.after\.([^.]+)\./.exec(event);
  if (after) return `after ${after[1]}`;
  return event;
}

function diagram(machine, stateValue, timeline) {
  if (!machine) return el('p', { class: 'muted' }, 'No machine definition in the answer.');
  const current = activePaths(stateValue);
  const visited = visitedPaths(timeline);
  // Targets are state ids ("onboarding.linking.attempt"); shown and matched as paths.
  const pathOfId = new Map();
  const index = (node, path) => {
    if (node.id) pathOfId.set(node.id.replace(/^#/, ''), path);
    for (const child of childrenOf(node)) index(child, path ? `${path}.${child.key}` : child.key);
  };
  index(machine, '');
  const targetName = (target) => {
    const id = String(target).replace(/^#/, '');
    return pathOfId.get(id) ?? id;
  };

  const box = (node, path, isInitial) => {
    const children = childrenOf(node);
    const seen = new Set();
    const transitions = transitionsOf(node)
      .map((t) => `${shortEvent(t.event)} → ${t.targets.map(targetName).join(', ') || '(self)'}`)
      .filter((label) => !seen.has(label) && seen.add(label));
    const classes = ['state', node.type ?? '', current.has(path) ? 'current' : visited.has(path) ? 'visited' : ''];
    return el(
      'div',
      { class: classes.join(' ').trim(), data: { state: path }, title: path },
      el(
        'div',
        { class: 'state-name' },
        `${isInitial ? '● ' : ''}${node.key}`,
        node.type === 'parallel' ? el('span', { class: 'muted' }, ' (parallel)') : '',
        node.type === 'final' ? el('span', { class: 'muted' }, ' (final)') : '',
      ),
      transitions.length ? el('ul', { class: 'transitions' }, ...transitions.map((t) => el('li', {}, t))) : '',
      children.length
        ? el(
            'div',
            { class: node.type === 'parallel' ? 'children regions' : 'children' },
            ...children.map((c) => box(c, path ? `${path}.${c.key}` : c.key, c.key === node.initial)),
          )
        : '',
    );
  };
  const root = box(machine, '', false);
  root.classList.add('root');
  return root;
}

// --- the overview: pictures drawn as SVG from /ops/overview --------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** Horizontal bars, one row per label, each row a few series side by side. */
function barRows(rows, series, { labelWidth = 110, width = 420, row = 22 } = {}) {
  const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s.key])));
  const bar = (row - 6) / series.length;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${rows.length * row + 18}`, class: 'chart', role: 'img' });
  rows.forEach((r, i) => {
    const y = i * row;
    chart.append(svg('text', { x: labelWidth - 6, y: y + row / 2 + 4, class: 'label', 'text-anchor': 'end' }, r.label));
    series.forEach((s, j) => {
      const w = ((width - labelWidth - 40) * r[s.key]) / max;
      const rect = svg('rect', {
        x: labelWidth,
        y: y + 3 + j * bar,
        width: Math.max(w, r[s.key] ? 1 : 0),
        height: bar - 1,
        class: s.class,
      });
      rect.append(svg('title', {}, `${r.label} ${s.name}: ${r[s.key]}`));
      chart.append(rect);
      if (r[s.key]) chart.append(svg('text', { x: labelWidth + w + 3, y: y + 3 + j * bar + bar - 2, class: 'value' }, r[s.key]));
    });
  });
  const legend = svg('g', {});
  series.forEach((s, j) => {
    legend.append(svg('rect', { x: labelWidth + j * 110, y: rows.length * row + 6, width: 10, height: 10, class: s.class }));
    legend.append(svg('text', { x: labelWidth + j * 110 + 14, y: rows.length * row + 15, class: 'label' }, s.name));
  });
  chart.append(legend);
  return chart;
}

function ageLabel(ms) {
  if (ms === null) return 'more';
  return ms < 1000 ? `≤ ${ms}ms` : `≤ ${duration(ms)}`;
}

function drawOverview(o) {
  $('overview-span').textContent = `(counted since ${time(o.counted.from)})`;
  $('funnel').replaceChildren(
    barRows(
      o.stages.map((s) => ({ label: s.stage, now: s.now, entered: s.enteredLastDay, left: s.leftLastDay })),
      [
        { key: 'now', name: 'now', class: 'series-now' },
        { key: 'entered', name: 'entered', class: 'series-entered' },
        { key: 'left', name: 'left', class: 'series-left' },
      ],
    ),
  );
  const waiting = o.stages.filter((s) => s.ages);
  $('ages').replaceChildren(
    ...waiting.map((s) => {
      const box = el('div', { class: 'age-stage', data: { stage: s.stage } });
      box.append(
        el(
          'div',
          { class: 'age-title' },
          `${s.stage}: ${s.now} now, budget ${s.budgetMs === null ? 'none' : duration(s.budgetMs)}`,
        ),
      );
      const max = Math.max(1, ...s.ages.map((b) => b.count));
      const width = 300;
      const step = width / s.ages.length;
      const chart = svg('svg', { viewBox: `0 0 ${width} 64`, class: 'chart ages', role: 'img' });
      s.ages.forEach((b, i) => {
        const h = (40 * b.count) / max;
        const rect = svg('rect', {
          x: i * step + 2,
          y: 44 - h,
          width: step - 4,
          height: h,
          class: b.overBudget ? 'over' : 'within',
        });
        rect.append(svg('title', {}, `${ageLabel(b.leMs)}: ${b.count}`));
        chart.append(rect);
        if (b.count)
          chart.append(svg('text', { x: i * step + step / 2, y: 42 - h, class: 'value', 'text-anchor': 'middle' }, b.count));
        chart.append(svg('text', { x: i * step + step / 2, y: 58, class: 'label', 'text-anchor': 'middle' }, ageLabel(b.leMs)));
      });
      box.append(chart);
      return box;
    }),
  );
  const minutes = o.perMinute;
  const width = 420;
  const max = Math.max(1, ...minutes.flatMap((m) => [m.sends, m.webhooks]));
  const chart = svg('svg', { viewBox: `0 0 ${width} 140`, class: 'chart rates', role: 'img' });
  const x = (i) => 30 + ((width - 40) * (i + 1)) / Math.max(1, minutes.length);
  const y = (v) => 110 - (100 * v) / max;
  chart.append(svg('line', { x1: 30, y1: 110, x2: width - 10, y2: 110, class: 'axis' }));
  chart.append(svg('text', { x: 26, y: y(max) + 4, class: 'label', 'text-anchor': 'end' }, max));
  chart.append(svg('text', { x: 26, y: 114, class: 'label', 'text-anchor': 'end' }, 0));
  for (const [key, cls] of [
    ['sends', 'series-sends'],
    ['webhooks', 'series-webhooks'],
  ]) {
    const points = [`30,${y(0)}`, ...minutes.map((m, i) => `${x(i)},${y(m[key])}`)].join(' ');
    chart.append(svg('polyline', { points, class: `line ${cls}` }));
  }
  chart.append(svg('rect', { x: 30, y: 124, width: 10, height: 10, class: 'series-sends' }));
  chart.append(svg('text', { x: 44, y: 133, class: 'label' }, `sends (${o.totals.sends} counted)`));
  chart.append(svg('rect', { x: 220, y: 124, width: 10, height: 10, class: 'series-webhooks' }));
  chart.append(svg('text', { x: 234, y: 133, class: 'label' }, `webhooks (${o.totals.webhooks} counted)`));
  $('rates').replaceChildren(chart);
}

async function loadOverview() {
  drawOverview(await api('/ops/overview'));
}

// --- parked effects ------------------------------------------------------------------------------------

async function loadParked() {
  const { parked } = await api('/ops/parked?limit=50');
  fillRows(
    $('parked-effects'),
    parked.map((p) =>
      el(
        'tr',
        { class: p.reason === 'conflict' ? 'conflict' : 'failed' },
        el('td', {}, time(p.parkedAt)),
        el('td', {}, p.workflowId),
        el('td', {}, p.action),
        el('td', {}, p.reason),
        el('td', {}, p.attempts),
        el('td', { title: JSON.stringify(p.params) }, p.error),
      ),
    ),
  );
  $('parked-empty').hidden = parked.length > 0;
}

// --- webhooks: the inbox, the quarantine, parked effects ---------------------------------------------------

async function loadWebhooks() {
  const [counts, { entries }] = await Promise.all([api('/ops/webhooks'), api('/ops/quarantine?limit=10')]);
  $('webhook-counts').replaceChildren(
    ...pairs({
      'Inbox pending': counts.inbox.pending,
      'Dispatch lag': duration(counts.inbox.oldestPendingSeconds * 1000),
      Quarantined: `${counts.quarantine.total} (${counts.quarantine.notReplayed} never replayed)`,
      Parked: counts.parked.total,
    }),
  );
  fillRows(
    $('quarantine'),
    entries.map((q) =>
      el(
        'tr',
        { data: { id: q.id } },
        el('td', {}, el('a', { href: `/ops/quarantine/${encodeURIComponent(q.id)}`, data: { quarantine: q.id } }, `#${q.id}`)),
        el('td', {}, time(q.receivedAt)),
        el('td', {}, q.classifications.join(', ')),
        el('td', {}, q.replayedAt ? time(q.replayedAt) : ''),
      ),
    ),
  );
  $('quarantine-empty').hidden = entries.length > 0;
}

// The entry is token-guarded JSON: the link opens it here, fetched with the operator's token.
$('quarantine').addEventListener('click', async (event) => {
  const link = event.target.closest('a[data-quarantine]');
  if (!link) return;
  event.preventDefault();
  try {
    const entry = await api(`/ops/quarantine/${encodeURIComponent(link.dataset.quarantine)}`);
    $('quarantine-title').textContent = `Quarantine entry #${entry.id}: ${entry.classifications.join(', ')}`;
    $('quarantine-body').textContent = JSON.stringify(entry, null, 2);
    $('quarantine-detail').hidden = false;
  } catch (error) {
    handleError(error);
  }
});
$('close-quarantine').addEventListener('click', () => {
  $('quarantine-detail').hidden = true;
});

// --- refresh -----------------------------------------------------------------------------------------

async function refresh() {
  if (!token || refreshing || acting) return;
  refreshing = true;
  try {
    await Promise.all([loadList(), loadOverview(), loadParked(), loadWebhooks()]);
    const [phone, before] = [openPhone, actionsDone];
    if (phone) {
      const detail = await api(`/ops/onboardings/${encodeURIComponent(phone)}`);
      if (phone === openPhone && before === actionsDone) renderDetail(detail);
    }
    showMessage(null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && openPhone) closeDetail();
    handleError(error);
  } finally {
    refreshing = false;
  }
}

signedIn(Boolean(token));
if (token) {
  pageTokens = [''];
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash) openPhone = hash;
  void refresh();
}
setInterval(() => {
  if (!document.hidden) void refresh();
}, REFRESH_MS);
