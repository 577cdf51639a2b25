#!/usr/bin/python3
"""pymodbus 3.0 client for tests/integration/pymodbus_test.cc.

Usage: pymodbus_client.py PORT SCENARIO TABLE_SIZE
Connects to 127.0.0.1:PORT with pymodbus's ModbusTcpClient (unit 1 unless a step says otherwise),
runs the steps of SCENARIO and prints one JSON line per step:
  {"op": NAME, "value": ...}        the decoded answer (bits, registers, or the echoed write)
  {"op": NAME, "exception": CODE}   a Modbus exception response
  {"op": NAME, "error": TEXT}       no usable answer (pymodbus's ModbusIOException and the like)
It exits 0 after the last step, or non-zero with a message on stderr when it cannot run at all.
The C++ test seeds the datastore before and checks both these lines and the datastore after.
Run it with Debian's /usr/bin/python3 (python3-pymodbus).
"""
import json
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.pdu import ModbusRequest, ModbusResponse  # noqa: E402

UNIT = 1


class UnknownFunctionRequest(ModbusRequest):
    """A request with function code 0x41, which no server implements unless told to."""

    function_code = 0x41
    _rtu_frame_size = 6

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def encode(self):
        return b"\x01\x02"

    def decode(self, data):
        pass

    def get_response_pdu_size(self):
        return 3


def describe(response):
    """The JSON-able outcome of one request."""
    if isinstance(response, Exception):
        return {"error": str(response)}
    if response.isError():
        code = getattr(response, "exception_code", None)
        if code is None:
            return {"error": str(response)}
        return {"exception": code}
    if hasattr(response, "bits"):
        return {"value": [1 if b else 0 for b in response.bits]}
    if hasattr(response, "registers"):
        return {"value": list(response.registers)}
    if hasattr(response, "and_mask"):
        return {"value": [response.address, response.and_mask, response.or_mask]}
    if hasattr(response, "count"):
        return {"value": [response.address, response.count]}
    if hasattr(response, "value"):
        value = response.value
        if isinstance(value, bool):
            value = 1 if value else 0
        return {"value": [response.address, value]}
    return {"error": "undecoded response " + type(response).__name__}


def step(name, call, count=None):
    """Runs one request and prints its outcome (bit lists cut to `count`: pymodbus pads to bytes)."""
    try:
        outcome = describe(call())
    except Exception as exc:  # pylint: disable=broad-except
        outcome = {"error": type(exc).__name__ + ": " + str(exc)}
    if count is not None and "value" in outcome:
        outcome["value"] = outcome["value"][:count]
    outcome["op"] = name
    print(json.dumps(outcome), flush=True)


def functions(c, size):
    """Every function code once, on the values the test seeded, then its limits."""
    step("read_coils", lambda: c.read_coils(0, 10, slave=UNIT), 10)
    step("read_discrete_inputs", lambda: c.read_discrete_inputs(0, 10, slave=UNIT), 10)
    step("read_holding_registers", lambda: c.read_holding_registers(0, 10, slave=UNIT))
    step("read_input_registers", lambda: c.read_input_registers(3, 4, slave=UNIT))
    step("write_coil", lambda: c.write_coil(1, True, slave=UNIT))
    step("write_register", lambda: c.write_register(5, 0xBEEF, slave=UNIT))
    bits = [True, True, False, True, False, True, False, True, True, False, True]
    step("write_coils", lambda: c.write_coils(20, bits, slave=UNIT))
    step("write_registers", lambda: c.write_registers(100, [1, 0x8000, 0xFFFF], slave=UNIT))
    step("mask_write_register", lambda: c.mask_write_register(address=7, and_mask=0xF2, or_mask=0x25, unit=UNIT))
    step("readwrite_registers", lambda: c.readwrite_registers(
        read_address=1, read_count=4, write_address=2, write_registers=[7000, 7001], unit=UNIT))
    step("read_coils_after", lambda: c.read_coils(0, 3, slave=UNIT), 3)
    step("read_coils_written", lambda: c.read_coils(20, 12, slave=UNIT), 12)
    step("read_holding_after", lambda: c.read_holding_registers(0, 10, slave=UNIT))
    # The largest quantity of each function code.
    step("read_coils_2000", lambda: c.read_coils(size - 2000, 2000, slave=UNIT), 2000)
    step("read_discrete_inputs_2000", lambda: c.read_discrete_inputs(0, 2000, slave=UNIT), 2000)
    step("read_holding_registers_125", lambda: c.read_holding_registers(0, 125, slave=UNIT))
    step("read_input_registers_125", lambda: c.read_input_registers(size - 125, 125, slave=UNIT))
    step("write_coils_1968", lambda: c.write_coils(2000, [True] * 1968, slave=UNIT))
    step("write_registers_123", lambda: c.write_registers(1000, list(range(1000, 1123)), slave=UNIT))
    step("readwrite_registers_125_121", lambda: c.readwrite_registers(
        read_address=1000, read_count=125, write_address=3000, write_registers=list(range(121)), unit=UNIT))


