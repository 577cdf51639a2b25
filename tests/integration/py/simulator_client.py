#!/usr/bin/python3
"""pymodbus 3.0 client for tests/integration/simulator_test.cc: reads typed values from
uvmodbus-simulator serving config/simulator.json (on the port given) and decodes them with
pymodbus's own BinaryPayloadDecoder.

Usage: simulator_client.py PORT
Prints one JSON line per step, {"op": NAME, "value": ...} or {"op": NAME, "exception": CODE}
(or "error"), then {"op": "done"}. Run it with Debian's /usr/bin/python3 (python3-pymodbus).
"""
import json
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.constants import Endian  # noqa: E402
from pymodbus.payload import BinaryPayloadDecoder  # noqa: E402

UNIT = 1


def emit(op, **fields):
    print(json.dumps(dict(op=op, **fields)), flush=True)


def step(op, request, decode=None):
    try:
        response = request()
    except Exception as error:  # noqa: BLE001  (pymodbus raises several kinds)
        emit(op, error=str(error))
        return
    if response.isError():
        code = getattr(response, "exception_code", None)
        if code is None:
            emit(op, error=str(response))
        else:
            emit(op, exception=code)
        return
    emit(op, value=decode(response) if decode else None)


def regs(word_order=Endian.Big):
    return lambda r: BinaryPayloadDecoder.fromRegisters(r.registers, byteorder=Endian.Big, wordorder=word_order)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    client = ModbusTcpClient("127.0.0.1", port=int(argv[1]), timeout=5, retries=0)
    if not client.connect():
        sys.stderr.write("cannot connect\n")
        sys.exit(1)
    c = client
    step("uint32", lambda: c.read_holding_registers(20, 2, slave=UNIT), lambda r: regs()(r).decode_32bit_uint())
    step("float32", lambda: c.read_holding_registers(30, 2, slave=UNIT),
         lambda r: round(regs()(r).decode_32bit_float(), 2))
    step("float32_little", lambda: c.read_holding_registers(34, 2, slave=UNIT),
         lambda r: regs(Endian.Little)(r).decode_32bit_float())
    step("float64", lambda: c.read_holding_registers(36, 4, slave=UNIT), lambda r: regs()(r).decode_64bit_float())
    step("int16", lambda: c.read_input_registers(15, 1, slave=UNIT), lambda r: regs()(r).decode_16bit_int())
    step("string", lambda: c.read_holding_registers(40, 5, slave=UNIT),
         lambda r: regs()(r).decode_string(10).decode())
    step("increment_1", lambda: c.read_holding_registers(11, 1, slave=UNIT), lambda r: r.registers[0])
    step("increment_2", lambda: c.read_holding_registers(11, 1, slave=UNIT), lambda r: r.registers[0])
    step("uint32_half", lambda: c.read_holding_registers(21, 1, slave=UNIT))
    step("invalid", lambda: c.read_holding_registers(0, 1, slave=UNIT))
    step("coils", lambda: c.read_coils(16, 4, slave=UNIT), lambda r: [int(b) for b in r.bits[:4]])
    step("write", lambda: c.write_register(10, 4321, slave=UNIT), lambda r: r.value)
    step("read_back", lambda: c.read_holding_registers(10, 1, slave=UNIT), lambda r: r.registers[0])
    step("write_readonly", lambda: c.write_register(11, 1, slave=UNIT))
    client.close()
    emit("done")


if __name__ == "__main__":
    main(sys.argv)
