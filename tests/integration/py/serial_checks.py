"""The function-code checks serial_client.py and udp_client.py both run (pymodbus 3.0 sync client)."""


def run_checks(client, unit, missing_unit):
    failures = []

    def check(name, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + name + ((": " + str(detail)) if not ok else ""))
        if not ok:
            failures.append(name)

    def good(rr):
        return rr is not None and not rr.isError()

    rr = client.read_discrete_inputs(0, 4, slave=unit)
    check("fc2 read discrete inputs", good(rr) and rr.bits[:4] == [True, False, True, True], rr)

    rr = client.read_input_registers(0, 3, slave=unit)
    check("fc4 read input registers", good(rr) and rr.registers == [300, 301, 302], rr)

    rr = client.read_holding_registers(0, 3, slave=unit)
    check("fc3 read holding registers", good(rr) and rr.registers == [100, 101, 102], rr)

    rr = client.write_coils(0, [True, False, True, True, False, True, False, False, True], slave=unit)
    check("fc15 write coils", good(rr), rr)
    rr = client.read_coils(0, 9, slave=unit)
    check("fc1 read coils", good(rr) and rr.bits[:9] == [True, False, True, True, False, True, False, False, True], rr)

    rr = client.write_coil(20, True, slave=unit)
    check("fc5 write coil", good(rr), rr)
    rr = client.read_coils(20, 1, slave=unit)
    check("fc5 coil reads back", good(rr) and rr.bits[0] is True, rr)

    rr = client.write_register(10, 1234, slave=unit)
    check("fc6 write register", good(rr), rr)
    rr = client.write_registers(20, [1, 2, 3], slave=unit)
    check("fc16 write registers", good(rr), rr)
    rr = client.read_holding_registers(10, 13, slave=unit)
    check("fc6/fc16 read back", good(rr) and rr.registers[0] == 1234 and rr.registers[10:13] == [1, 2, 3], rr)

    rr = client.mask_write_register(address=30, and_mask=0x00F2, or_mask=0x0025, unit=unit)
    check("fc22 mask write register", good(rr), rr)
    rr = client.read_holding_registers(30, 1, slave=unit)
    check("fc22 result", good(rr) and rr.registers[0] == 0x0017, rr)

    rr = client.readwrite_registers(read_address=0, read_count=3, write_address=40, write_registers=[7, 8, 9], unit=unit)
    check("fc23 read/write registers", good(rr) and rr.registers == [100, 101, 102], rr)
    rr = client.read_holding_registers(40, 3, slave=unit)
    check("fc23 write part", good(rr) and rr.registers == [7, 8, 9], rr)

    rr = client.read_holding_registers(5000, 1, slave=unit)
    check("illegal address gives exception 2", rr is not None and rr.isError() and getattr(rr, "exception_code", None) == 2, rr)

    if missing_unit is not None:
        try:
            rr = client.read_holding_registers(0, 1, slave=missing_unit)
            silent = rr is None or (rr.isError() and not hasattr(rr, "exception_code"))
        except Exception:  # noqa: BLE001 - pymodbus raises ModbusIOException on silence
            silent = True
        check("a missing unit is silence", silent, rr)

        rr = client.read_holding_registers(1, 1, slave=unit)
        check("still in step after the silence", good(rr) and rr.registers == [101], rr)

    print("OK" if not failures else "FAILED " + ", ".join(failures))
    return 0 if not failures else 1
