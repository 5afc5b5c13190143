// TokenHub Usage dashboard: reads the admin API with the admin token (or the host's own auth) and draws the page.
(function () {
  'use strict';

  const API = document.querySelector('meta[name="tokenhub-api"]').content;
  const TOKEN_KEY = 'tokenhub.adminToken';
  const HOUR = 3600000;
  const DAY = 86400000;
  const PALETTE = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#64748b', '#ec4899'];
  const MAX_SERIES = 7;
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    hostAuth: false,
    started: false,
    filters: { range: '30', from: '', to: '', model: '', provider: '', keyId: '', hourFrom: '', hourTo: '', tz: 'UTC' },
    groupBy: 'model',
    sort: 'cost_desc',
    bucket: 'day',
    split: 'model',
    heatMetric: 'costUsd',
    heat: null,
    catalog: [],
    keys: [],
    generation: 0,
    chart: null,
  };

  // ---------- formatting ----------
  const usd0 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const int = new Intl.NumberFormat('en-US');
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  /** Dollars: $12,345 · $12.34 · $0.03 · $0.0012 (two significant digits under a cent) · $0.00. */
  function fmtUsd(v) {
    if (v === 0) return '$0.00';
    if (Math.abs(v) >= 10000) return usd0.format(v);
    if (Math.abs(v) >= 0.01) return usd2.format(v);
    return '$' + v.toPrecision(2);
  }
  const fmtInt = (n) => int.format(n);
  const fmtCompact = (n) => (n < 10000 ? int.format(n) : compact.format(n));
  const dayFmt = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
  const weekdayFmt = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' });
  const pad = (n) => (n < 10 ? '0' + n : String(n));
  /** Bucket labels are already local to the chosen zone, so they are read as UTC fields. */
  function fmtBucket(label, bucket) {
    if (bucket === 'day') return dayFmt.format(new Date(label + 'T00:00:00Z'));
    const d = new Date(label + ':00:00Z');
    return d.getUTCHours() === 0 ? dayFmt.format(d) + ' 00h' : pad(d.getUTCHours()) + 'h';
  }
  const keyName = (id) => {
    const k = state.keys.find((x) => x.id === id);
    return k ? k.name : id;
  };

  // ---------- DOM helpers (text only: names come from users, so nothing goes through innerHTML) ----------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(e.dataset, v);
        else e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const setState = (wrap, s) => wrap.setAttribute('data-state', s);

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, message, param) {
      super(message);
      this.status = status;
      this.param = param;
    }
  }
  async function api(path, { method = 'GET', params, body, token = state.token } = {}) {
    const url = new URL(API + path, location.origin);
    if (params) for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) url.searchParams.set(k, String(v));
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'The gateway did not answer. Check that it is running and reachable, then retry.');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: a proxy's error page */ }
    if (!res.ok) {
      const e = data && data.error;
      throw new ApiError(res.status, e && e.message ? e.message : 'HTTP ' + res.status + ' from ' + url.pathname, e && e.param);
    }
    return data;
  }

  // ---------- sign-in ----------
  function showLogin(message) {
    state.started = false;
    $('#booting').hidden = true;
    $('#app').hidden = true;
    $('#nav').hidden = true;
    $('#signout').hidden = true;
    $('#login').hidden = false;
    const err = $('#login-error');
    err.hidden = !message;
    err.textContent = message || '';
    $('#token').focus();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.chart) { state.chart.destroy(); state.chart = null; }
    showLogin(message);
  }
  const REFUSED = 'The admin token was refused (401). Enter the value the gateway was started with (TOKENHUB_ADMIN_TOKEN).';
  /** Every failed read lands here: 401 signs out, anything else shows a banner that says what to do. */
  function failed(what, err) {
    if (err instanceof ApiError && err.status === 401 && !state.hostAuth) return signOut(REFUSED);
    const msg = err instanceof ApiError && err.status === 400
      ? 'The filters were refused (' + err.message.replace(/\.$/, '') + '). Change them and the page reloads.'
      : 'Could not load ' + what + ': ' + err.message;
    $('#banner-text').textContent = msg;
    $('#banner').hidden = false;
  }

  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('#token').value.trim();
    if (!token) return;
    const btn = $('#login-submit');
    btn.disabled = true;
    btn.textContent = 'Checking…';
    try {
      await api('/keys', { token });
      sessionStorage.setItem(TOKEN_KEY, token);
      state.token = token;
      $('#token').value = '';
      start();
    } catch (err) {
      showLogin(err.status === 401 ? 'That token was refused. Use the value of TOKENHUB_ADMIN_TOKEN (or the adminToken option).' : err.message);
    } finally {
      btn.disabled = false;
      btn.textContent = 'Sign in';
    }
  });
  $('#signout').addEventListener('click', () => signOut());

  // ---------- filters ----------
  function zoneDayStart(y, m, d) {
    return state.filters.tz === 'UTC' ? Date.UTC(y, m, d) : new Date(y, m, d).getTime();
  }
  function todayParts() {
    const now = new Date();
    return state.filters.tz === 'UTC'
      ? [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()]
      : [now.getFullYear(), now.getMonth(), now.getDate()];
  }
  const isoDate = (y, m, d) => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
  /** The chosen range as instants: whole days in the chosen zone, or the last 24 hours to the next full hour. */
  function rangeInstants() {
    const f = state.filters;
    if (f.range === '1') {
      const to = Math.ceil(Date.now() / HOUR) * HOUR;
      return { from: to - DAY, to };
    }
    if (f.range === 'custom' && f.from && f.to) {
      const [fy, fm, fd] = f.from.split('-').map(Number);
      const [ty, tm, td] = f.to.split('-').map(Number);
      return { from: zoneDayStart(fy, fm - 1, fd), to: zoneDayStart(ty, tm - 1, td + 1) };
    }
    const n = f.range === 'custom' ? 30 : Number(f.range);
    const [y, m, d] = todayParts();
    return { from: zoneDayStart(y, m, d - n + 1), to: zoneDayStart(y, m, d + 1) };
  }
  function queryParams() {
    const f = state.filters;
    const { from, to } = rangeInstants();
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      model: f.model,
      provider: f.provider,
      keyId: f.keyId,
      hourFrom: f.hourFrom,
      hourTo: f.hourTo,
      tz: f.tz,
    };
  }

  function fillSelect(select, options, current, allLabel) {
    const keep = current;
    select.replaceChildren(el('option', { value: '', text: allLabel }), ...options.map(([v, label]) => el('option', { value: v, text: label })));
    if (keep && !options.some(([v]) => v === keep)) select.append(el('option', { value: keep, text: keep }));
    select.value = keep;
  }
  function fillFilterOptions() {
    const f = state.filters;
    fillSelect($('#f-model'), state.catalog.map((m) => [m.id, m.id + (m.tier === 'premium' ? ' · premium' : '')]), f.model, 'All models');
    const providers = [...new Set(state.catalog.map((m) => m.provider))].sort();
    fillSelect($('#f-provider'), providers.map((p) => [p, p]), f.provider, 'All providers');
    fillSelect($('#f-key'), state.keys.map((k) => [k.id, k.name]), f.keyId, 'All keys');
  }
  function initStaticFilters() {
    for (const id of ['#f-hour-from', '#f-hour-to']) {
      const s = $(id);
      for (let h = 0; h < 24; h++) s.append(el('option', { value: String(h), text: pad(h) + ':00' }));
    }
    if (localZone !== 'UTC') $('#f-tz').append(el('option', { value: localZone, text: 'Local (' + localZone + ')' }));
  }

  const filterInputs = { '#f-range': 'range', '#f-from': 'from', '#f-to': 'to', '#f-model': 'model', '#f-provider': 'provider', '#f-key': 'keyId', '#f-hour-from': 'hourFrom', '#f-hour-to': 'hourTo', '#f-tz': 'tz' };
  for (const [sel, field] of Object.entries(filterInputs)) {
    $(sel).addEventListener('change', (ev) => {
      state.filters[field] = ev.target.value;
      if (field === 'range') {
        const custom = ev.target.value === 'custom';
        $$('.custom-range').forEach((e) => (e.hidden = !custom));
        if (custom && !state.filters.from) {
          const { from, to } = rangeInstants();
          state.filters.from = $('#f-from').value = new Date(from).toISOString().slice(0, 10);
          state.filters.to = $('#f-to').value = new Date(to - DAY).toISOString().slice(0, 10);
        }
        setBucket(ev.target.value === '1' ? 'hour' : 'day');
      }
      loadUsage();
    });
  }
  $('#f-reset').addEventListener('click', () => {
    state.filters = { range: '30', from: '', to: '', model: '', provider: '', keyId: '', hourFrom: '', hourTo: '', tz: 'UTC' };
    for (const [sel, field] of Object.entries(filterInputs)) $(sel).value = state.filters[field];
    $$('.custom-range').forEach((e) => (e.hidden = true));
    setBucket('day');
    loadUsage();
  });

  // ---------- controls ----------
  function press(attr, value) {
    $$('[' + attr + ']').forEach((b) => b.setAttribute('aria-pressed', String(b.getAttribute(attr) === value)));
  }
  function setBucket(b) {
    state.bucket = b;
    press('data-bucket', b);
  }
  $$('[data-bucket]').forEach((b) => b.addEventListener('click', () => { setBucket(b.dataset.bucket); loadTrend(state.generation); }));
  $$('[data-split]').forEach((b) => b.addEventListener('click', () => {
    state.split = b.dataset.split;
    press('data-split', state.split);
    loadTrend(state.generation);
  }));
  $$('[data-heat]').forEach((b) => b.addEventListener('click', () => {
    state.heatMetric = b.dataset.heat;
    press('data-heat', state.heatMetric);
    if (state.heat) drawHeatmap(state.heat);
  }));
  $('#group-by').addEventListener('change', (ev) => {
    state.groupBy = ev.target.value;
    loadTable(state.generation);
  });
  $$('#usage-table th.sortable').forEach((th) => th.querySelector('button').addEventListener('click', () => {
    const s = th.dataset.sort;
    state.sort = s === 'cost' ? (state.sort === 'cost_desc' ? 'cost_asc' : 'cost_desc') : s;
    loadTable(state.generation);
  }));
  $('#banner-retry').addEventListener('click', () => { loadUsage(); loadKeys(); });

  // ---------- loading ----------
  /** Reloads every filtered panel; answers to an older filter state are dropped when they arrive late. */
  function loadUsage() {
    $('#banner').hidden = true;
    const gen = ++state.generation;
    loadTotals(gen);
    loadTrend(gen);
    loadTable(gen);
    loadHeatmap(gen);
    loadWaste(gen);
  }

  async function loadTotals(gen) {
    try {
      const data = await api('/usage', { params: queryParams() });
      if (gen !== state.generation) return;
      const t = data.totals;
      $('#s-cost').textContent = fmtUsd(t.costUsd);
      $('#s-requests').textContent = fmtInt(t.requests);
      $('#s-tokens').textContent = fmtCompact(t.inputTokens + t.outputTokens);
      $('#s-avg').textContent = t.requests ? fmtUsd(t.costUsd / t.requests) + ' per request' : 'no requests';
      $('#s-tokens-split').textContent = fmtCompact(t.inputTokens) + ' in · ' + fmtCompact(t.outputTokens) + ' out';
      const { from, to } = rangeInstants();
      const days = Math.round((to - from) / DAY);
      $('#s-range').textContent = days <= 1 ? 'last 24 hours' : days + ' days · ' + state.filters.tz;
    } catch (err) {
      if (gen === state.generation) failed('totals', err);
    }
  }

  async function loadTrend(gen) {
    const box = $('#trend .chart-box');
    setState(box, 'loading');
    try {
      const data = await api('/usage/series', { params: { ...queryParams(), bucket: state.bucket, splitBy: state.split } });
      if (gen !== state.generation) return;
      if (data.totals.requests.every((n) => n === 0)) {
        setState(box, 'empty');
        if (state.chart) { state.chart.destroy(); state.chart = null; }
        return;
      }
      drawTrend(data);
      setState(box, 'ready');
    } catch (err) {
      if (gen !== state.generation) return;
      setState(box, 'empty');
      failed('the cost trend', err);
    }
  }

  function drawTrend(data) {
    if (typeof window.Chart !== 'function') {
      $('#trend .empty-msg').textContent = 'The chart library did not load. Reload the page; if it persists, check the gateway logs.';
      setState($('#trend .chart-box'), 'empty');
      return;
    }
    let series = data.series;
    // Beyond a handful of stacks a chart stops being readable; the smallest ones are summed as "other".
    if (series.length > MAX_SERIES) {
      const rest = series.slice(MAX_SERIES - 1);
      const other = { name: 'other (' + rest.length + ')', costUsd: data.buckets.map((_, i) => rest.reduce((s, x) => s + x.costUsd[i], 0)) };
      series = series.slice(0, MAX_SERIES - 1).concat([other]);
    }
    const labels = data.buckets.map((b) => fmtBucket(b, data.bucket));
    const datasets = series.map((s, i) => ({
      label: s.name === 'total' ? 'Cost' : s.name,
      data: s.costUsd,
      backgroundColor: PALETTE[i % PALETTE.length],
      borderRadius: 2,
      maxBarThickness: 36,
      stack: 'cost',
    }));
    if (state.chart) {
      state.chart.data.labels = labels;
      state.chart.data.datasets = datasets;
      state.chart.update();
      return;
    }
    state.chart = new window.Chart($('#trend-chart'), {
      type: 'bar',
      data: { labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0, color: '#667085' } },
          y: { stacked: true, beginAtZero: true, border: { display: false }, grid: { color: '#eef0f3' }, ticks: { color: '#667085', callback: (v) => fmtUsd(Number(v)) } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, color: '#344054' } },
          tooltip: { callbacks: { label: (c) => c.dataset.label + ': ' + fmtUsd(c.parsed.y) } },
        },
      },
    });
  }

  const GROUP_TITLES = { model: 'Model', provider: 'Provider', key: 'Key', day: 'Day', hourOfDay: 'Hour of day' };
  function groupCell(group) {
    const by = state.groupBy;
    if (by === 'model') {
      const m = state.catalog.find((x) => x.id === group);
      return [group, m ? el('span', { class: 'tier ' + m.tier, text: m.tier }) : null];
    }
    if (by === 'key') return [keyName(group)];
    if (by === 'day') return [weekdayFmt.format(new Date(group + 'T00:00:00Z'))];
    if (by === 'hourOfDay') return [pad(Number(group)) + ':00–' + pad(Number(group)) + ':59'];
    return [group];
  }
  async function loadTable(gen) {
    const wrap = $('#breakdown .table-wrap');
    setState(wrap, 'loading');
    $('#col-group').textContent = GROUP_TITLES[state.groupBy];
    $$('#usage-table th.sortable').forEach((th) => {
      const s = th.dataset.sort;
      const dir = s === 'cost' ? (state.sort === 'cost_desc' ? 'descending' : state.sort === 'cost_asc' ? 'ascending' : 'none') : state.sort === s ? 'descending' : 'none';
      th.setAttribute('aria-sort', dir);
    });
    try {
      const data = await api('/usage', { params: { ...queryParams(), groupBy: state.groupBy, sort: state.sort, limit: 500 } });
      if (gen !== state.generation) return;
      const total = data.totals.costUsd;
      const body = $('#usage-table tbody');
      body.replaceChildren(...data.rows.map((r) => {
        const share = total > 0 ? r.costUsd / total : 0;
        const bar = el('div', { class: 'sharebar' }, el('span'));
        bar.firstChild.style.width = (share * 100).toFixed(1) + '%';
        return el('tr', null,
          el('td', { class: 'group', title: r.group }, ...groupCell(r.group)),
          el('td', { class: 'num', text: fmtInt(r.requests) }),
          el('td', { class: 'num col-opt', title: fmtInt(r.inputTokens) + ' in · ' + fmtInt(r.outputTokens) + ' out', text: fmtCompact(r.inputTokens + r.outputTokens) }),
          el('td', { class: 'num cost', text: fmtUsd(r.costUsd) }),
          el('td', { class: 'share col-opt', title: (share * 100).toFixed(1) + '% of cost' }, bar));
      }));
      setState(wrap, data.rows.length ? 'ready' : 'empty');
    } catch (err) {
      if (gen !== state.generation) return;
      setState(wrap, 'empty');
      failed('the breakdown', err);
    }
  }

  async function loadHeatmap(gen) {
    const wrap = $('#heat .heat-wrap');
    setState(wrap, 'loading');
    try {
      const data = await api('/usage/heatmap', { params: queryParams() });
      if (gen !== state.generation) return;
      state.heat = data;
      drawHeatmap(data);
      $('#heat-hint').textContent = 'Hours in ' + data.tz + '. A lone dark cell at night is worth a look: a runaway job or a loop.';
    } catch (err) {
      if (gen !== state.generation) return;
      setState(wrap, 'empty');
      failed('the time-of-day heatmap', err);
    }
  }
  function drawHeatmap(data) {
    const wrap = $('#heat .heat-wrap');
    const values = data[state.heatMetric];
    const max = Math.max(0, ...values.flat());
    if (data.requests.flat().every((n) => n === 0)) return setState(wrap, 'empty');
    const grid = $('#heatmap');
    const cells = [el('div')];
    for (let h = 0; h < 24; h++) cells.push(el('div', { class: 'hl', text: h % 3 === 0 ? pad(h) : '' }));
    data.weekdays.forEach((day, w) => {
      cells.push(el('div', { class: 'dl', text: day }));
      for (let h = 0; h < 24; h++) {
        const v = values[w][h];
        const c = el('div', {
          class: 'cell',
          role: 'gridcell',
          title: day + ' ' + pad(h) + ':00–' + pad(h) + ':59 · ' + fmtInt(data.requests[w][h]) + ' requests · ' + fmtUsd(data.costUsd[w][h]),
        });
        if (v > 0) c.style.background = 'rgba(79, 70, 229, ' + (0.12 + 0.88 * (v / max)).toFixed(3) + ')';
        cells.push(c);
      }
    });
    grid.replaceChildren(...cells);
    setState(wrap, 'ready');
  }

  async function loadWaste(gen) {
    const wrap = $('#waste .table-wrap');
    setState(wrap, 'loading');
    try {
      const w = await api('/usage/waste', { params: queryParams() });
      if (gen !== state.generation) return;
      $('#w-monthly').textContent = fmtUsd(w.estimatedMonthlySavingUsd);
      $('#s-saving').textContent = fmtUsd(w.estimatedMonthlySavingUsd);
      const t = w.totals;
      $('#w-explain').textContent = t.premiumRequests === 0
        ? 'No request in this range went to a premium model (' + w.premiumModels.join(', ') + ').'
        : fmtInt(t.wastedRequests) + ' of ' + fmtInt(t.premiumRequests) + ' premium requests (' + fmtUsd(t.wastedCostUsd) + ') could have run on a cheaper tier for '
          + fmtUsd(t.alternativeCostUsd) + ': ' + fmtUsd(t.savingUsd) + ' saved in these ' + (Math.round(w.periodDays * 10) / 10) + ' days, scaled to 30.';
      $('#waste-empty').textContent = t.premiumRequests === 0
        ? 'No premium requests in this range.'
        : 'Every premium request needed what only a premium model offers.';
      $('#waste-table tbody').replaceChildren(...w.lines.slice(0, 50).map((l) => el('tr', null,
        el('td', { class: 'group', title: l.model + ' → ' + l.alternative }, l.model, el('span', { class: 'sub', text: '→ ' + l.alternative })),
        el('td', { text: keyName(l.keyId), title: l.keyId }),
        el('td', { class: 'num col-opt', text: fmtInt(l.requests) }),
        el('td', { class: 'num col-opt', text: fmtUsd(l.costUsd), title: 'would cost ' + fmtUsd(l.alternativeCostUsd) }),
        el('td', { class: 'num saving', text: fmtUsd(l.savingUsd) }))));
      setState(wrap, w.lines.length ? 'ready' : 'empty');
    } catch (err) {
      if (gen !== state.generation) return;
      setState(wrap, 'empty');
      failed('the waste report', err);
    }
  }

  // ---------- keys ----------
  async function loadKeys() {
    const wrap = $('#keys .table-wrap');
    const capsWrap = $('#caps .caps-wrap');
    try {
      const data = await api('/keys');
      state.keys = data.data;
      fillFilterOptions();
      drawKeys();
      drawCaps();
      setState(wrap, state.keys.length ? 'ready' : 'empty');
      setState(capsWrap, state.keys.length ? 'ready' : 'empty');
    } catch (err) {
      setState(wrap, 'empty');
      setState(capsWrap, 'empty');
      failed('the API keys', err);
    }
  }
  function drawCaps() {
    const now = new Date();
    $('#caps-month').textContent = now.toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }) + ' (UTC)';
    const ratio = (k) => (k.monthlyLimitUsd ? k.monthSpendUsd / k.monthlyLimitUsd : -1);
    const keys = [...state.keys].sort((a, b) => ratio(b) - ratio(a) || b.monthSpendUsd - a.monthSpendUsd);
    $('#caps-list').replaceChildren(...keys.map((k) => {
      const capped = k.monthlyLimitUsd !== null;
      const r = capped ? (k.monthlyLimitUsd > 0 ? k.monthSpendUsd / k.monthlyLimitUsd : 1) : 0;
      const bar = el('div', { class: 'cap-bar' + (!capped ? ' uncapped' : r >= 1 ? ' over' : r >= 0.8 ? ' warn' : '') }, el('span'));
      const maxSpend = Math.max(...state.keys.map((x) => x.monthSpendUsd), 0);
      bar.firstChild.style.width = (capped ? Math.min(1, r) * 100 : maxSpend > 0 ? (k.monthSpendUsd / maxSpend) * 100 : 0).toFixed(1) + '%';
      return el('li', { class: 'cap', dataset: { key: k.id } },
        el('div', { class: 'cap-top' },
          el('span', { class: 'cap-name', text: k.name, title: k.id }),
          el('span', {
            class: 'muted cap-figure',
            text: capped ? fmtUsd(k.monthSpendUsd) + ' of ' + fmtUsd(k.monthlyLimitUsd) + ' · ' + Math.round(r * 100) + '%' : fmtUsd(k.monthSpendUsd) + ' · no cap',
          })),
        bar);
    }));
  }
  function keyError(msg) {
    const e = $('#keys-error');
    e.textContent = msg || '';
    e.hidden = !msg;
  }
  async function keyAction(call) {
    keyError('');
    try {
      await call();
      await loadKeys();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && !state.hostAuth) return signOut(REFUSED);
      keyError(err.message);
    }
  }
  function drawKeys() {
    $('#keys-table tbody').replaceChildren(...state.keys.map((k) => {
      const input = el('input', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal', placeholder: 'no limit', 'aria-label': 'Monthly limit for ' + k.name });
      input.value = k.monthlyLimitUsd === null ? '' : String(k.monthlyLimitUsd);
      const save = () => {
        const v = input.value.trim();
        if (v === '') return keyAction(() => api('/keys/' + encodeURIComponent(k.id), { method: 'PATCH', body: { monthlyLimitUsd: null } }));
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) return keyError('The limit must be a number of dollars, 0 or more; leave it empty for no limit.');
        return keyAction(() => api('/keys/' + encodeURIComponent(k.id), { method: 'PATCH', body: { monthlyLimitUsd: n } }));
      };
      input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') save(); });
      return el('tr', { dataset: { key: k.id } },
        el('td', { class: 'key-name', text: k.name }),
        el('td', { class: 'col-opt' }, el('code', { text: k.id })),
        el('td', { class: 'num', text: fmtUsd(k.monthSpendUsd) }),
        el('td', null, el('div', { class: 'limit-edit' },
          input,
          el('button', { type: 'button', class: 'btn small', text: 'Save', onclick: save }),
          k.monthlyLimitUsd === null ? null : el('button', {
            type: 'button', class: 'btn small ghost', text: 'Clear',
            onclick: () => keyAction(() => api('/keys/' + encodeURIComponent(k.id), { method: 'PATCH', body: { monthlyLimitUsd: null } })),
          }))),
        el('td', null, el('span', { class: 'status' + (k.disabled ? ' disabled' : ''), text: k.disabled ? 'Disabled' : 'Active' })),
        el('td', null, el('div', { class: 'row-actions' },
          el('button', {
            type: 'button', class: 'btn small', text: k.disabled ? 'Enable' : 'Disable',
            onclick: () => keyAction(() => api('/keys/' + encodeURIComponent(k.id), { method: 'PATCH', body: { disabled: !k.disabled } })),
          }),
          el('button', {
            type: 'button', class: 'btn small danger', text: 'Revoke',
            onclick: () => {
              if (!window.confirm('Revoke "' + k.name + '"? Requests with this key will be refused from now on; this cannot be undone.')) return;
              keyAction(() => api('/keys/' + encodeURIComponent(k.id), { method: 'DELETE' }));
            },
          }))));
    }));
  }
  $('#create-key').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('#k-name').value.trim();
    const limit = $('#k-limit').value.trim();
    if (!name) return keyError('Give the key a name, e.g. the customer or environment it is for.');
    const body = { name };
    if (limit !== '') {
      const n = Number(limit);
      if (!Number.isFinite(n) || n < 0) return keyError('The limit must be a number of dollars, 0 or more; leave it empty for no limit.');
      body.monthlyLimitUsd = n;
    }
    keyAction(async () => {
      const created = await api('/keys', { method: 'POST', body });
      $('#secret-value').textContent = created.key;
      $('#secret').hidden = false;
      $('#secret-copy').textContent = 'Copy';
      $('#k-name').value = '';
      $('#k-limit').value = '';
    });
  });
  $('#secret-copy').addEventListener('click', async () => {
    const text = $('#secret-value').textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (plain HTTP on a remote host): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents($('#secret-value'));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      $('#secret-copy').textContent = 'Selected: press Ctrl+C';
      return;
    }
    $('#secret-copy').textContent = 'Copied';
  });
  $('#secret-done').addEventListener('click', () => {
    $('#secret-value').textContent = '';
    $('#secret').hidden = true;
  });

  // ---------- start ----------
  async function start() {
    if (state.started) return;
    state.started = true;
    $('#login').hidden = true;
    $('#booting').hidden = true;
    $('#app').hidden = false;
    $('#nav').hidden = false;
    $('#signout').hidden = state.hostAuth;
    try {
      state.catalog = (await api('/models')).data;
    } catch (err) {
      failed('the model catalog', err);
    }
    fillFilterOptions();
    loadKeys();
    loadUsage();
  }

  async function boot() {
    initStaticFilters();
    if (state.token) return start();
    // No token in this tab: the host's own auth (a session, SSO) may admit us without one.
    try {
      await api('/keys', { token: null });
      state.hostAuth = true;
      start();
    } catch (err) {
      showLogin(err.status === 401 ? '' : err.message);
    }
  }
  boot();
})();
