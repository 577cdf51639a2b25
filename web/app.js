// The simulator's live UI: the register table (polled, typed editing), the trend chart (uPlot),
// fault injection (pymodbus's Simulate) and the call trace (pymodbus's Monitor). All data comes
// through api.js. Expected failures (a bad value, a stopped server) are shown in the status line,
// never thrown past a handler: the page must log no console error.
import * as api from './api.js';

const POLL_MS = 1000;          // registers and calls: a modest rate for a page left open
const SERVER_POLL_MS = 2000;   // the header's summary
const TREND_POINTS = 300;      // five minutes at one sample a second
const TRACE_ROWS = 200;        // rows of the call trace kept in the page

const $ = (selector) => document.querySelector(selector);

// --- status line ---------------------------------------------------------------------------------
function showStatus(text, kind = 'ok') {
  const status = $('#status');
  status.textContent = text;
  status.className = `status ${kind}`;
}
const showError = (error) => showStatus(error instanceof Error ? error.message : String(error), 'error');

/** Runs `task` now and then every `ms` after it settles; a failure is shown, and polling goes on. */
function poll(task, ms) {
  const run = async () => {
    if (!document.hidden) {
      try {
        await task();
      } catch (error) {
        showError(error);
      }
    }
    setTimeout(run, ms);
  };
  run();
}

// --- registers -----------------------------------------------------------------------------------
const view = {start: 0, stop: 99, type: ''};
const shown = new Map();  // first address → {tr, valueTd, countsTd, value, type}
let editing = null;       // the first address whose value is being edited

const firstAddress = (index) => Number(String(index).split('-')[0]);

function buildRow(row) {
  const first = firstAddress(row.index);
  const tr = document.createElement('tr');
  tr.id = `reg-${first}`;
  const cells = [row.index, row.type, '', row.access === 'True' ? 'writable' : 'read-only', row.action, ''];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const valueTd = tr.children[2];
  valueTd.className = 'value';
  valueTd.dataset.register = String(first);
  if (row.access === 'True') {
    valueTd.classList.add('editable');
    valueTd.title = `Set ${row.type} ${row.index}`;
    valueTd.addEventListener('click', () => startEdit(first));
  }
  const trendTd = document.createElement('td');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'trend-toggle';
  box.dataset.register = String(first);
  box.checked = trend.series.has(first);
  box.addEventListener('change', () => toggleTrend(first, `${row.index} ${row.type}`, box.checked));
  trendTd.append(box);
  tr.append(trendTd);
  return {tr, valueTd, countsTd: tr.children[5], value: null, type: row.type};
}

function renderRegisters(rows) {
  const keys = rows.map((row) => firstAddress(row.index));
  const same = keys.length === shown.size && keys.every((k) => shown.has(k));
  if (!same) {
    editing = null;
    shown.clear();
    const body = $('#registers tbody');
    body.replaceChildren();
    for (const row of rows) {
      const entry = buildRow(row);
      shown.set(firstAddress(row.index), entry);
      body.append(entry.tr);
    }
  }
  for (const row of rows) {
    const first = firstAddress(row.index);
    const entry = shown.get(first);
    entry.countsTd.textContent = `${row.count_read} / ${row.count_write}`;
    if (entry.value !== row.value && editing !== first) {
      if (entry.value !== null) {
        // Restart the flash animation on every change.
        entry.valueTd.classList.remove('changed');
        void entry.valueTd.offsetWidth;
        entry.valueTd.classList.add('changed');
      }
      entry.valueTd.textContent = row.value;
    }
    entry.value = row.value;
  }
}

