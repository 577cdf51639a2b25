#!/usr/bin/env bash
# bench/run.sh: the shipped benchmark. Runs uvmodbus-server, a libmodbus server and a pymodbus
# server under the same load from uvmodbus-loadgen and prints a table plus Markdown for
# BENCHMARKS.md. Servers run pinned to CPU 0, the load to CPU 1. Scenarios f (UDP), g (RTU over a
# pseudo-terminal) and h (TLS) run against uvmodbus-bench-server; scenario s runs scenario a's
# load against uvmodbus-simulator (typed uint16 cells, one increment action in the read range);
# scenario p writes (FC16 x10) to the memory store and to the persistent store with each sync policy;
# scenario r runs scenario a's load against uvmodbus-server with its unit in Redis ("store":
# "redis", a redis-server started here on CPU 0 beside the server), reported as a ratio to a;
# scenario w measures the simulator's HTTP side (issue 10 §5): scenario a's load against the
# simulator without HTTP (--no_http), with HTTP idle and with the call monitor recording every call,
# then POST /restapi/registers for 100 registers at 10 connections (bench/http_load.py).
#
#   bench/run.sh [BUILD_DIR] [--quick] [--repeat N] [--only uvmodbus,libmodbus,pymodbus]
#                [--scenarios a,b,c,d,e,f,g,h,s,p,r,w] [--endpoint-options ':backlog=1024'] [--out FILE]
#
# BUILD_DIR (default ./build) must hold uvmodbus-server, uvmodbus-simulator, uvmodbus-loadgen,
# libmodbus-server and uvmodbus-bench-server (configure with -DUVMODBUS_BENCH=ON); this script
# builds nothing.
# --scenarios: the scenarios to run (default all). --quick: 1-2 s measurements,
# for a CI smoke run. --repeat N: run each throughput measurement (a, b, e) N times, each on a fresh
# server, and report the median by req/s (a shared machine is noisy). --only: the servers to run
# (scenarios needing one left out are skipped). --endpoint-options: appended to uvmodbus-server's
# endpoint string (default: none, i.e. the shipped defaults are measured).
# --out: also keep the raw JSON lines there. Exits non-zero when a tool fails, a server does not
# start or dies, or any reply failed validation.
set -uo pipefail

BUILD=./build
QUICK=0
REPEAT=1
ENDPOINT_OPTIONS=""
ONLY="uvmodbus,libmodbus,pymodbus"
SCENARIOS="a,b,c,d,e,f,g,h,s,p,r,w"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --repeat) REPEAT="${2:?--repeat needs a count}"; shift ;;
    --endpoint-options) ENDPOINT_OPTIONS="${2?--endpoint-options needs a value}"; shift ;;
    --only) ONLY="${2:?--only needs a list}"; shift ;;
    --scenarios) SCENARIOS="${2:?--scenarios needs a list}"; shift ;;
    --out) OUT="${2:?--out needs a file}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) BUILD="$1" ;;
  esac
  shift
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$(cd "$BUILD" 2>/dev/null && pwd)" || { echo "run.sh: no build directory $BUILD" >&2; exit 2; }
PY=/usr/bin/python3  # Debian's python: pymodbus 3.0 comes from python3-pymodbus
LOADGEN="$BUILD/uvmodbus-loadgen"
UVSERVER="$BUILD/uvmodbus-server"
SIMULATOR="$BUILD/uvmodbus-simulator"
LMSERVER="$BUILD/libmodbus-server"
BENCHSERVER="$BUILD/uvmodbus-bench-server"
PMSERVER="$HERE/pymodbus_server.py"

case "$REPEAT" in ''|*[!0-9]*|0) echo "run.sh: --repeat needs a count >= 1" >&2; exit 2 ;; esac

wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
runs() { case ",$SCENARIOS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for s in ${SCENARIOS//,/ }; do
  case "$s" in a|b|c|d|e|f|g|h|s|p|r|w) ;; *) echo "run.sh: unknown scenario $s (a..h, s, p, r, w)" >&2; exit 2 ;; esac
done
# Scenarios f, g and h measure uvmodbus only (on uvmodbus-bench-server).
wants_bench() { wants uvmodbus && { runs f || runs g || runs h; }; }
for tool in "$LOADGEN" $(wants uvmodbus && echo "$UVSERVER") $(wants uvmodbus && { runs s || runs w; } && echo "$SIMULATOR") \
            $(wants libmodbus && echo "$LMSERVER") \
            $(wants_bench && echo "$BENCHSERVER"); do
  [ -x "$tool" ] || { echo "run.sh: missing $tool (build with -DUVMODBUS_BENCH=ON)" >&2; exit 2; }
done
[ -x "$PY" ] || { echo "run.sh: $PY is missing" >&2; exit 2; }

REDIS_SERVER=/usr/bin/redis-server
if wants uvmodbus && runs r && [ ! -x "$REDIS_SERVER" ]; then
  echo "run.sh: scenario r needs $REDIS_SERVER (scripts/setup.sh installs redis-server)" >&2; exit 2
fi

if wants uvmodbus && runs h && ! command -v openssl >/dev/null; then
  echo "run.sh: scenario h needs the openssl command" >&2; exit 2
fi

if [ "$QUICK" = 1 ]; then
  WARMUP=0.5; DURATION=1.5
else
  WARMUP=1; DURATION=5
fi
IDLE_CONNECTIONS=10000
BURST_CONNECTIONS=1000

# Descriptors: 10 000 idle connections need as many in the server and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
if [ "$FD_LIMIT" != unlimited ] && [ "$FD_LIMIT" -lt $((IDLE_CONNECTIONS + 200)) ]; then
  IDLE_CONNECTIONS=$((FD_LIMIT - 200))
  echo "run.sh: open-file limit $FD_LIMIT: scenario c uses $IDLE_CONNECTIONS connections" >&2
fi

# Pinning: servers on CPU 0, load on CPU 1 (when the machine has two CPUs to give).
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c 0); PIN_LOAD=(taskset -c 1)
else
  PIN_SERVER=(); PIN_LOAD=()
  echo "run.sh: fewer than 2 CPUs or no taskset: running unpinned" >&2
fi

