"""Imported first by the pymodbus client scripts of the integration tests.

pymodbus 3.0's pymodbus.client imports serial_asyncio unconditionally, but only its serial client
uses it; without python3-serial-asyncio installed, a stub lets the TCP and UDP clients load.
"""
import sys
import types

try:
    import serial_asyncio  # noqa: F401
except ImportError:
    _stub = types.ModuleType("serial_asyncio")
    _stub.create_serial_connection = None
    sys.modules["serial_asyncio"] = _stub
