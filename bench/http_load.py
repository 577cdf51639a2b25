#!/usr/bin/env python3
"""bench/http_load.py: closed-loop HTTP/1.1 load for scenario w (bench/run.sh): N keep-alive
connections, each sending one POST and waiting for its answer before the next, for --warmup then
--duration seconds. Prints one JSON line in uvmodbus-loadgen's shape (label, req_per_s, p50_us,
p99_us, errors, server CPU per request with --server-pid) so report.py shows it with the others.

Every answer must be status 200 and contain --expect; before the load, one answer is parsed as JSON
and must hold --expect-rows rows under --expect (the REST call really returned 100 registers).
Exit status 1 if any answer failed validation or a connection broke. Standard library only.
"""
import argparse
import asyncio
import json
import os
import sys
import time


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


async def exchange(reader, writer, request):
    """One request and its answer on a keep-alive connection: (status, body)."""
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return status, body


async def client(args, request, expect, start, state):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    measure_from = start + args.warmup
    stop_at = measure_from + args.duration
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            status, body = await exchange(reader, writer, request)
            t1 = time.perf_counter()
            if t0 >= measure_from:
                state["latencies"].append(t1 - t0)
                if status != 200 or expect not in body:
                    state["errors"] += 1
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
        state["broken"] += 1
        state["why"] = repr(e)
    finally:
        writer.close()


async def main_async(args):
    body = args.body.encode()
    request = (f"POST {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    expect = args.expect.encode()
    # One checked answer first: the call does what the scenario says.
    reader, writer = await asyncio.open_connection(args.host, args.port)
    status, first = await exchange(reader, writer, request)
    writer.close()
    if status != 200:
        raise SystemExit(f"http_load: {args.path} answered {status}: {first[:200]!r}")
    if args.expect_rows:
        rows = json.loads(first).get(args.expect)
        if not isinstance(rows, list) or len(rows) != args.expect_rows:
            raise SystemExit(f"http_load: expected {args.expect_rows} {args.expect}, got "
                             f"{len(rows) if isinstance(rows, list) else rows!r}")
    state = {"latencies": [], "errors": 0, "broken": 0, "why": ""}
    start = time.perf_counter()
    cpu_before = None
    if args.server_pid:
        await asyncio.sleep(0)  # the clients start now; the server's CPU is read at the window's edges
    tasks = [asyncio.create_task(client(args, request, expect, start, state)) for _ in range(args.connections)]
    await asyncio.sleep(args.warmup)
    if args.server_pid:
        cpu_before = cpu_seconds(args.server_pid)
    await asyncio.sleep(args.duration)
    cpu_after = cpu_seconds(args.server_pid) if args.server_pid else None
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.duration + 30)
    return state, cpu_before, cpu_after


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--body", required=True, help="the JSON body of every POST")
    p.add_argument("--expect", required=True, help="a key every answer must contain")
    p.add_argument("--expect-rows", type=int, default=0, help="the first answer's --expect list must have this many")
    p.add_argument("-c", "--connections", type=int, default=10)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--label", default="w/rest")
    args = p.parse_args()
    state, cpu_before, cpu_after = asyncio.run(main_async(args))
    lat = sorted(state["latencies"])
    n = len(lat)

    def pct(q):
        return round(lat[min(n - 1, int(q * n))] * 1e6, 1) if n else None

    result = {"label": args.label, "mode": "closed_loop", "transport": "http", "connections": args.connections,
              "depth": 1, "duration_s": args.duration, "requests": n, "req_per_s": round(n / args.duration, 1),
              "p50_us": pct(0.50), "p99_us": pct(0.99), "errors": state["errors"],
              "connections_lost": state["broken"]}
    if cpu_before is not None and cpu_after is not None and n:
        used = cpu_after - cpu_before
        result["server_cpu_us_per_req"] = round(used / n * 1e6, 2)
        result["server_cpu_pct"] = round(100 * used / args.duration, 1)
    print(json.dumps(result))
    if state["errors"] or state["broken"] or n == 0:
        print(f"http_load: {state['errors']} invalid answers, {state['broken']} connections broken {state['why']}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
