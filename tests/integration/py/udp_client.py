#!/usr/bin/python3
"""pymodbus 3.0 UDP client against a uvmodbus UDP server: every implemented function code.

Run by tests/integration/udp_test.cc with the server's port on 127.0.0.1. The server's unit holds
the values serial_client.py describes. Exit 0 when every check passes.
"""
import argparse
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusUdpClient  # noqa: E402
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer

from serial_checks import run_checks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--framer", choices=["socket", "rtu"], default="socket")
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--missing-unit", type=int, default=None)
    args = parser.parse_args()
    framer = ModbusSocketFramer if args.framer == "socket" else ModbusRtuFramer
    client = ModbusUdpClient("127.0.0.1", port=args.port, framer=framer, timeout=1, retries=0)
    if not client.connect():
        print("FAIL cannot create the UDP socket")
        return 2
    try:
        return run_checks(client, args.unit, args.missing_unit)
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