# Busy CPUs (other tenants, builds) make every figure noisy: measure it for one second and say so.
busy_percent() {
  local a b
  read -r -a a < /proc/stat
  sleep 1
  read -r -a b < /proc/stat
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  local idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
  [ "$total" -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
BUSY=$(busy_percent)
if [ "$BUSY" -ge 20 ]; then
  echo "run.sh: WARNING: the CPUs were ${BUSY}% busy before the run: expect noisy figures" >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/uvmodbus-bench.XXXXXX")"
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
STARTED=()  # every PID this script started
FAILURES=0
SERVER_PID=""
SERVER_PORT=""

cleanup() {
  for pid in "${STARTED[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run.sh: FAILED: $*" >&2
  FAILURES=$((FAILURES + 1))
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server KIND [MAX_CONNECTIONS]: starts it pinned, waits (at most 10 s) for its readiness
# line, and sets SERVER_PID / SERVER_PORT. Returns 1 if it does not come up. KIND memory is
# uvmodbus; persistent-SYNC is uvmodbus with unit 1 in the persistent store (a fresh state
# directory in $WORK) with "sync": SYNC (docs/persistence.md).
start_server() {
  local kind=$1 maxconn=${2:-4096} log="$WORK/$1.log" store=""
  SERVER_PORT=$(free_port)
  case "$kind" in
    persistent-*)
      rm -rf "$WORK/state-$kind" && mkdir -p "$WORK/state-$kind"
      store="\"store\": \"persistent\", \"persistence\": {\"dir\": \"$WORK/state-$kind\", \"sync\": \"${kind#persistent-}\"},"
      ;;
  esac
  case "$kind" in
    uvmodbus|memory|persistent-*)
      cat > "$WORK/uvmodbus.json" <<JSON
{"servers": [{"endpoint": "tcp:$SERVER_PORT:interface=127.0.0.1$ENDPOINT_OPTIONS", "max_connections": $maxconn, "max_connections_per_peer": $maxconn}],
 "single": false, $store
 "units": {"1": {"holding_registers": {"start": 0, "count": 10000, "fill": 0},
                 "input_registers": {"start": 0, "count": 10000},
                 "coils": {"start": 0, "count": 10000},
                 "discrete_inputs": {"start": 0, "count": 10000}}}}
JSON
      "${PIN_SERVER[@]}" "$UVSERVER" --config "$WORK/uvmodbus.json" > "$log" 2>&1 &
      ;;
    uvmodbus-redis)
      # Scenario a's table, in the Redis started by redis_scenario (REDIS_PORT).
      cat > "$WORK/uvmodbus-redis.json" <<JSON
{"servers": [{"endpoint": "tcp:$SERVER_PORT:interface=127.0.0.1$ENDPOINT_OPTIONS", "max_connections": $maxconn, "max_connections_per_peer": $maxconn}],
 "single": false, "store": "redis", "redis": {"endpoint": "tcp:127.0.0.1:$REDIS_PORT", "prefix": "bench"},
 "units": {"1": {"holding_registers": {"start": 0, "count": 10000, "fill": 0},
                 "input_registers": {"start": 0, "count": 10000},
                 "coils": {"start": 0, "count": 10000},
                 "discrete_inputs": {"start": 0, "count": 10000}}}}
JSON
      "${PIN_SERVER[@]}" "$UVSERVER" --config "$WORK/uvmodbus-redis.json" > "$log" 2>&1 &
      ;;
    simulator|simulator-nohttp|simulator-monitor)
      # Scenario a's table as typed uint16 cells; the first register read (0) increments per read.
      cat > "$WORK/simulator.json" <<JSON
{"server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": $SERVER_PORT, "framer": "socket", "device_id": 1}},
 "device_list": {"device": {
   "setup": {"co size": 10000, "di size": 10000, "hr size": 10000, "ir size": 10000, "shared blocks": true},
   "uint16": [{"addr": 0, "value": 0, "action": "increment"}, [1, 9999]]}}}
JSON
      local http_args=(--http_port 0)
      [ "$kind" = simulator-nohttp ] && http_args=(--no_http)
      "${PIN_SERVER[@]}" "$SIMULATOR" --json_file "$WORK/simulator.json" "${http_args[@]}" > "$log" 2>&1 &
      ;;
    libmodbus) "${PIN_SERVER[@]}" "$LMSERVER" "$SERVER_PORT" > "$log" 2>&1 & ;;
    pymodbus) "${PIN_SERVER[@]}" "$PY" "$PMSERVER" "$SERVER_PORT" > "$log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  local i
  for i in $(seq 1 100); do  # 100 x 0.1 s = 10 s at most
    if grep -q "listening" "$log" 2>/dev/null; then
      after_start "$kind" "$log" && return 0
      stop_server
      return 1
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "$kind server did not report listening within 10 s:"
    kill "$SERVER_PID" 2>/dev/null
  else
    fail "$kind server exited before it reported listening:"
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
  sed 's/^/    /' "$log" >&2
  return 1
}

