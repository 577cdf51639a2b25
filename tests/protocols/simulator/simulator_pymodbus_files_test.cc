// pymodbus's own setup files load and serve what pymodbus's documentation says: the shipped
// default setup.json (devices "device" and "device_try", servers of every comm) and the full
// example of its documentation (both in tests/protocols/simulator/data/), read through
// RequestProcessor with real PDUs.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "protocols/simulator/simulator_setup.h"
#include "tests/protocols/simulator/simulator_test_support.h"

namespace modbus::simulator {
namespace {

using namespace testing;

TEST_CASE("simulator: pymodbus default setup.json, device: documented values and rules") {
  ServedDevice d(fixture("pymodbus_default_setup.json"), "device");
  CHECK(d.device.warnings.empty());
  CHECK(d.device.layout.cellCount() == 63000);
  CHECK(d.run(pdu(3, {3, 1})) == registersReply(3, {17001}));
  CHECK(d.run(pdu(3, {1, 1})) == exceptionReply(3, 2));                   // invalid
  CHECK(d.run(pdu(3, {4, 2})) == registersReply(3, {0x0009, 0x6A29}));    // uint32 617001, no action
  CHECK(d.run(pdu(3, {5, 1})) == exceptionReply(3, 2));                   // type exception
  CHECK(d.run(pdu(3, {6, 2})) == registersReply(3, {0x43CA, 0x95C3}));    // 404.17 + 1 (default increment)
  CHECK(d.run(pdu(3, {2100, 1})) == registersReply(3, {1}));              // default action increment
  CHECK(d.run(pdu(3, {2100, 1})) == registersReply(3, {2}));
  CHECK(d.run(pdu(3, {3037, 2})) == registersReply(3, {0, 1}));
  CHECK(d.run(pdu(3, {16, 5})) == registersReply(3, {0x415F, 0x425F, 0x435F, 0x445F, 0x455F}));  // A_B_C_D_E_
  CHECK(d.run(pdu(4, {5047, 1})) == registersReply(4, {0x2020}));         // default string " ", padded
  CHECK(d.run(pdu(1, {32, 3})) == Bytes{1, 1, 0x07});                     // bits 7 at register 2
  CHECK(d.run(pdu(2, {32, 16})) == Bytes{2, 2, 0x07, 0x00});
  CHECK(d.run(pdu(6, {3, 5})) == pdu(6, {3, 5}));                         // write [3]
  CHECK(d.run(pdu(3, {3, 1})) == registersReply(3, {5}));
  CHECK(d.run(pdu(6, {2100, 5})) == exceptionReply(6, 2));                // not in write
  CHECK(d.run(pdu(5, {32, 0xFF00})) == exceptionReply(5, 2));             // cell 2 read-only
}

TEST_CASE("simulator: pymodbus default setup.json, device_try: a warning for [4878, 48779], custom action by name") {
  const std::string text = fixture("pymodbus_default_setup.json");
  CHECK_THROWS_WITH_AS(loadSimulatorDevice(text, "device_try"),
                       doctest::Contains("device_list.device_try.uint16[8].action: unknown action "
                                         "\"read_hr_always_return_value\""),
                       ConfigError);
  const std::map<std::string, CustomAction> actions = {
      {"read_hr_always_return_value",
       [](SimulatorStore& s, std::uint32_t first, const ActionParameters&) { s.setNumber(first, 21845); }}};
  ServedDevice d(text, "device_try", {0.5}, actions);
  REQUIRE(d.device.warnings.size() == 1);
  CHECK(d.device.warnings[0] ==
        "device_list.device_try.float32[8].addr: [4878, 48779] defines 43902 registers (21951 float32 values); "
        "is the range a typo?");
  CHECK(d.run(pdu(3, {0, 1})) == exceptionReply(3, 2));
  CHECK(d.run(pdu(3, {77, 1})) == exceptionReply(3, 2));
  CHECK(d.run(pdu(3, {2305, 1})) == registersReply(3, {51}));
  CHECK(d.run(pdu(3, {2306, 1})) == registersReply(3, {50}));  // 45 + floor(0.5 * 11)
  CHECK(d.run(pdu(6, {2307, 1})) == pdu(6, {2307, 1}));
  CHECK(d.run(pdu(3, {2307, 1})) == registersReply(3, {21845}));
  CHECK(d.run(pdu(3, {3688, 2})) == registersReply(3, {0, 116}));
  CHECK(d.run(pdu(3, {3876, 2})) == registersReply(3, {0, 50001}));
  CHECK(d.run(pdu(3, {4184, 2})) == registersReply(3, {0x3F80, 0x0000}));
  CHECK(d.run(pdu(3, {4878, 2})) == registersReply(3, {0x4743, 0x5000}));  // 45000 + 0.5 * 10000 = 50000.0
  CHECK(d.run(pdu(3, {48778, 2})) == registersReply(3, {0x4743, 0x5000}));
  CHECK(d.run(pdu(3, {529, 16})) == registersReply(3, {0x4272, 0x616E, 0x6420, 0x6E61, 0x6D65, 0x2C20, 0x3332,
                                                       0x2062, 0x7974, 0x6573, 0x2E2E, 0x2E2E, 0x2E2E, 0x2E2E,
                                                       0x2E2E, 0x2E58}));  // "Brand name, 32 bytes...........X"
  CHECK(d.run(pdu(3, {4188, 4})) == registersReply(3, {0x46FE, 0x0466, 0x46FE, 0x0466}));  // 2 × 32514.2
}

TEST_CASE("simulator: pymodbus default setup.json: every server entry maps onto our endpoints") {
  const std::string text = fixture("pymodbus_default_setup.json");
  const SimulatorServerEntry tcp = parseSimulatorServer(text, "server");
  CHECK(tcp.entry.endpoint == "tcp:5020:interface=0.0.0.0");
  CHECK(tcp.entry.options.framer == FramerType::Socket);
  CHECK_FALSE(tcp.entry.tls.has_value());
  CHECK_FALSE(tcp.deviceId.has_value());
  const SimulatorServerEntry serial = parseSimulatorServer(text, "server_try_serial");
  CHECK(serial.entry.endpoint == "serial:/dev/tty0:baudrate=9600:bytesize=8:parity=N:stopbits=1:framer=rtu:reopen_delay=2");
  const SimulatorServerEntry tls = parseSimulatorServer(text, "server_try_tls");
  CHECK(tls.entry.endpoint == "tls:5020:interface=0.0.0.0:cert=certificates/pymodbus.crt:key=certificates/pymodbus.key:require_client_cert=false");
  CHECK(tls.entry.tls.has_value());
  CHECK(parseSimulatorServer(text, "server_test_try_udp").entry.endpoint == "udp:5020:interface=0.0.0.0");
  DeviceContext device;
  tcp.applyIdentity(device);
  CHECK(device.identity().vendorName() == "pymodbus");
  CHECK(device.identity().majorMinorRevision() == "3.1.0");
}

TEST_CASE("simulator: the documentation's full example serves its documented values") {
  ServedDevice d(fixture("pymodbus_doc_example.json"), "device", {0.25});
  CHECK(d.device.layout.cellCount() == 1000);
  CHECK(d.run(pdu(3, {11, 1})) == registersReply(3, {51}));  // verified in pymodbus: 51, then 52
  CHECK(d.run(pdu(3, {11, 1})) == registersReply(3, {52}));
  CHECK(d.run(pdu(3, {21, 1})) == exceptionReply(3, 2));      // second half of a uint32
  CHECK(d.run(pdu(6, {5, 1})) == exceptionReply(6, 2));       // not writable
  CHECK(d.run(pdu(6, {10, 7})) == pdu(6, {10, 7}));           // writable
  CHECK(d.run(pdu(1, {32, 16})) == Bytes{1, 2, 0x01, 0xF0});  // bits of cell 2: 61441 = 0xF001
  CHECK(d.run(pdu(3, {0, 1})) == exceptionReply(3, 2));       // invalid
  CHECK(d.run(pdu(3, {905, 1})) == exceptionReply(3, 2));
  CHECK(d.run(pdu(3, {20, 2})) == registersReply(3, {0x0009, 0x6A29}));
  CHECK(d.run(pdu(3, {22, 4})) == registersReply(3, {0, 2, 0, 2}));         // two uint32, each incremented
  CHECK(d.run(pdu(3, {30, 2})) == registersReply(3, {0x43CA, 0x15C3}));     // 404.17
  CHECK(d.run(pdu(3, {32, 2})) == registersReply(3, {0x418C, 0x0000}));     // 15 + 0.25 * 10
  CHECK(d.run(pdu(3, {40, 7})) == registersReply(3, {0x415F, 0x425F, 0x435F, 0x445F, 0x455F, 0x2020, 0x2020}));
  CHECK(d.run(pdu(3, {4, 1})) == registersReply(3, {16384}));               // random, minval 0, maxval 65535: floor(0.25 * 65536)
  d.clock->setMonotonic(9.5);
  CHECK(d.run(pdu(3, {12, 1})) == registersReply(3, {10}));                 // uptime
  // repeat [1, 46] → [100, 191]: register k ≥ 100 copies 1 + (k - 100) % 46, values and rules included.
  CHECK(d.run(pdu(3, {109, 1})) == registersReply(3, {1234}));
  CHECK(d.run(pdu(3, {155, 1})) == registersReply(3, {1234}));
  CHECK(d.run(pdu(3, {110, 1})) == registersReply(3, {51}));  // its own value 50, incremented
  CHECK(d.run(pdu(3, {120, 1})) == exceptionReply(3, 2));
  CHECK(d.run(pdu(6, {109, 9})) == pdu(6, {109, 9}));
  CHECK(d.run(pdu(6, {110, 9})) == exceptionReply(6, 2));
  CHECK(d.run(pdu(3, {139, 5})) == registersReply(3, {0x415F, 0x425F, 0x435F, 0x445F, 0x455F}));
  CHECK(d.run(pdu(3, {192, 1})) == exceptionReply(3, 2));
}

TEST_CASE("simulator: the documentation's full example: server entries of every comm") {
  const std::string text = fixture("pymodbus_doc_example.json");
  const SimulatorServerEntry tcp = parseSimulatorServer(text, "server");
  CHECK(tcp.entry.endpoint == "tcp:5020:interface=0.0.0.0");
  CHECK(tcp.deviceId == std::uint8_t{1});
  CHECK_FALSE(tcp.entry.options.ignoreMissingSlaves);
  CHECK_FALSE(tcp.entry.options.broadcastEnable);
  CHECK(parseSimulatorServer(text, "server_rtu").entry.endpoint ==
        "serial:/dev/ttyUSB0:baudrate=9600:bytesize=8:parity=N:stopbits=1:framer=rtu:reopen_delay=2");
  CHECK(parseSimulatorServer(text, "server_tls").entry.endpoint ==
        "tls:5802:interface=0.0.0.0:cert=certificates/pymodbus_tls.crt:key=certificates/pymodbus_tls.key:"
        "require_client_cert=false");
  CHECK(parseSimulatorServer(text, "server_udp").entry.endpoint == "udp:5020:interface=0.0.0.0");
  DeviceContext device;
  tcp.applyIdentity(device);
  CHECK(device.identity().userApplicationName() == "demo");
}

}  // namespace
}  // namespace modbus::simulator
