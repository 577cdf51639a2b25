#!/usr/bin/python3
"""bench/report.py: turns the JSON lines of bench/run.sh (one per uvmodbus-loadgen run) into a
text table, the ratios between servers, and the same as Markdown for BENCHMARKS.md.
Usage: report.py RESULTS.jsonl [--machine TEXT] [--quick 0|1]"""
import argparse
import datetime
import json
import sys

SCENARIOS = {
    "a": "FC3 x10, 100 conns, depth 1",
    "b": "FC3 x10, 1 conn, depth 16",
    "c": "idle connections",
    "d": "connections opened at once",
    "e": "99 conns + 1 slow client",
    "f": "FC3 x10 over UDP, 100 sockets, depth 1",
    "g": "RTU FC3 x10 over a pty, 115200 8E1",
    "h": "FC3 x10 over TLS, 100 conns, depth 1",
    "hs": "TLS: connect + full handshake + 1 request + close",
    "s": "FC3 x10, 100 conns, depth 1, simulator (uint16 + increment)",
    "w": "simulator's HTTP side: FC3 x10 at 100 conns without HTTP / HTTP idle / call monitor on; "
         "POST /restapi/registers (100 registers) at 10 conns",
    "p": "FC16 x10, 100 conns, depth 1, by store",
    "r": "FC3 x10, 100 conns, depth 1, unit in Redis (store: redis)",
}


