#!/usr/bin/python3
"""Scenarios for tests/integration/simulator_api_v1_test.cc: uvmodbus-simulator's /api/v1 driven
with urllib, the Modbus side seen by pymodbus 3.0 (Debian's python3-pymodbus), both clients we did
not write.

usage: api_v1_client.py SCENARIO HTTP_BASE MODBUS_PORT
Scenarios: typed_set, offline, faults, stream, close, counters. Prints what it checks; exits 0 when
every check held, 1 with "FAIL: ..." otherwise. Every wait is bounded by a socket timeout.
"""
import json
import sys
import urllib.error
import urllib.request

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.constants import Endian  # noqa: E402
from pymodbus.diag_message import ReturnBusMessageCountRequest  # noqa: E402
from pymodbus.payload import BinaryPayloadDecoder  # noqa: E402

SCENARIO, BASE, PORT = sys.argv[1], sys.argv[2].rstrip("/") + "/api/v1", int(sys.argv[3])
UNIT = 1


def fail(message):
    print("FAIL:", message, flush=True)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)
    print("ok", message, flush=True)


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def api_ok(method, path, body=None):
    status, answer = api(method, path, body)
    if status != 200:
        fail(f"{method} {path}: {status} {answer}")
    return answer


def modbus(timeout=3):
    client = ModbusTcpClient("127.0.0.1", port=PORT, timeout=timeout, retries=0)
    if not client.connect():
        fail("pymodbus cannot connect")
    return client


def outcome(call):
    """("ok", response) | ("exception", code) | ("silence", text)."""
    try:
        r = call()
    except Exception as error:  # noqa: BLE001  (pymodbus raises several kinds on a timeout)
        return "silence", str(error)
    if r.isError():
        code = getattr(r, "exception_code", None)
        return ("exception", code) if code is not None else ("silence", str(r))
    return "ok", r


def decoder(registers, word=Endian.Big):
    return BinaryPayloadDecoder.fromRegisters(registers, byteorder=Endian.Big, wordorder=word)


def typed_set():
    api_ok("PUT", "/devices/1/registers/holding_registers/30", {"value": 12.5})
    api_ok("PUT", "/devices/1/registers/holding_registers/34", {"value": -3.75})  # "word_order": "little"
    api_ok("PUT", "/devices/1/registers/holding_registers/15", {"value": -7})
    api_ok("PUT", "/devices/1/registers/holding_registers/36", {"value": 6.02e23})
    api_ok("PUT", "/devices/1/registers/holding_registers/40", {"value": "abc"})
    c = modbus()
    kind, r = outcome(lambda: c.read_holding_registers(30, 2, slave=UNIT))
    expect(kind == "ok" and decoder(r.registers).decode_32bit_float() == 12.5, "a float32 set to 12.5 reads 12.5 over Modbus")
    kind, r = outcome(lambda: c.read_holding_registers(34, 2, slave=UNIT))
    expect(kind == "ok" and decoder(r.registers, Endian.Little).decode_32bit_float() == -3.75,
           "a little-word float32 set to -3.75 reads -3.75 with word order little")
    kind, r = outcome(lambda: c.read_holding_registers(15, 1, slave=UNIT))
    expect(kind == "ok" and decoder(r.registers).decode_16bit_int() == -7, "an int16 set to -7 reads -7")
    kind, r = outcome(lambda: c.read_holding_registers(36, 4, slave=UNIT))
    expect(kind == "ok" and decoder(r.registers).decode_64bit_float() == 6.02e23, "a float64 set to 6.02e23 reads it")
    kind, r = outcome(lambda: c.read_holding_registers(40, 5, slave=UNIT))
    expect(kind == "ok" and decoder(r.registers).decode_string(10) == b"abc       ", "a string set to abc reads 'abc' padded")
    # And the other way: a Modbus write seen by the typed get.
    kind, _ = outcome(lambda: c.write_register(10, 777, slave=UNIT))
    expect(kind == "ok", "pymodbus writes register 10")
    got = api_ok("GET", "/devices/1/registers/holding_registers/10")["values"][0]
    expect(got["value"] == 777 and got["type"] == "uint16", "GET shows the value a Modbus client wrote")
    kind, _ = outcome(lambda: c.write_coil(18, False, slave=UNIT))
    expect(api_ok("GET", "/devices/1/registers/coils/18")["values"][0]["value"] is False, "GET shows a coil a client cleared")
    api_ok("PUT", "/devices/1/registers/coils/18", {"value": True})
    kind, r = outcome(lambda: c.read_coils(18, 1, slave=UNIT))
    expect(kind == "ok" and r.bits[0] is True, "a coil set via the API reads true over Modbus")
    c.close()


def offline():
    c = modbus(timeout=1)
    expect(outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))[0] == "ok", "the device answers while online")
    expect(api_ok("PUT", "/devices/1", {"online": False})["online"] is False, "PUT online false")
    kind, text = outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))
    expect(kind == "silence", f"an offline device does not answer Modbus ({text})")
    c.close()
    expect(api_ok("PUT", "/devices/1", {"online": True})["online"] is True, "PUT online true")
    c = modbus(timeout=3)
    expect(outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))[0] == "ok", "it answers again once back online")
    c.close()


