#!/usr/bin/python3
"""pymodbus 3.0 serial client against a uvmodbus serial server: every implemented function code.

Run by tests/integration/serial_test.cc with the path of the far end of a pseudo-terminal link.
The server's unit holds: discrete inputs 0..3 = 1,0,1,1; input registers 0..2 = 300,301,302;
holding registers 0..9 = 100..109 and 30 = 0x0012. Prints one line per check; exit 0 when all pass.
"""
import argparse
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusSerialClient  # noqa: E402
from pymodbus.framer.ascii_framer import ModbusAsciiFramer
from pymodbus.framer.rtu_framer import ModbusRtuFramer

from serial_checks import run_checks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    parser.add_argument("--framer", choices=["rtu", "ascii"], default="rtu")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--missing-unit", type=int, default=9)
    args = parser.parse_args()
    framer = ModbusRtuFramer if args.framer == "rtu" else ModbusAsciiFramer
    client = ModbusSerialClient(args.port, framer=framer, baudrate=args.baudrate, timeout=1, retries=0)
    if not client.connect():
        print("FAIL cannot open", args.port)
        return 2
    try:
        return run_checks(client, args.unit, args.missing_unit)
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