# after_start KIND LOG: what a kind needs once its server listens. A simulator with HTTP has its
# HTTP port read into HTTP_PORT (at most 10 s); simulator-monitor then starts the call monitor
# (pymodbus's Calls page, Monitor) on every FC3 call, through the REST API.
after_start() {
  local kind=$1 log=$2 i
  case "$kind" in simulator|simulator-monitor) ;; *) return 0 ;; esac
  HTTP_PORT=""
  for i in $(seq 1 100); do
    HTTP_PORT=$(sed -n 's|.*HTTP listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n1)
    [ -n "$HTTP_PORT" ] && break
    sleep 0.1
  done
  [ -n "$HTTP_PORT" ] || { fail "$kind: no HTTP port in its log"; return 1; }
  [ "$kind" = simulator-monitor ] || return 0
  "$PY" - "$HTTP_PORT" <<'PY' || { fail "simulator-monitor: the call monitor did not start"; return 1; }
import json, sys, urllib.request
body = json.dumps({"submit": "Monitor", "range_start": 0, "range_stop": 65535, "function": [3],
                   "show_hex": True, "show_decoded": True}).encode()
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/restapi/calls", data=body,
                                 headers={"Content-Type": "application/json"})
sys.exit(0 if json.load(urllib.request.urlopen(request, timeout=10)).get("result") == "ok" else 1)
PY
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" 2>/dev/null
    fail "server (pid $SERVER_PID) died during the run"
  else
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  SERVER_PID=""
}

# load SCENARIO SERVER ARGS...: one loadgen run against the current server, its JSON line kept.
load() {
  local scenario=$1 server=$2
  shift 2
  local line rc
  line=$("${PIN_LOAD[@]}" "$LOADGEN" --port "$SERVER_PORT" --server-pid "$SERVER_PID" --json \
           --label "$scenario/$server" "$@" 2> "$WORK/loadgen.err")
  rc=$?
  if [ -z "$line" ] || [ "${line:0:1}" != "{" ]; then
    fail "loadgen for $scenario/$server exited $rc without a result:"
    sed 's/^/    /' "$WORK/loadgen.err" >&2
    return
  fi
  echo "$line" >> "$RESULTS"
  [ $rc -eq 0 ] || fail "$scenario/$server: $line"
  echo "  $scenario/$server done" >&2
}

# scenario SCENARIO SERVER [MAX_CONNECTIONS] -- LOADGEN ARGS: a fresh server for each measurement
# (so its peak RSS belongs to that measurement).
scenario() {
  local scenario=$1 server=$2 maxconn=4096
  shift 2
  if [ "$1" != "--" ]; then maxconn=$1; shift; fi
  shift  # --
  local owner=$server
  case "$server" in simulator|simulator-*|memory|persistent-*) owner=uvmodbus ;; esac  # all part of uvmodbus
  wants "$owner" || return 0
  runs "$scenario" || return 0
  start_server "$server" "$maxconn" || return 0
  load "$scenario" "$server" "$@"
  stop_server
}

# start_bench_server ARGS...: uvmodbus-bench-server pinned like the others; waits (at most 10 s)
# for its "listening ..." line and sets SERVER_PID and BENCH_READY (that line).
start_bench_server() {
  local log="$WORK/bench-server.log"
  : > "$log"
  "${PIN_SERVER[@]}" "$BENCHSERVER" "$@" > "$log" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  BENCH_READY=""
  local i
  for i in $(seq 1 100); do  # 100 x 0.1 s = 10 s at most
    BENCH_READY=$(grep -m1 "^listening" "$log" 2>/dev/null)
    if [ -n "$BENCH_READY" ]; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "uvmodbus-bench-server did not report listening within 10 s:"
    kill "$SERVER_PID" 2>/dev/null
  else
    fail "uvmodbus-bench-server exited before it reported listening:"
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
  sed 's/^/    /' "$log" >&2
  return 1
}