def faults():
    c = modbus(timeout=1)
    api_ok("PUT", "/devices/1/faults/holding_registers/10", {"exception_code": 4})
    expect(outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT)) == ("exception", 4),
           "a register fault set via the API answers exception 04")
    expect(outcome(lambda: c.read_holding_registers(11, 1, slave=UNIT))[0] == "ok", "its neighbour still answers")
    listed = api_ok("GET", "/devices/1/faults")["register_faults"]
    expect(any(f["table"] == "holding_registers" and f["address"] == 10 and f["exception_code"] == 4 for f in listed),
           "GET faults lists it")
    api_ok("DELETE", "/devices/1/faults/holding_registers/10")
    expect(outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))[0] == "ok", "cleared, the register answers")
    api_ok("PUT", "/devices/1/fault", {"response": "exception", "exception_code": 6})
    expect(outcome(lambda: c.read_holding_registers(11, 1, slave=UNIT)) == ("exception", 6),
           "a device fault answers every request with its exception (06)")
    api_ok("PUT", "/devices/1/fault", {"response": "no_answer", "clear_after": 1})
    expect(outcome(lambda: c.read_holding_registers(11, 1, slave=UNIT))[0] == "silence", "a no_answer device fault is silent")
    c.close()
    expect(api_ok("GET", "/devices/1/fault")["fault"] is None, "clear_after 1 ended it")
    c = modbus(timeout=3)
    expect(outcome(lambda: c.read_holding_registers(11, 1, slave=UNIT))[0] == "ok", "then the device answers again")
    c.close()


def stream():
    url = BASE + "/calls/stream?unit=1&function_code=3"
    with urllib.request.urlopen(url, timeout=10) as events:
        expect(events.headers.get("Content-Type", "").startswith("text/event-stream"), "the stream is text/event-stream")
        expect(events.readline().strip() == b": subscribed", "it starts with ': subscribed'")
        c = modbus()
        outcome(lambda: c.write_register(10, 4321, slave=UNIT))  # FC 6: filtered out
        kind, r = outcome(lambda: c.read_holding_registers(10, 2, slave=UNIT))
        expect(kind == "ok", "pymodbus reads 10-11")
        lines = []
        for _ in range(10):  # one event: "event:", "data:", blank (after the comment's blank line)
            line = events.readline().decode().rstrip("\n")
            if line == "" and not lines:
                continue
            lines.append(line)
            if line == "":
                break
        expect(lines[0] == "event: call", f"a call event arrives ({lines})")
        call = json.loads(lines[1][len("data: "):])
        expect(call["function_code"] == 3 and call["unit"] == UNIT and call["address"] == 10 and call["count"] == 2,
               "it is the FC 3 read of 10-11 (the FC 6 write was filtered out)")
        expect(call["request"]["hex"] == "03 00 0a 00 02", "with the request in hex")
        expect(call["response"]["decoded"] == f"read_holding_registers registers=[4321, {r.registers[1]}]",
               "and the response decoded, as the client got it")
        c.close()


def close():
    c = modbus()
    expect(outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))[0] == "ok", "pymodbus reads once")
    port = c.socket.getsockname()[1]
    mine = [x for x in api_ok("GET", "/connections")["connections"] if x["peer"].endswith(f":{port}")]
    expect(len(mine) == 1 and mine[0]["requests"] == 1, f"GET connections lists it with 1 request ({mine})")
    closed = api_ok("DELETE", f"/connections/{mine[0]['id']}")
    expect(closed["closed"] == mine[0]["id"], "DELETE closes it")
    c.socket.settimeout(5)
    expect(c.socket.recv(1) == b"", "the client's socket sees the end of the connection")
    expect(not any(x["id"] == mine[0]["id"] for x in api_ok("GET", "/connections")["connections"]),
           "it is gone from the list")
    status, answer = api("DELETE", f"/connections/{mine[0]['id']}")
    expect(status == 404 and answer["error"]["code"] == "not_found", "closing it again is a 404")
    c.close()


def count_of(entries, code):
    return sum(x["count"] for x in entries if x["code"] == code)


def counters():
    before = api_ok("GET", "/counters")
    c = modbus()
    for _ in range(3):
        outcome(lambda: c.read_holding_registers(10, 1, slave=UNIT))
    outcome(lambda: c.read_holding_registers(0, 1, slave=UNIT))  # undefined: exception 02
    kind, r = outcome(lambda: c.execute(ReturnBusMessageCountRequest(slave=UNIT)))
    expect(kind == "ok", "FC 8/0B answers")
    fc8 = r.message[0] if isinstance(r.message, (list, tuple)) else r.message
    got = api_ok("GET", "/counters")
    fc3 = count_of(got["function_codes"], 3) - count_of(before["function_codes"], 3)
    expect(fc3 == 4, f"4 more FC 3 requests counted ({fc3})")
    expect(any(x["code"] == 3 and x["name"] == "read_holding_registers" for x in got["function_codes"]), "named as pymodbus does")
    ex2 = count_of(got["exceptions"], 2) - count_of(before["exceptions"], 2)
    expect(ex2 == 1, f"one more exception 02 counted ({ex2})")
    device, earlier = got["devices"][0], before["devices"][0]
    expect(device["diagnostics"]["bus_message"] == fc8, f"the device's bus message count is what FC 8/0B reported ({fc8})")
    expect(device["diagnostics"]["bus_exception_error"] - earlier["diagnostics"]["bus_exception_error"] == 1,
           "and its exception count grew by 1")
    c.close()


{"typed_set": typed_set, "offline": offline, "faults": faults, "stream": stream, "close": close,
 "counters": counters}[SCENARIO]()
print("PASS", SCENARIO, flush=True)
