// The UI's one door to the simulator: every request the page makes goes through this module, on
// pymodbus's JSON routes (POST /restapi/registers, /restapi/calls, /restapi/server). When the
// versioned /api/v1 (with its call stream) lands, only this file changes; app.js sees the same
// functions and shapes.
//
// Every function resolves to the view's answer ({result: "ok", ...}) or rejects with an Error whose
// message is the server's ("register: 200 is outside 0-99"), never logging anything itself.

async function post(view, body) {
  const response = await fetch(`/restapi/${view}`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new Error(`${view}: HTTP ${response.status} without a JSON answer`);
  }
  if (answer.result !== 'ok') throw new Error(answer.error || `${view}: HTTP ${response.status}`);
  return answer;
}

/** The registers whose addresses fall in [start, stop] (at most 1000 rows), of one type name or
 *  all (type ''): {rows, types}. Rows are as pymodbus sends them: {index: "30-31", type: "float32",
 *  access: "True", action, value: "404.17", count_read, count_write}; types lists the type names. */
export async function readRegisters(start, stop, type = '') {
  const answer = await post('registers', {submit: 'Register', range_start: start, range_stop: stop, type: type || 'Any'});
  return {rows: answer.register_rows, types: Object.keys(answer.register_types)};
}

/** Sets the typed value holding `register`: a number for numeric types, text for a string. */
export async function setRegister(register, value) {
  const answer = await post('registers', {submit: 'Set', register, value});
  return answer.footer;
}

/** The call monitor's and the simulation's state, and the recorded calls, newest first. */
export function readCalls() {
  return post('calls', {submit: 'Refresh'});
}

/** Starts recording calls on addresses [start, stop] of the given function codes (empty: all). */
export function startMonitor(start, stop, functionCodes) {
  return post('calls', {submit: 'Monitor', range_start: start, range_stop: stop, function: functionCodes,
                        show_hex: true, show_decoded: true});
}

export function stopMonitor() { return post('calls', {submit: 'Stop'}); }
export function clearCalls() { return post('calls', {submit: 'Clear'}); }

/** Makes the next answers faulty: fault = {response_type 0-3, response_error, response_junk_datalen,
 *  response_split, split_delay, response_delay, response_cr, response_cr_pct, response_clear_after}. */
export function simulate(fault) { return post('calls', {submit: 'Simulate', ...fault}); }
export function resetSimulation() { return post('calls', {submit: 'Reset'}); }

/** Uptime, endpoint, connections and counters. */
export function readServer() { return post('server', {submit: 'Refresh'}); }
