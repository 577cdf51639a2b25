#!/usr/bin/python3
"""Console client for tests/integration/console_test.cc: Python's socket module (a client we did
not write the protocol side of) against uvmodbus-server's debug console, with pymodbus's
ModbusTcpClient on the Modbus port at the same time.

Usage: console_client.py CONSOLE_PORT MODBUS_PORT TOKEN_FILE
Prints one JSON line per step: {"step": NAME, "lines": [...], "eof": bool} (what the console
answered, and whether it then closed the connection), and {"step": "done"} at the end. Every socket
read has a 10 s timeout, so a hang is an error, not a stuck test.
"""
import json
import socket
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402

TIMEOUT = 10


class Console:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""
        self.eof = False

    def send(self, text):
        self.sock.sendall(text.encode())

    def line(self):
        """The next line, or None at end of stream."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                self.eof = True
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def answer(self):
        """Lines up to and including "ok" / "error: ..." (or the end of the stream)."""
        lines = []
        while True:
            line = self.line()
            if line is None:
                return lines
            lines.append(line)
            if line == "ok" or line.startswith("error"):
                return lines

    def drained(self):
        """Reads to the end of the stream: True when the server closed it."""
        while self.line() is not None:
            pass
        return self.eof


def report(step, lines, eof=False):
    print(json.dumps({"step": step, "lines": lines, "eof": eof}), flush=True)


def main():
    console_port, modbus_port, token_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(token_file) as f:
        token = f.readline().strip()

    # No token: a command sent first is a wrong token, never executed.
    c = Console(console_port)
    c.send("shutdown\n")
    report("no_token", c.answer(), c.drained())
    # A wrong token.
    c = Console(console_port)
    c.send("not-the-token\nunits\n")
    report("wrong_token", c.answer(), c.drained())

    c = Console(console_port)
    c.send(token + "\n")
    report("auth", [c.line()])
    for step, command in [
        ("help", "help"), ("units", "units"),
        ("write", "write 1 hr 0 1 2 3"), ("read", "read 1 hr 0 3"),
        ("write_float", "write 1 hr 10 float32 3.5"), ("read_float", "read 1 hr 10 float32"),
        ("write_coils", "write 1 co 0 1 0 1"), ("read_coils", "read 1 co 0 3"),
        ("read_di", "read 1 di 0 2"), ("read_ir", "read 1 ir 0 1"),
        ("listen_on", "listen-only 1 on"), ("units_listen", "units"), ("listen_off", "listen-only 1 off"),
        ("unknown", "frobnicate"), ("stats", "stats"), ("reload", "reload"),
    ]:
        c.send(command + "\n")
        report(step, c.answer())

    # The console sits mid-line while a Modbus client is served.
    c.send("read 1 hr 0")
    client = ModbusTcpClient("127.0.0.1", port=modbus_port, timeout=TIMEOUT)
    if not client.connect():
        print("cannot connect to the Modbus port", file=sys.stderr)
        return 1
    rr = client.read_holding_registers(0, 3, slave=1)
    report("modbus_while_idle", [] if rr.isError() else [str(v) for v in rr.registers])
    c.send(" 3\n")
    report("finished_line", c.answer())

    c.send("counters 1\n")
    report("counters", c.answer())
    c.send("diagnostics 1\n")
    report("diagnostics", c.answer())
    c.send("connections\n")
    report("connections", c.answer())

    c.send("trace on\n")
    report("trace_on", c.answer())
    rr = client.read_holding_registers(0, 2, slave=1)
    report("modbus_traced", [] if rr.isError() else [str(v) for v in rr.registers])
    report("trace_line", [c.line()])
    c.send("trace off\n")
    report("trace_off", c.answer())

    connections = report_id = None
    c.send("connections\n")
    connections = c.answer()
    report_id = connections[0].split()[0] if connections and connections[0][0].isdigit() else "none"
    c.send("connections close " + report_id + "\n")
    report("close_connection", c.answer())
    client.close()

    c.send("shutdown\n")
    report("shutdown", c.answer(), c.drained())
    print(json.dumps({"step": "done"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