# bench_port KIND: the port of KIND (udp, tls) in the bench server's readiness line.
bench_port() { echo "$BENCH_READY" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# make_certificates DIR: a throwaway CA, a server certificate for 127.0.0.1/localhost and a client
# certificate carrying the Modbus role extension (OID 1.3.6.1.4.1.50316.802.1, UTF8String
# "Operator"), all RSA 2048, valid 2 days. Everything lives in $WORK, removed at exit.
make_certificates() {
  local dir=$1
  mkdir -p "$dir" || return 1
  cat > "$dir/ext.cnf" <<'CNF'
[v3_server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[v3_client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Operator
CNF
  {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
      -subj "/CN=uvmodbus bench CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" &&
    openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" \
      -subj "/CN=uvmodbus bench server" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial 2 -days 2 \
      -sha256 -extfile "$dir/ext.cnf" -extensions v3_server -out "$dir/server.pem" &&
    openssl req -newkey rsa:2048 -nodes -keyout "$dir/client.key" -out "$dir/client.csr" \
      -subj "/CN=uvmodbus bench operator" &&
    openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial 3 -days 2 \
      -sha256 -extfile "$dir/ext.cnf" -extensions v3_client -out "$dir/client.pem"
  } > "$dir/openssl.log" 2>&1 || { sed 's/^/    /' "$dir/openssl.log" >&2; return 1; }
}

# bench_scenario SCENARIO KIND SERVER_ARGS -- LOADGEN_ARGS: a fresh bench server, one loadgen run
# against its KIND port (udp, tls).
bench_scenario() {
  local scenario=$1 kind=$2
  shift 2
  local server_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do server_args+=("$1"); shift; done
  shift  # --
  start_bench_server "${server_args[@]}" || return 0
  SERVER_PORT=$(bench_port "$kind")
  if [ -z "$SERVER_PORT" ]; then
    fail "$scenario: no $kind port in the bench server's line: $BENCH_READY"
  else
    load "$scenario" uvmodbus "$@"
  fi
  stop_server
}

# rtu_scenario: the load generator opens a pseudo-terminal and prints "pty PATH"; the bench server
# then serves RTU on that path at 115 200 baud; the load generator waits for its first valid reply.
rtu_scenario() {
  local out="$WORK/rtu.out" err="$WORK/rtu.err" pidfile="$WORK/rtu-server.pid" path="" lg i
  : > "$out"; : > "$err"; rm -f "$pidfile"
  "${PIN_LOAD[@]}" "$LOADGEN" --rtu --baud 115200 --char-bits 11 --mix 3:10 --warmup "$WARMUP" \
    --duration "$DURATION" --start-timeout 10 --server-pid-file "$pidfile" --json --label g/uvmodbus \
    > "$out" 2> "$err" &
  lg=$!
  STARTED+=("$lg")
  for i in $(seq 1 100); do  # at most 10 s for the pty
    path=$(sed -n 's/^pty //p' "$err" | head -n1)
    [ -n "$path" ] && break
    kill -0 "$lg" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$path" ]; then
    fail "g: the load generator opened no pty:"
    sed 's/^/    /' "$err" >&2
    kill "$lg" 2>/dev/null; wait "$lg" 2>/dev/null
    return
  fi
  if start_bench_server --serial "$path" --baud 115200; then
    echo "$SERVER_PID" > "$pidfile"
  else
    kill "$lg" 2>/dev/null
  fi
  wait "$lg"  # bounded by the load generator: start timeout + warmup + duration + 5 s
  local rc=$? line
  line=$(head -n1 "$out")
  stop_server
  if [ -z "$line" ] || [ "${line:0:1}" != "{" ]; then
    fail "loadgen for g/uvmodbus exited $rc without a result:"
    sed 's/^/    /' "$err" >&2
    return
  fi
  echo "$line" >> "$RESULTS"
  [ $rc -eq 0 ] || fail "g/uvmodbus: $line"
  echo "  g/uvmodbus done" >&2
}

# redis_scenario -- LOADGEN ARGS: scenario r. A redis-server (no persistence, its own directory in
# $WORK) pinned beside the server, a fresh uvmodbus-server with its unit in Redis, one loadgen run
# once the server is connected to Redis; both ended by PID.
redis_scenario() {
  shift  # --
  local log="$WORK/redis.log" redis_pid i
  REDIS_PORT=$(free_port)
  mkdir -p "$WORK/redis"
  "${PIN_SERVER[@]}" "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' \
    --appendonly no > "$log" 2>&1 &
  redis_pid=$!
  STARTED+=("$redis_pid")
  for i in $(seq 1 100); do  # 10 s at most
    grep -q "Ready to accept connections" "$log" 2>/dev/null && break
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "Ready to accept connections" "$log" 2>/dev/null; then
    fail "r: redis-server did not start:"
    sed 's/^/    /' "$log" >&2
    kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null
    return
  fi
  if start_server uvmodbus-redis; then
    for i in $(seq 1 100); do  # the seeding is sent first on the connection: reads come after it
      grep -q "redis: subscribed to" "$WORK/uvmodbus-redis.log" 2>/dev/null && break
      sleep 0.1
    done
    load r uvmodbus "$@"
    stop_server
  fi
  kill "$redis_pid" 2>/dev/null
  wait "$redis_pid" 2>/dev/null
}

# rest_scenario: scenario w's REST part. A fresh simulator; bench/http_load.py pinned like the load
# generator: POST /restapi/registers for registers 0..99 (the answer checked to hold 100 rows), 10
# keep-alive connections, one request in flight each.
rest_scenario() {
  start_server simulator || return 0
  local line rc
  line=$("${PIN_LOAD[@]}" "$PY" "$HERE/http_load.py" --port "$HTTP_PORT" --server-pid "$SERVER_PID" \
           --connections 10 --warmup "$WARMUP" --duration "$DURATION" --path /restapi/registers \
           --body '{"submit": "Register", "range_start": 0, "range_stop": 99}' --expect register_rows \
           --expect-rows 100 --label w/rest 2> "$WORK/http_load.err")
  rc=$?
  if [ -z "$line" ] || [ "${line:0:1}" != "{" ]; then
    fail "http_load for w/rest exited $rc without a result:"
    sed 's/^/    /' "$WORK/http_load.err" >&2
  else
    echo "$line" >> "$RESULTS"
    [ $rc -eq 0 ] || fail "w/rest: $line"
    echo "  w/rest done" >&2
  fi
  stop_server
}

# repeated SCENARIO SERVER -- ARGS: scenario() REPEAT times (throughput measurements only).
repeated() {
  local i
  for i in $(seq 1 "$REPEAT"); do scenario "$@"; done
}

echo "uvmodbus benchmark: warmup ${WARMUP}s, ${DURATION}s per measurement x $REPEAT, servers: $ONLY" >&2
CLOSED=(--warmup "$WARMUP" --duration "$DURATION" --mix 3:10)
# With a core of its own the load generator spins instead of sleeping (--busy-poll): it no longer
# wakes for every reply, so the server sets the pace and its req/s are measured, not the loadgen's.
[ ${#PIN_LOAD[@]} -gt 0 ] && CLOSED+=(--busy-poll)

# a. FC3 read of 10 registers, closed loop, 100 connections, depth 1.
for server in uvmodbus libmodbus pymodbus; do
  repeated a "$server" -- "${CLOSED[@]}" --connections 100 --depth 1
done
# b. one connection, 16 requests in flight.
for server in uvmodbus libmodbus; do
  repeated b "$server" -- "${CLOSED[@]}" --connections 1 --depth 16
done
# s. scenario a's load against uvmodbus-simulator: how much the typed datastore costs (target >= 0.9x a).
if wants uvmodbus; then
  repeated s simulator -- "${CLOSED[@]}" --connections 100 --depth 1
fi
# w. the simulator's HTTP side (issue 10 §5): scenario a's load without HTTP, with HTTP idle (target
# >= 0.95x without) and with the call monitor recording every call (target >= 0.8x), interleaved per
# repetition so that a busy machine weighs on all three alike; then the REST API's requests/s.
if wants uvmodbus && runs w; then
  for i in $(seq 1 "$REPEAT"); do
    for server in simulator-nohttp simulator simulator-monitor; do
      scenario w "$server" -- "${CLOSED[@]}" --connections 100 --depth 1
    done
  done
  rest_scenario
fi
# p. FC16 write of 10 registers, 100 connections, depth 1: the memory store, then the persistent
# store with each sync policy, interleaved per repetition (target: periodic >= 0.9x memory).
WRITES=(--warmup "$WARMUP" --duration "$DURATION" --mix 16:10)
[ ${#PIN_LOAD[@]} -gt 0 ] && WRITES+=(--busy-poll)
if runs p; then
  for i in $(seq 1 "$REPEAT"); do
    for server in memory persistent-periodic persistent-none persistent-always; do
      scenario p "$server" -- "${WRITES[@]}" --connections 100 --depth 1
    done
  done
fi
# r. scenario a's load with the unit in Redis: requests pipelined to a redis-server beside the server.
if wants uvmodbus && runs r; then
  for i in $(seq 1 "$REPEAT"); do redis_scenario -- "${CLOSED[@]}" --connections 100 --depth 1; done
fi
# c. idle connections: RSS before vs after.
scenario c uvmodbus $((IDLE_CONNECTIONS + 100)) -- --idle --connections "$IDLE_CONNECTIONS" \
  --connect-rate 5000 --connect-timeout 20 --settle-timeout 30
# d. a burst of connections opened at once: first reply within 1 s?
scenario d uvmodbus -- --first-reply-deadline 1 --connections "$BURST_CONNECTIONS" --connect-timeout 15
# e. one slow client (a byte every 50 ms) beside 99 normal connections.
repeated e uvmodbus -- "${CLOSED[@]}" --connections 99 --depth 1 --slow-clients 1 --slow-interval 0.05

if wants uvmodbus; then
  # f. scenario a's load over UDP: 100 sockets, one request in flight each, MBAP per datagram.
  if runs f; then
    for i in $(seq 1 "$REPEAT"); do
      bench_scenario f udp --udp 0 -- "${CLOSED[@]}" --udp --udp-timeout 0.2 --connections 100 --depth 1
    done
  fi
  # g. Modbus RTU over a pseudo-terminal at 115 200 baud, one request at a time.
  runs g && rtu_scenario
  # h. scenario a's load over TLS (client certificates, roles), then full handshakes per second.
  if runs h; then
    if make_certificates "$WORK/tls"; then
      T="$WORK/tls"
      TLS_SERVER=(--tls 0 --cert "$T/server.pem" --key "$T/server.key" --ca "$T/ca.pem" --roles)
      TLS_CLIENT=(--tls --ca "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key")
      for i in $(seq 1 "$REPEAT"); do
        bench_scenario h tls "${TLS_SERVER[@]}" -- "${CLOSED[@]}" "${TLS_CLIENT[@]}" --connections 100 --depth 1
      done
      bench_scenario hs tls "${TLS_SERVER[@]}" -- --warmup "$WARMUP" --duration "$DURATION" --mix 3:10 \
        "${TLS_CLIENT[@]}" --reconnect --connections 8
    else
      fail "h: openssl could not make the test certificates"
    fi
  fi
fi

[ -n "$OUT" ] && cp "$RESULTS" "$OUT"
MACHINE="$(nproc) CPUs, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), ${BUSY}% busy before the run"
[ -n "$ENDPOINT_OPTIONS" ] && MACHINE="$MACHINE, uvmodbus endpoint options '$ENDPOINT_OPTIONS'"
"$PY" "$HERE/report.py" "$RESULTS" --machine "$MACHINE" --quick "$QUICK" || fail "report.py"

if [ "$FAILURES" -ne 0 ]; then
  echo "run.sh: $FAILURES failure(s)" >&2
  exit 1
fi
exit 0