def exceptions(c, size):
    """Quantities one past the limit (03), ranges past the end (02); none of the writes may land."""
    step("read_coils_2001", lambda: c.read_coils(0, 2001, slave=UNIT))
    step("read_discrete_inputs_0", lambda: c.read_discrete_inputs(0, 0, slave=UNIT))
    step("read_holding_registers_126", lambda: c.read_holding_registers(0, 126, slave=UNIT))
    step("read_input_registers_126", lambda: c.read_input_registers(0, 126, slave=UNIT))
    step("write_coils_1969", lambda: c.write_coils(0, [True] * 1969, slave=UNIT))
    step("readwrite_read_126", lambda: c.readwrite_registers(
        read_address=0, read_count=126, write_address=0, write_registers=[9], unit=UNIT))
    last = size - 1
    step("read_coils_past_end", lambda: c.read_coils(last, 2, slave=UNIT))
    step("read_discrete_inputs_past_end", lambda: c.read_discrete_inputs(size, 1, slave=UNIT))
    step("read_holding_registers_past_end", lambda: c.read_holding_registers(last, 2, slave=UNIT))
    step("read_input_registers_past_end", lambda: c.read_input_registers(0xFFFF, 1, slave=UNIT))
    step("write_coil_past_end", lambda: c.write_coil(size, True, slave=UNIT))
    step("write_register_past_end", lambda: c.write_register(size, 1, slave=UNIT))
    step("write_coils_past_end", lambda: c.write_coils(last, [True, True], slave=UNIT))
    step("write_registers_past_end", lambda: c.write_registers(last, [1, 2], slave=UNIT))
    step("mask_write_register_past_end", lambda: c.mask_write_register(
        address=size, and_mask=0, or_mask=0xFFFF, unit=UNIT))
    step("readwrite_read_past_end", lambda: c.readwrite_registers(
        read_address=last, read_count=2, write_address=0, write_registers=[9], unit=UNIT))
    step("read_holding_after", lambda: c.read_holding_registers(0, 2, slave=UNIT))


def unknown_function(c, _size):
    """Function code 0x41: exception 01, matched to the request by its transaction id."""
    step("unknown_function", lambda: c.execute(UnknownFunctionRequest(unit=UNIT)))
    step("unknown_function_again", lambda: c.execute(UnknownFunctionRequest(unit=UNIT)))
    step("read_after", lambda: c.read_holding_registers(0, 1, slave=UNIT))


def missing_unit(c, _size):
    """Unit 2 has no device: exception 0x0B; unit 1 still answers."""
    step("read_unit_2", lambda: c.read_holding_registers(0, 1, slave=2))
    step("write_unit_2", lambda: c.write_register(0, 5, slave=2))
    step("read_unit_0", lambda: c.read_coils(0, 1, slave=0))
    step("read_unit_1", lambda: c.read_holding_registers(0, 1, slave=UNIT))


def roundtrip(c, size):
    """Reads the first holding registers, writes registers and coils, reads them back."""
    step("read_holding_registers", lambda: c.read_holding_registers(0, 4, slave=UNIT))
    step("write_registers", lambda: c.write_registers(10, [10, 20, 30], slave=UNIT))
    step("write_coils", lambda: c.write_coils(3, [True, False, True], slave=UNIT))
    step("read_holding_back", lambda: c.read_holding_registers(10, 3, slave=UNIT))
    step("read_coils_back", lambda: c.read_coils(3, 3, slave=UNIT), 3)
    step("read_input_registers", lambda: c.read_input_registers(0, 2, slave=UNIT))
    step("read_past_end", lambda: c.read_holding_registers(size - 1, 2, slave=UNIT))


SCENARIOS = {
    "functions": functions,
    "exceptions": exceptions,
    "unknown_function": unknown_function,
    "missing_unit": missing_unit,
    "roundtrip": roundtrip,
}


def main(argv):
    if len(argv) != 4 or argv[2] not in SCENARIOS:
        sys.exit("usage: pymodbus_client.py PORT {" + "|".join(SCENARIOS) + "} TABLE_SIZE")
    port, scenario, size = int(argv[1]), argv[2], int(argv[3])
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    if not client.connect():
        sys.exit(f"cannot connect to 127.0.0.1:{port}")
    try:
        SCENARIOS[scenario](client, size)
    finally:
        client.close()
    print(json.dumps({"op": "done"}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
