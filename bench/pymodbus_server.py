#!/usr/bin/python3
"""pymodbus-server: the benchmark's Python peer — Debian's pymodbus 3.0 asyncio TCP server with
10000 of each table for unit 1. Run it with /usr/bin/python3 (Debian's), not a pyenv python.
Usage: pymodbus_server.py PORT. Prints "listening on PORT" when ready."""
import asyncio
import logging
import sys
import types

# Debian's pymodbus 3.0 imports serial_asyncio at module level even for TCP servers; the package
# that provides it (python3-serial-asyncio) is not a dependency. Nothing here uses a serial line,
# so stand in an empty module when it is missing.
try:
    import serial_asyncio  # noqa: F401
except ImportError:
    sys.modules["serial_asyncio"] = types.ModuleType("serial_asyncio")
    sys.modules["serial_asyncio"].create_serial_connection = None

from pymodbus.datastore import (  # noqa: E402
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.server import StartAsyncTcpServer  # noqa: E402

TABLE_SIZE = 10000


async def main(port):
    def block():
        return ModbusSequentialDataBlock(0, [0] * TABLE_SIZE)

    # zero_mode: address 0 on the wire is element 0 (pymodbus otherwise adds 1).
    device = ModbusSlaveContext(di=block(), co=block(), hr=block(), ir=block(), zero_mode=True)
    context = ModbusServerContext(slaves={1: device}, single=False)
    server = await StartAsyncTcpServer(
        context, address=("127.0.0.1", port), defer_start=True, backlog=1024, allow_reuse_address=True
    )
    serving = asyncio.ensure_future(server.serve_forever())
    await server.serving
    bound = server.server.sockets[0].getsockname()[1]
    print(f"listening on {bound}", flush=True)
    await serving


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) > 65535:
        sys.stderr.write("usage: pymodbus_server.py PORT\n")
        sys.exit(2)
    # pymodbus 3.0 logs an ERROR line for every client that disconnects (and configures the root
    # logger itself on import): keep the output to the readiness line.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        asyncio.run(main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