function startEdit(first) {
  if (editing === first) return;
  const entry = shown.get(first);
  editing = first;
  const input = document.createElement('input');
  input.value = entry.value ?? '';
  input.className = 'edit';
  input.dataset.register = String(first);
  input.setAttribute('aria-label', `new value of register ${first}`);
  const finish = () => {
    if (editing !== first) return;
    editing = null;
    entry.valueTd.textContent = entry.value;
  };
  input.addEventListener('keydown', async (event) => {
    if (event.key === 'Escape') finish();
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const text = input.value.trim();
    let value = text;
    if (entry.type !== 'string') {
      value = Number(text);
      if (text === '' || !Number.isFinite(value)) {
        showStatus(`${text || '(empty)'} is not a number: register ${first} is a ${entry.type}`, 'error');
        return;
      }
    }
    try {
      showStatus(await api.setRegister(first, value));
      finish();
      await refreshRegisters();
    } catch (error) {
      showError(error);
    }
  });
  input.addEventListener('blur', finish);
  entry.valueTd.replaceChildren(input);
  input.focus();
  input.select();
}

let typesFilled = false;
async function refreshRegisters() {
  const {rows, types} = await api.readRegisters(view.start, view.stop, view.type);
  if (!typesFilled) {
    const select = $('#type-filter');
    for (const name of types.filter((t) => t !== 'invalid' && t !== 'next')) select.add(new Option(name, name));
    typesFilled = true;
  }
  renderRegisters(rows);
  await sampleTrend(rows);
}

// --- trend ---------------------------------------------------------------------------------------
const trend = {series: new Map(), times: [], chart: null};  // series: first address → {label, values[]}

function toggleTrend(first, label, on) {
  if (on) {
    // Earlier samples of a new series are unknown: null leaves a gap.
    trend.series.set(first, {label, values: trend.times.map(() => null)});
  } else {
    trend.series.delete(first);
  }
  rebuildChart();
}

function chartData() {
  return [trend.times, ...[...trend.series.values()].map((s) => s.values)];
}

function rebuildChart() {
  const box = $('#trend');
  if (trend.chart) trend.chart.destroy();
  trend.chart = null;
  $('#trend-hint').hidden = trend.series.size > 0;
  if (trend.series.size === 0) return;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  // Each register on its own y scale (a float near 20 next to a counter near 2000 would be a flat
  // line otherwise); the first two get an axis, left and right, in their colour.
  const series = [{}];
  const axes = [{}];
  const scales = {x: {time: true}};
  let i = 0;
  for (const [, s] of trend.series) {
    const stroke = colors[i % colors.length];
    const scale = `y${i}`;
    scales[scale] = {auto: true};
    series.push({label: s.label, stroke, width: 2, scale, spanGaps: false});
    if (i < 2) axes.push({scale, side: i === 0 ? 3 : 1, stroke, grid: {show: i === 0}});
    ++i;
  }
  trend.chart = new uPlot({width: Math.max($('#trend-panel').clientWidth - 32, 300), height: 240, series, axes, scales},
                          chartData(), box);
}

async function sampleTrend(rows) {
  if (trend.series.size === 0) return;
  const inView = new Map(rows.map((row) => [firstAddress(row.index), row.value]));
  trend.times.push(Date.now() / 1000);
  for (const [first, s] of trend.series) {
    let value = inView.get(first);
    if (value === undefined) {
      // Charted but scrolled out of the table's range: read it alone.
      const {rows: alone} = await api.readRegisters(first, first);
      value = alone.length ? alone[0].value : null;
    }
    const number = Number(value);
    s.values.push(value === null || !Number.isFinite(number) ? null : number);
  }
  if (trend.times.length > TREND_POINTS) {
    trend.times.shift();
    for (const s of trend.series.values()) s.values.shift();
  }
  if (trend.chart) trend.chart.setData(chartData());
}

// --- faults and the call trace -------------------------------------------------------------------
let errorsFilled = false;