def load(path):
    """label -> the run to show: the median by req/s when a label ran several times (--repeat),
    but a failed run whenever there is one, so failures are never hidden."""
    grouped = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                grouped.setdefault(r["label"], []).append(r)
    runs = {}
    for label, group in grouped.items():
        failed = [r for r in group if not r.get("ok")]
        if failed:
            chosen = failed[0]
        else:
            ordered = sorted(group, key=lambda r: r.get("req_per_s", 0))
            chosen = ordered[(len(ordered) - 1) // 2]
        chosen = dict(chosen)
        chosen["runs"] = len(group)
        if len(group) > 1:
            chosen["all_req_per_s"] = [round(r.get("req_per_s", 0)) for r in group]
        runs[label] = chosen
    return runs


def num(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if not a or not b:
        return None
    return a / b


def rows(runs):
    """(scenario, server, description, req/s, p50, p99, cpu us/req, server CPU %, loadgen CPU %,
    peak RSS MiB, notes)"""
    out = []
    for label, r in runs.items():
        scenario, server = label.split("/", 1)
        desc = SCENARIOS.get(scenario, scenario)
        rss = r.get("server_peak_rss_kb")
        rss_mib = rss / 1024 if rss else None
        notes = []
        if r.get("errors"):
            notes.append(f"{r['errors']} invalid replies {r.get('errors_by_kind')}")
        if r.get("connect_failed"):
            notes.append(f"{r['connect_failed']} connects failed")
        if r.get("connections_lost"):
            notes.append(f"{r['connections_lost']} connections lost")
        if r.get("timed_out"):
            notes.append("timed out")
        if r.get("transport") == "udp":
            notes.append(f"{r.get('udp_lost', 0)} lost (unanswered after {r.get('udp_timeout_s', 0):g} s, "
                         f"re-issued), {r.get('udp_late', 0)} late")
        if r["mode"] == "rtu":
            notes.insert(0, f"pairs/s; line max {num(r.get('line_pairs_per_s'), 1)} pairs/s at {r.get('baud')} baud, "
                            f"{r.get('bits_per_char')} bits/char, t3.5 {r.get('t35_ms', 0):g} ms: "
                            f"{num(r.get('ratio_to_line'), 1)}x the line")
            out.append((scenario, server, desc, r.get("req_per_s"), r.get("p50_us"), r.get("p99_us"),
                        r.get("server_cpu_us_per_req"), r.get("server_cpu_pct"), r.get("loadgen_cpu_pct"), rss_mib,
                        "; ".join(notes)))
        elif r["mode"] == "reconnect":
            notes.insert(0, f"handshakes/s, {r['connections']} at a time; {r.get('handshakes', 0)} in the whole run")
            out.append((scenario, server, desc, r.get("req_per_s"), r.get("p50_us"), r.get("p99_us"),
                        r.get("server_cpu_us_per_req"), r.get("server_cpu_pct"), r.get("loadgen_cpu_pct"), rss_mib,
                        "; ".join(notes)))
        elif r["mode"] == "closed_loop":
            if r.get("runs", 1) > 1:
                notes.append(f"median of {r['runs']}: " + "/".join(f"{v:,}" for v in r["all_req_per_s"]))
            if r.get("slow_clients"):
                notes.append(f"slow client got {r.get('slow_replies', 0)} replies")
            out.append((scenario, server, desc, r.get("req_per_s"), r.get("p50_us"), r.get("p99_us"),
                        r.get("server_cpu_us_per_req"), r.get("server_cpu_pct"), r.get("loadgen_cpu_pct"), rss_mib,
                        "; ".join(notes)))
        elif r["mode"] == "idle":
            before, after = r.get("server_rss_before_kb"), r.get("server_rss_after_kb")
            per = r.get("bytes_per_connection")
            notes.insert(0, f"{r['connected']} conns, {r['replied']} replied; RSS {num(before)} -> {num(after)} kB"
                            f" = {num(per)} B/conn")
            out.append((scenario, server, desc, None, None, None, None, None, None, rss_mib, "; ".join(notes)))
        else:
            notes.insert(0, f"{r['within_deadline']}/{r['connections']} first replies within "
                            f"{r['deadline_s']:g} s, slowest {r['slowest_first_reply_ms']:.0f} ms")
            out.append((scenario, server, desc, None, None, None, None, None, None, rss_mib, "; ".join(notes)))
    out.sort(key=lambda row: (row[0], ["uvmodbus", "libmodbus", "pymodbus"].index(row[1])
                              if row[1] in ("uvmodbus", "libmodbus", "pymodbus") else 9))
    return out


def ratios(runs):
    lines = []

    def get(label, key):
        return runs.get(label, {}).get(key)

    for scenario in ("a", "b"):
        for peer in ("libmodbus", "pymodbus"):
            mine, theirs = f"{scenario}/uvmodbus", f"{scenario}/{peer}"
            if mine not in runs or theirs not in runs:
                continue
            rps = ratio(get(mine, "req_per_s"), get(theirs, "req_per_s"))
            cpu = ratio(get(mine, "server_cpu_us_per_req"), get(theirs, "server_cpu_us_per_req"))
            text = f"scenario {scenario}: uvmodbus/{peer} req/s = {num(rps, 2)}x"
            if cpu is not None:
                text += f", CPU per request = {num(cpu, 2)}x ({num(1 / cpu, 1)}x less CPU)" if cpu else ""
            lines.append(text)
    if "a/uvmodbus" in runs and "e/uvmodbus" in runs:
        base, slow = get("a/uvmodbus", "req_per_s"), get("e/uvmodbus", "req_per_s")
        if base and slow is not None:
            drop = 100 * (1 - slow / base)
            lines.append(f"scenario e: the 99 normal connections beside a slow client: {num(slow)} req/s vs "
                         f"{num(base)} in a: {drop:.1f}% drop" + (" (no drop)" if drop <= 0 else ""))
    for scenario, name in (("f", "UDP"), ("h", "TLS")):
        mine = f"{scenario}/uvmodbus"
        if mine in runs and "a/uvmodbus" in runs:
            rps = ratio(get(mine, "req_per_s"), get("a/uvmodbus", "req_per_s"))
            cpu = ratio(get(mine, "server_cpu_us_per_req"), get("a/uvmodbus", "server_cpu_us_per_req"))
            text = (f"scenario {scenario}: {name}/TCP req/s = {num(rps, 2)}x ({num(get(mine, 'req_per_s'))} vs "
                    f"{num(get('a/uvmodbus', 'req_per_s'))} in a)")
            if cpu is not None:
                text += (f", server CPU per request = {num(cpu, 2)}x ({num(get(mine, 'server_cpu_us_per_req'), 2)} vs "
                         f"{num(get('a/uvmodbus', 'server_cpu_us_per_req'), 2)} us)")
            lines.append(text)
    if "w/simulator-nohttp" in runs:
        base = get("w/simulator-nohttp", "req_per_s")
        for server, what, target in (("w/simulator", "HTTP idle", 0.95), ("w/simulator-monitor", "call monitor on", 0.8)):
            if server in runs:
                rps = ratio(get(server, "req_per_s"), base)
                cpu = ratio(get(server, "server_cpu_us_per_req"), get("w/simulator-nohttp", "server_cpu_us_per_req"))
                text = (f"scenario w: simulator with {what} / without HTTP req/s = {num(rps, 2)}x "
                        f"({num(get(server, 'req_per_s'))} vs {num(base)}; target >= {target:g}x)")
                if cpu is not None:
                    text += f", server CPU per request = {num(cpu, 2)}x"
                lines.append(text)
    if "w/rest" in runs:
        r = runs["w/rest"]
        lines.append(f"scenario w: POST /restapi/registers (100 registers), {r.get('connections')} connections: "
                     f"{num(r.get('req_per_s'))} req/s, p50 {num(r.get('p50_us'))} us, p99 {num(r.get('p99_us'))} us, "
                     f"server CPU {num(r.get('server_cpu_us_per_req'))} us/request")
    if "s/simulator" in runs and "a/uvmodbus" in runs:
        rps = ratio(get("s/simulator", "req_per_s"), get("a/uvmodbus", "req_per_s"))
        cpu = ratio(get("s/simulator", "server_cpu_us_per_req"), get("a/uvmodbus", "server_cpu_us_per_req"))
        text = (f"scenario s: simulator/uvmodbus-server req/s = {num(rps, 2)}x ({num(get('s/simulator', 'req_per_s'))} vs "
                f"{num(get('a/uvmodbus', 'req_per_s'))} in a; target >= 0.9x)")
        if cpu is not None:
            text += (f", server CPU per request = {num(cpu, 2)}x ({num(get('s/simulator', 'server_cpu_us_per_req'), 2)} vs "
                     f"{num(get('a/uvmodbus', 'server_cpu_us_per_req'), 2)} us)")
        lines.append(text)
    if "p/memory" in runs:
        for sync in ("periodic", "none", "always"):
            mine = f"p/persistent-{sync}"
            if mine not in runs:
                continue
            rps = ratio(get(mine, "req_per_s"), get("p/memory", "req_per_s"))
            text = (f"scenario p: persistent store, sync {sync} / memory store req/s = {num(rps, 2)}x "
                    f"({num(get(mine, 'req_per_s'))} vs {num(get('p/memory', 'req_per_s'))})")
            if sync == "periodic":
                text += "; target >= 0.9x"
            lines.append(text)
    if "r/uvmodbus" in runs and "a/uvmodbus" in runs:
        rps = ratio(get("r/uvmodbus", "req_per_s"), get("a/uvmodbus", "req_per_s"))
        lines.append(f"scenario r: Redis store/memory store req/s = {num(rps, 2)}x ({num(get('r/uvmodbus', 'req_per_s'))} vs "
                     f"{num(get('a/uvmodbus', 'req_per_s'))} in a; goal >= 0.3x)")
    if "f/uvmodbus" in runs:
        lines.append(f"scenario f: {get('f/uvmodbus', 'udp_lost') or 0} UDP requests lost and re-issued, "
                     f"{get('f/uvmodbus', 'udp_late') or 0} late replies")
    if "g/uvmodbus" in runs:
        r = runs["g/uvmodbus"]
        lines.append(f"scenario g: RTU over a pty {num(r.get('req_per_s'))} pairs/s vs the line's maximum "
                     f"{num(r.get('line_pairs_per_s'), 1)} pairs/s at {r.get('baud')} baud "
                     f"({r.get('bits_per_char')} bits/char): {num(r.get('ratio_to_line'), 1)}x "
                     f"(a pty does not pace bytes at the baud rate)")
    if "hs/uvmodbus" in runs:
        r = runs["hs/uvmodbus"]
        lines.append(f"scenario h: {num(r.get('req_per_s'))} full TLS handshakes/s ({r['connections']} at a time, "
                     f"each with one request), server CPU {num(r.get('server_cpu_us_per_req'), 0)} us per handshake")
    if "d/uvmodbus" in runs:
        r = runs["d/uvmodbus"]
        verdict = "yes" if r["within_deadline"] == r["connections"] else "no"
        lines.append(f"scenario d: all {r['connections']} first replies within {r['deadline_s']:g} s? {verdict}"
                     f" (slowest {r['slowest_first_reply_ms']:.0f} ms)")
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--machine", default="")
    parser.add_argument("--quick", default="0")
    args = parser.parse_args()
    runs = load(args.results)
    table = rows(runs)
    headers = ("scn", "server", "workload", "req/s", "p50 us", "p99 us", "CPU us/req", "server CPU %",
               "loadgen CPU %", "peak RSS MiB", "notes")
    cells = [headers] + [(s, srv, d, num(rps), num(p50), num(p99), num(cpu, 2), num(spct), num(lpct), num(rss, 1), notes)
                         for s, srv, d, rps, p50, p99, cpu, spct, lpct, rss, notes in table]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(headers) - 1)]
    for c in cells:
        print("  ".join(str(v).ljust(w) for v, w in zip(c, widths)) + "  " + c[-1])
    print()
    for line in ratios(runs):
        print(line)

    print()
    print("Markdown for BENCHMARKS.md:")
    print()
    when = datetime.date.today().isoformat()
    mode = " (--quick)" if args.quick == "1" else ""
    print(f"Run of {when}{mode} on {args.machine}.")
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for c in cells[1:]:
        print("| " + " | ".join(str(v) for v in c) + " |")
    print()
    for line in ratios(runs):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
