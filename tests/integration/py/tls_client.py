#!/usr/bin/python3
"""A Modbus/TCP Security client for uvmodbus's TLS tests: pymodbus 3.0's asynchronous TLS client.

pymodbus 3.0 (Debian 12) frames TLS with ModbusTlsFramer, a bare PDU per TLS record; with
--framer mbap it uses ModbusSocketFramer instead, the MBAP ADU that Modbus/TCP Security prescribes.
One line per step on stdout:
  connected
  read 17 17 17          (or: read exception 1 / read error TEXT)
  write ok               (or: write exception 1 / write error TEXT)
Exit code 0 when every step got an answer (an exception response is an answer), 1 otherwise.
"""
import argparse
import asyncio
import ssl
import sys

from pymodbus.client import AsyncModbusTlsClient
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.framer.tls_framer import ModbusTlsFramer


def describe(op, rr):
    if rr is None:
        return f"{op} error no response"
    if rr.isError():
        code = getattr(rr, "exception_code", None)
        return f"{op} exception {code}" if code is not None else f"{op} error {rr}"
    if op == "read":
        return "read " + " ".join(str(v) for v in rr.registers)
    return "write ok"


async def run(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=args.ca)
    ctx.check_hostname = True
    ctx.load_cert_chain(certfile=args.cert, keyfile=args.key)
    framer = ModbusSocketFramer if args.framer == "mbap" else ModbusTlsFramer
    client = AsyncModbusTlsClient("127.0.0.1", port=args.port, framer=framer, sslctx=ctx,
                                  server_hostname="localhost", timeout=3, retries=0,
                                  reconnect_delay=0)
    await asyncio.wait_for(client.connect(), 10)
    if not client.connected:
        print("not connected", flush=True)
        return 1
    print("connected", flush=True)
    ok = True
    for op in args.ops.split(","):
        try:
            if op == "read":
                rr = await client.read_holding_registers(args.address, 3, slave=args.unit)
            else:
                rr = await client.write_register(args.address, args.value, slave=args.unit)
            line = describe(op, rr)
        except Exception as exc:  # pylint: disable=broad-except
            line = f"{op} error {type(exc).__name__}: {exc}"
        ok = ok and " error " not in line
        print(line, flush=True)
    await client.close()
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--framer", choices=["mbap", "tls"], default="mbap")
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--address", type=int, default=0)
    parser.add_argument("--value", type=int, default=42)
    parser.add_argument("--ops", default="read,write")
    args = parser.parse_args()
    sys.exit(asyncio.run(asyncio.wait_for(run(args), 30)))


if __name__ == "__main__":
    main()
