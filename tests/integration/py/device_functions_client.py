#!/usr/bin/python3
"""pymodbus 3.0 client for tests/integration/device_functions_test.cc: FC 7, 8, 11, 12, 17, 20, 21, 43.

Usage: device_functions_client.py PORT
Connects to 127.0.0.1:PORT with pymodbus's ModbusTcpClient and runs the steps below in this order
(the C++ test checks the counters they leave, so the order matters), printing one JSON line each:
  {"op": NAME, "value": ...}        what pymodbus decoded from the answer
  {"op": NAME, "exception": CODE}   a Modbus exception response
  {"op": NAME, "error": TEXT}       no usable answer
then {"op": "done"}. Every step addresses unit 1 unless its name ends in "_unit2".
Run it with Debian's /usr/bin/python3 (python3-pymodbus). FC 24 is left to raw frames: pymodbus 3.0
decodes a FIFO answer's values wrongly (it loops over "count - 4"). The FC 8 requests are built
here with unit=1: pymodbus 3.0's diag_* helpers pass the slave id where the request expects its data.
"""
import json
import sys

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.diag_message import (  # noqa: E402
    ClearCountersRequest,
    RestartCommunicationsOptionRequest,
    ReturnBusExceptionErrorCountRequest,
    ReturnBusMessageCountRequest,
    ReturnQueryDataRequest,
    ReturnSlaveMessageCountRequest,
)
from pymodbus.file_message import (  # noqa: E402
    FileRecord,
    ReadFileRecordRequest,
    WriteFileRecordRequest,
)
from pymodbus.mei_message import ReadDeviceInformationRequest  # noqa: E402
from pymodbus.other_message import (  # noqa: E402
    GetCommEventCounterRequest,
    GetCommEventLogRequest,
    ReportSlaveIdRequest,
)


def step(name, call, decode):
    """Runs one request and prints what `decode` makes of the answer."""
    try:
        response = call()
        if isinstance(response, Exception):
            outcome = {"error": str(response)}
        elif response.isError():
            code = getattr(response, "exception_code", None)
            outcome = {"error": str(response)} if code is None else {"exception": code}
        else:
            outcome = {"value": decode(response)}
    except Exception as exc:  # pylint: disable=broad-except
        outcome = {"error": type(exc).__name__ + ": " + str(exc)}
    outcome["op"] = name
    print(json.dumps(outcome), flush=True)


def diag_value(response):
    return list(response.message) if isinstance(response.message, (list, tuple)) else [response.message]


def device_info(response):
    return {
        "conformity": response.conformity,
        "more_follows": response.more_follows,
        "next_object_id": response.next_object_id,
        "objects": {str(k): v.hex() for k, v in response.information.items()},
    }


def scenario(c):
    step("read_exception_status", lambda: c.read_exception_status(slave=1), lambda r: r.status)
    step("diag_query_data", lambda: c.execute(ReturnQueryDataRequest(0xA537, unit=1)), diag_value)
    step("report_server_id", lambda: c.execute(ReportSlaveIdRequest(unit=1)),
         lambda r: {"identifier": r.identifier.hex(), "status": r.status})
    step("read_file_record", lambda: c.execute(ReadFileRecordRequest([
        FileRecord(file_number=4, record_number=1, record_length=2),
        FileRecord(file_number=3, record_number=9, record_length=2)], unit=1)),
        lambda r: [rec.record_data.hex() for rec in r.records])
    step("write_file_record", lambda: c.execute(WriteFileRecordRequest([
        FileRecord(file_number=4, record_number=7, record_data=b"\x06\xaf\x04\xbe\x10\x0d")], unit=1)),
        lambda r: [[rec.file_number, rec.record_number, rec.record_data.hex()] for rec in r.records])
    step("read_file_record_after", lambda: c.execute(ReadFileRecordRequest([
        FileRecord(file_number=4, record_number=7, record_length=3)], unit=1)),
        lambda r: [rec.record_data.hex() for rec in r.records])
    step("device_info_basic", lambda: c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, unit=1)),
         device_info)
    step("device_info_extended_1", lambda: c.execute(ReadDeviceInformationRequest(read_code=3, object_id=0, unit=1)),
         device_info)
    step("device_info_extended_2",
         lambda: c.execute(ReadDeviceInformationRequest(read_code=3, object_id=0x81, unit=1)), device_info)
    step("device_info_extended_3",
         lambda: c.execute(ReadDeviceInformationRequest(read_code=3, object_id=0x82, unit=1)), device_info)
    step("device_info_missing", lambda: c.execute(ReadDeviceInformationRequest(read_code=4, object_id=5, unit=1)),
         device_info)
    step("bus_message_count", lambda: c.execute(ReturnBusMessageCountRequest(unit=1)), diag_value)
    step("bus_exception_count", lambda: c.execute(ReturnBusExceptionErrorCountRequest(unit=1)), diag_value)
    step("server_message_count", lambda: c.execute(ReturnSlaveMessageCountRequest(unit=1)), diag_value)
    step("comm_event_counter", lambda: c.execute(GetCommEventCounterRequest(unit=1)),
         lambda r: {"status": r.status, "count": r.count})
    step("comm_event_log", lambda: c.execute(GetCommEventLogRequest(unit=1)),
         lambda r: {"status": r.status, "event_count": r.event_count, "message_count": r.message_count,
                    "events": r.events})
    step("clear_counters", lambda: c.execute(ClearCountersRequest(unit=1)), diag_value)
    step("bus_message_count_after_clear", lambda: c.execute(ReturnBusMessageCountRequest(unit=1)), diag_value)
    step("restart", lambda: c.execute(RestartCommunicationsOptionRequest(False, unit=1)), diag_value)
    step("comm_event_log_after_restart", lambda: c.execute(GetCommEventLogRequest(unit=1)),
         lambda r: {"status": r.status, "event_count": r.event_count, "message_count": r.message_count,
                    "events": r.events})
    step("device_info_basic_unit2",
         lambda: c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, unit=2)), device_info)
    step("report_server_id_unit2", lambda: c.execute(ReportSlaveIdRequest(unit=2)),
         lambda r: {"identifier": r.identifier.hex(), "status": r.status})


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: device_functions_client.py PORT")
    client = ModbusTcpClient("127.0.0.1", port=int(argv[1]), timeout=3, retries=0)
    if not client.connect():
        sys.exit(f"cannot connect to 127.0.0.1:{argv[1]}")
    try:
        scenario(client)
    finally:
        client.close()
    print(json.dumps({"op": "done"}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
