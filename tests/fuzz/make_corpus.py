#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_modbus_server: one file per interesting request, each prefixed by
the two control bytes the target reads (framer: 0 MBAP, 1 RTU, 2 ASCII, 0xF0 bare PDU over TLS;
read size - 1). Modbus/TCP Security carries the MBAP frames unchanged, so the mbap_ seeds cover it;
the tls_bare_ seeds are the bare-PDU framing of old pymodbus TLS peers, one PDU per TLS record.
Also writes corpus/config/: configurations for fuzz_config, from config/default.json, every JSON example
of the docs (a server entry or table alone is put into a whole configuration) and a few that reach the
keys the docs do not show."""
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))

PDUS = {
    "fc01": bytes([1, 0, 0, 0, 10]),
    "fc02": bytes([2, 0, 5, 0, 20]),
    "fc03": bytes([3, 0, 0, 0, 10]),
    "fc03_max": bytes([3, 0, 0, 0, 125]),
    "fc03_over": bytes([3, 0, 0, 0, 126]),
    "fc04": bytes([4, 0, 0, 0, 3]),
    "fc05_on": bytes([5, 0, 1, 0xFF, 0]),
    "fc05_bad": bytes([5, 0, 1, 0x12, 0x34]),
    "fc06": bytes([6, 0, 2, 0x12, 0x34]),
    "fc0f": bytes([15, 0, 0, 0, 10, 2, 0xFF, 0x03]),
    "fc0f_badcount": bytes([15, 0, 0, 0, 10, 1, 0xFF]),
    "fc10": bytes([16, 0, 0, 0, 2, 4, 0, 1, 0, 2]),
    "fc10_short": bytes([16, 0, 0, 0, 2, 4, 0, 1]),
    "fc16_mask": bytes([22, 0, 4, 0xF2, 0xF2, 0x00, 0x25]),
    "fc17_rw": bytes([23, 0, 3, 0, 6, 0, 14, 0, 3, 6, 0, 0xFF, 0, 0xFF, 0, 0xFF]),
    "unknown": bytes([0x41, 1, 2, 3]),
    "sparse_gap": bytes([3, 0, 8, 0, 5]),
    "addr_wrap": bytes([3, 0xFF, 0xFF, 0, 2]),
    # Device functions (issue 3): unit 1 of the fuzz target has file 1 (20 records), a FIFO at 5 and
    # identification objects that need several PDUs.
    "fc07": bytes([7]),
    "fc08_query": bytes([8, 0, 0, 0xA5, 0x37]),
    "fc08_bus_count": bytes([8, 0, 0x0B, 0, 0]),
    "fc08_bad_sub": bytes([8, 0, 0x13, 0, 0]),
    "fc08_clear": bytes([8, 0, 0x0A, 0, 0]),
    "fc0b": bytes([0x0B]),
    "fc0c": bytes([0x0C]),
    "fc11": bytes([0x11]),
    "fc14": bytes([0x14, 14, 6, 0, 1, 0, 0, 0, 2, 6, 0, 1, 0, 18, 0, 2]),
    "fc14_badcount": bytes([0x14, 6, 6, 0, 1, 0, 0, 0]),
    "fc14_absent": bytes([0x14, 7, 6, 0, 9, 0, 0, 0, 1]),
    "fc15": bytes([0x15, 11, 6, 0, 1, 0, 3, 0, 2, 0x12, 0x34, 0x56, 0x78]),
    "fc15_untiled": bytes([0x15, 11, 6, 0, 1, 0, 3, 0, 3, 0x12, 0x34, 0x56, 0x78]),
    "fc18": bytes([0x18, 0, 5]),
    "fc18_absent": bytes([0x18, 0, 6]),
    "fc2b_basic": bytes([0x2B, 0x0E, 1, 0]),
    "fc2b_extended": bytes([0x2B, 0x0E, 3, 0]),
    "fc2b_next": bytes([0x2B, 0x0E, 3, 0x81]),
    "fc2b_individual": bytes([0x2B, 0x0E, 4, 0x80]),
    "fc2b_absent": bytes([0x2B, 0x0E, 4, 0x05]),
    "fc2b_canopen": bytes([0x2B, 0x0D, 0]),
}


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def mbap(tid, unit, pdu, proto=0):
    return struct.pack(">HHHB", tid, proto, len(pdu) + 1, unit) + pdu


def rtu(unit, pdu):
    adu = bytes([unit]) + pdu
    return adu + crc16(adu)


def ascii_frame(unit, pdu):
    adu = bytes([unit]) + pdu
    lrc = (-sum(adu)) & 0xFF
    return b":" + (adu + bytes([lrc])).hex().upper().encode() + b"\r\n"


def write(name, framer, step, payload):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([framer, step]) + payload)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, pdu in PDUS.items():
        unit = 2 if name == "sparse_gap" else 1
        write(f"mbap_{name}", 0, 63, mbap(7, unit, pdu))
        write(f"rtu_{name}", 1, 63, rtu(unit, pdu))
        write(f"ascii_{name}", 2, 63, ascii_frame(unit, pdu))
    pipelined = b"".join(mbap(i, 1, PDUS["fc03"]) for i in range(8))
    write("mbap_pipelined_split", 0, 4, pipelined)
    write("mbap_protocol_id", 0, 63, mbap(1, 1, PDUS["fc03"], proto=5) + mbap(2, 1, PDUS["fc03"]))
    write("mbap_bad_length", 0, 63, struct.pack(">HHHB", 1, 0, 300, 1) + PDUS["fc03"])
    write("mbap_missing_unit", 0, 63, mbap(3, 9, PDUS["fc03"]))
    write("rtu_noise_then_frame", 1, 2, b"\x00\xff\x13" + rtu(1, PDUS["fc03"]))
    write("rtu_bad_crc", 1, 63, rtu(1, PDUS["fc03"])[:-1] + b"\x00" + rtu(1, PDUS["fc06"]))
    write("ascii_bad_hex", 2, 63, b":01GG\r\n" + ascii_frame(1, PDUS["fc03"]))
    write("ascii_restart", 2, 3, b":0103" + ascii_frame(1, PDUS["fc06"]))
    # Listen-only mode and back: FC 8/04, a write that must be ignored, FC 8/01 clearing the log, a read.
    listen_only = [bytes([8, 0, 4, 0, 0]), PDUS["fc06"], bytes([8, 0, 1, 0xFF, 0]), PDUS["fc03"]]
    write("mbap_fc08_listen_only", 0, 63, b"".join(mbap(i, 1, pdu) for i, pdu in enumerate(listen_only)))
    write("rtu_fc08_listen_only", 1, 63, b"".join(rtu(1, pdu) for pdu in listen_only))
    # Bare PDUs in TLS records (pymodbus 2.x-3.7): each read is one whole PDU for unit 1.
    for name in ("fc03", "fc06", "fc10", "fc10_short", "fc17_rw", "unknown", "fc08_query", "fc2b_basic"):
        if name in PDUS:
            write(f"tls_bare_{name}", 0xF0, len(PDUS[name]) - 1, PDUS[name])
    records = [PDUS["fc06"], PDUS["fc03"], PDUS["fc05_bad"]]
    write("tls_bare_records", 0xF0, len(PDUS["fc06"]) - 1, b"".join(records))
    # FC 8/03: the ASCII input delimiter becomes '!', then a frame ending CR '!'.
    write("ascii_fc08_delimiter", 2, 63,
          ascii_frame(1, bytes([8, 0, 3, 0x21, 0])) + ascii_frame(1, PDUS["fc03"])[:-1] + b"!")
    write_configs()


# Configurations the docs do not show: every kind of endpoint and the device keys.
EXTRA_CONFIGS = {
    "endpoints": {
        "servers": [
            {"endpoint": "udp:5020:interface=127.0.0.1", "framer": "rtu"},
            {"endpoint": "serial:/dev/ttyS0:baudrate=19200:parity=E", "framer": "ascii",
             "ignore_missing_slaves": False},
            {"endpoint": "tcp6:5021:interface=\\:\\:1", "max_connections_per_peer": 8, "frame_timeout": 2.5,
             "max_buffered_output": 65536, "max_input_buffer": 1024, "connection_log_burst": 3,
             "connection_log_window": 10, "broadcast_enable": True, "missing_unit": "silent"},
            {"endpoint": "tls:8020:cert=c.pem:key=k.pem:ca=ca.pem:curves=x25519", "tls_framing": "bare_pdu",
             "bare_pdu_unit": 1, "default_role": None},
        ],
        "state_changing_diagnostics": False,
        "units": {"1": {"coils": {"count": 8}}},
    },
    "devices": {
        "servers": [{"endpoint": "tcp:5020"}],
        "units": {
            "1": {"holding_registers": {"sparse": {"10": [1, 2]}, "mutable": True}, "address_offset": -1,
                  "server_id": {"id": [1, 2], "run_indicator": True, "data": [3]}, "exception_status": 5,
                  "files": {"1": {"records": [1, 2], "count": 4, "fill": 9}, "0x2": {"count": 3}},
                  "fifos": {"0x10": [1, 2, 3]}, "identity": {"0x80": "private", "VendorUrl": "x"}},
            "2": {"remote": {"endpoint": "tcp:127.0.0.1:1502", "unit": 3, "timeout": 0.5}},
        },
    },
}


def write_configs():
    out = os.path.join(OUT, "config")
    os.makedirs(out, exist_ok=True)

    def save(name, text):
        with open(os.path.join(out, name + ".json"), "w") as f:
            f.write(text)

    with open(os.path.join(ROOT, "config", "default.json")) as f:
        save("default", f.read())
    for doc in ("README.md", "docs/configuration.md", "docs/tls.md", "docs/hardening.md"):
        path = os.path.join(ROOT, doc)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            blocks = re.findall(r"```json\n(.*?)```", f.read(), re.S)
        stem = os.path.splitext(os.path.basename(doc))[0]
        for i, block in enumerate(blocks):
            text = block.strip()
            if text.startswith("{") and '"servers"' not in text and '"endpoint"' in text:
                text = '{"servers": [%s], "units": {"1": {"coils": {"count": 1}}}}' % text
            elif not text.startswith("{"):
                text = '{"servers": [{"endpoint": "tcp:5020"}], "units": {"1": {%s}}}' % text
            save(f"{stem}_{i}", text + "\n")
    for name, config in EXTRA_CONFIGS.items():
        save(name, json.dumps(config, indent=1) + "\n")


if __name__ == "__main__":
    main()