function renderCalls(answer) {
  if (!errorsFilled) {
    const select = $('#fault-error');
    for (const option of answer.function_error) select.add(new Option(option.text, option.value, false, option.selected));
    errorsFilled = true;
  }
  const faultState = $('#fault-state');
  const active = answer.simulation_action === 'ACTIVE';
  faultState.textContent = active ? `simulating (${answer.simulated_requests} requests so far)` : 'normal answers';
  faultState.className = `badge ${active ? 'on' : 'off'}`;
  const monitorState = $('#monitor-state');
  monitorState.textContent = answer.monitor_active ? `recording ${answer.range_start}-${answer.range_stop}` : 'stopped';
  monitorState.className = `badge ${answer.monitor_active ? 'on' : 'off'}`;
  const rows = answer.call_rows.slice(0, TRACE_ROWS);
  const body = $('#calls tbody');
  const signature = JSON.stringify(rows);
  if (body.dataset.signature === signature) return;
  body.dataset.signature = signature;
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement('tr');
    tr.className = row.call;
    for (const key of ['call', 'unit', 'fc', 'address', 'count', 'data']) {
      const td = document.createElement('td');
      td.textContent = row[key];
      tr.append(td);
    }
    return tr;
  }));
}

async function refreshCalls() { renderCalls(await api.readCalls()); }

function faultFromForm() {
  const type = Number(document.querySelector('input[name=response_type]:checked').value);
  const code = $('#fault-error-code').value.trim();
  return {
    response_type: type,
    response_error: Number(code || $('#fault-error').value),
    response_junk_datalen: Number($('#fault-junk').value || 0),
    response_split: $('#fault-split').checked,
    split_delay: Number($('#fault-split-delay').value || 0),
    response_delay: Number($('#fault-delay').value || 0),
    response_cr: $('#fault-cr').checked,
    response_cr_pct: Number($('#fault-cr-pct').value || 100),
    response_clear_after: Number($('#fault-clear-after').value || 0),
  };
}

async function act(action, message) {
  try {
    const answer = await action();
    if (answer && answer.call_rows) renderCalls(answer);
    showStatus(message);
  } catch (error) {
    showError(error);
  }
}

// --- wiring --------------------------------------------------------------------------------------
async function refreshServer() {
  const s = await api.readServer();
  $('#server-summary').textContent =
      `${(s.listening && s.listening.length ? s.listening.join(', ') : s.endpoint)} · up ${Math.round(s.uptime)} s · ${s.connections.length} connections · ${s.requests_total} requests`;
}

$('#range-form').addEventListener('submit', (event) => {
  event.preventDefault();
  view.start = Math.max(0, Number($('#range-start').value || 0));
  view.stop = Math.max(view.start, Number($('#range-stop').value || view.start + 99));
  view.type = $('#type-filter').value;
  refreshRegisters().catch(showError);
});

$('#fault-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const fault = faultFromForm();
  const names = ['Normal', 'Error', 'Empty', 'Junk'];
  const what = fault.response_type === 1
      ? `Error ${fault.response_error.toString(16).padStart(2, '0')}` : names[fault.response_type];
  act(() => api.simulate(fault), `Simulating: ${what}`);
});
$('#fault-reset').addEventListener('click', () => act(api.resetSimulation, 'Simulation reset: normal answers'));

$('#monitor-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('#monitor-functions').value.trim();
  const codes = text ? text.split(/[\s,]+/).filter(Boolean).map((c) => Number(c)) : [];
  if (codes.some((c) => !Number.isInteger(c) || c < 1 || c > 127)) {
    showStatus(`function codes: "${text}" is not a list of codes 1-127`, 'error');
    return;
  }
  act(() => api.startMonitor(Number($('#monitor-start').value || 0), Number($('#monitor-stop').value || 65535), codes),
      'Monitoring calls');
});
$('#monitor-stop-button').addEventListener('click', () => act(api.stopMonitor, 'Monitor stopped'));
$('#monitor-clear-button').addEventListener('click', () => act(api.clearCalls, 'Calls cleared'));

// Follow the panel's width (the chart sets its own height, so only a width change resizes it).
new ResizeObserver(() => {
  const width = Math.max($('#trend-panel').clientWidth - 32, 300);
  if (trend.chart && Math.abs(trend.chart.width - width) > 1) trend.chart.setSize({width, height: 240});
}).observe($('#trend-panel'));

poll(refreshRegisters, POLL_MS);
poll(refreshCalls, POLL_MS);
poll(refreshServer, SERVER_POLL_MS);
