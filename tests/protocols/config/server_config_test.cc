// Tests for protocols/config/server_config: every key, the table rules, and an error naming its key for
// every kind of mistake.
#include "protocols/config/server_config.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datastore/sparse_data_block.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/failure.h"
#include "reactor/serial_port.h"
#include "tests/protocols/config/config_test_support.h"
#include "tests/support/certs.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

using modbus::ConfigError;
using modbus::parseServerConfig;
using modbus::testing::errorOf;
using modbus::testing::kServers;
using modbus::testing::unit;
using modbus::testing::withServer;
using modbus::testing::withUnits;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;

TEST_CASE("server config: the issue's example parses into servers and tables") {
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:5020:interface=127.0.0.1", "ignore_missing_slaves": false}],
    "single": false,
    "units": {"1": {"coils": {"start": 0, "count": 4000, "values": [1, 0, 0]},
                    "discrete_inputs": {"start": 0, "count": 2000, "fill": 0},
                    "holding_registers": {"start": 0, "values": [40960, 40961]},
                    "input_registers": {"start": 0, "count": 300, "fill": 0}}}})");
  REQUIRE(c.servers.size() == 1);
  CHECK(c.servers[0].endpoint == "tcp:5020:interface=127.0.0.1");
  CHECK_FALSE(c.servers[0].options.ignoreMissingSlaves);
  CHECK_FALSE(c.context->isSingle());
  CHECK(c.context->unitIds() == std::vector<std::uint8_t>{1});
  CHECK(c.context->find(2) == nullptr);
  auto& d = unit(c, 1);
  CHECK(d.coils()->getValues(0, 4) == std::vector<bool>{true, false, false, false});
  CHECK(d.coils()->validate(0, 4000));
  CHECK_FALSE(d.coils()->validate(3999, 2));
  CHECK(d.discreteInputs()->validate(0, 2000));
  CHECK_FALSE(d.discreteInputs()->validate(2000, 1));
  CHECK(d.holdingRegisters()->getValues(0, 2) == std::vector<std::uint16_t>{40960, 40961});
  CHECK_FALSE(d.holdingRegisters()->validate(0, 3));  // count defaults to len(values)
  CHECK(d.inputRegisters()->validate(0, 300));
  CHECK_FALSE(d.inputRegisters()->validate(300, 1));
}

TEST_CASE("server config: config/default.json loads") {
  auto c = modbus::loadServerConfig(testsupport::sourceDir() + "/config/default.json");
  REQUIRE(c.servers.size() == 1);
  CHECK(c.servers[0].endpoint == "tcp:5020:interface=127.0.0.1");
  auto& d = unit(c, 1);
  CHECK(d.holdingRegisters()->getValues(9999, 1) == std::vector<std::uint16_t>{0});
  CHECK_FALSE(d.holdingRegisters()->validate(10000, 1));
  CHECK(d.coils()->validate(0, 10000));
}

TEST_CASE("server config: values fill the start of count and fill the rest") {
  auto c = parseServerConfig(withUnits(
      R"({"1": {"holding_registers": {"start": 10, "count": 5, "values": [1, 2], "fill": 7},
                "coils": {"start": 3, "count": 4, "values": [true, 0], "fill": 1}}})"));
  auto& d = unit(c, 1);
  CHECK(d.holdingRegisters()->getValues(10, 5) == std::vector<std::uint16_t>{1, 2, 7, 7, 7});
  CHECK_FALSE(d.holdingRegisters()->validate(9, 1));
  CHECK_FALSE(d.holdingRegisters()->validate(15, 1));
  CHECK(d.coils()->getValues(3, 4) == std::vector<bool>{true, false, true, true});
  CHECK_FALSE(d.coils()->validate(2, 1));
}

TEST_CASE("server config: without values the table is count copies of fill, 0 by default") {
  auto c = parseServerConfig(withUnits(R"({"1": {"input_registers": {"count": 3},
                                                 "discrete_inputs": {"count": 2, "fill": true}}})"));
  auto& d = unit(c, 1);
  CHECK(d.inputRegisters()->getValues(0, 3) == std::vector<std::uint16_t>{0, 0, 0});
  CHECK(d.discreteInputs()->getValues(0, 2) == std::vector<bool>{true, true});
}

TEST_CASE("server config: a table left out has no addresses") {
  auto c = parseServerConfig(withUnits(R"({"1": {"coils": {"count": 1}}})"));
  auto& d = unit(c, 1);
  CHECK(d.coils() != nullptr);
  CHECK(d.discreteInputs() == nullptr);
  CHECK(d.holdingRegisters() == nullptr);
  CHECK(d.inputRegisters() == nullptr);
}

TEST_CASE("server config: a table may reach exactly the last address") {
  auto c = parseServerConfig(withUnits(R"({"1": {"holding_registers": {"start": 65530, "count": 6, "fill": 9}}})"));
  CHECK(unit(c, 1).holdingRegisters()->getValues(65535, 1) == std::vector<std::uint16_t>{9});
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"start": 65530, "count": 7}}})")) ==
        "units.1.holding_registers: start 65530 + count 7 passes the last address (65535)");
}

TEST_CASE("server config: sparse tables define single addresses and runs") {
  auto c = parseServerConfig(withUnits(
      R"({"1": {"holding_registers": {"sparse": {"100": 5, "200": [1, 2, 3], "0x10": "0xFFFF"}},
                "coils": {"sparse": {"7": true, "8": [0, 1]}, "mutable": true}}})"));
  auto& d = unit(c, 1);
  auto* hr = dynamic_cast<modbus::SparseRegisterBlock*>(d.holdingRegisters());
  REQUIRE(hr != nullptr);
  CHECK(hr->size() == 5);
  CHECK_FALSE(hr->isMutable());
  CHECK(hr->getValues(100, 1) == std::vector<std::uint16_t>{5});
  CHECK(hr->getValues(200, 3) == std::vector<std::uint16_t>{1, 2, 3});
  CHECK(hr->getValues(16, 1) == std::vector<std::uint16_t>{65535});
  CHECK_FALSE(hr->validate(101, 1));
  auto* co = dynamic_cast<modbus::SparseBitBlock*>(d.coils());
  REQUIRE(co != nullptr);
  CHECK(co->isMutable());
  CHECK(co->getValues(7, 3) == std::vector<bool>{true, false, true});
}

TEST_CASE("server config: sparse mistakes name the address") {
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"sparse": {"100": [1, 2], "101": 5}}}})")) ==
        "units.1.holding_registers.sparse.101: address 101 is defined twice");
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"sparse": {"x1": 5}}}})")) ==
        "units.1.holding_registers.sparse.x1: \"x1\" is not an address (0..65535)");
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"sparse": {"65535": [1, 2]}}}})")) ==
        "units.1.holding_registers.sparse.65535: 2 values from address 65535 pass the last address (65535)");
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"sparse": {"3": [1, 70000]}}}})")) ==
        "units.1.holding_registers.sparse.3[1]: 70000 is not a register value (0..65535)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"sparse": {"1": 1}, "count": 3}}})")) ==
        "units.1.coils.count: cannot be combined with \"sparse\"");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 3, "mutable": true}}})")) ==
        "units.1.coils.mutable: applies only to a \"sparse\" table");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"sparse": [1]}}})")) ==
        "units.1.coils.sparse: expected an object of address: value, got an array");
}

TEST_CASE("server config: numbers may be written as 0x strings") {
  auto c = parseServerConfig(withUnits(
      R"({"0x11": {"holding_registers": {"start": "0x10", "count": "0x2", "values": ["0xA0", "0X00ff"]},
                   "coils": {"values": ["0x1", "0x0"]}}})"));
  CHECK(c.context->unitIds() == std::vector<std::uint8_t>{17});
  auto& d = unit(c, 17);
  CHECK(d.holdingRegisters()->getValues(16, 2) == std::vector<std::uint16_t>{0xA0, 0xFF});
  CHECK(d.coils()->getValues(0, 2) == std::vector<bool>{true, false});
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"values": ["12"]}}})")) ==
        "units.1.holding_registers.values[0]: \"12\" is not a number (write numbers without quotes, or hex as "
        "\"0x…\")");
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"values": ["0x11170"]}}})")) ==
        "units.1.holding_registers.values[0]: 0x11170 is not a register value (0..65535)");
}

TEST_CASE("server config: single serves one unit for every unit id") {
  auto c = parseServerConfig(withUnits(R"({"any": {"holding_registers": {"values": [42]}}})", R"("single": true)"));
  CHECK(c.context->isSingle());
  CHECK(c.context->find(1) == c.context->find(200));
  CHECK(unit(c, 0).holdingRegisters()->getValues(0, 1) == std::vector<std::uint16_t>{42});
  CHECK(errorOf(withUnits(R"({"1": {}, "2": {}})", R"("single": true)")) ==
        "units: \"single\" is true, so exactly one unit is needed (found 2)");
  CHECK(errorOf(withUnits(R"({"1": {}})", R"("single": "yes")")) == "single: expected true or false, got a string");
}

TEST_CASE("server config: several units each get their own tables") {
  auto c = parseServerConfig(withUnits(R"({"1": {"holding_registers": {"values": [1]}},
                                           "247": {"holding_registers": {"values": [247]}}})"));
  CHECK(c.context->unitIds() == std::vector<std::uint8_t>{1, 247});
  CHECK(unit(c, 247).holdingRegisters()->getValues(0, 1) == std::vector<std::uint16_t>{247});
  CHECK(unit(c, 1).holdingRegisters()->getValues(0, 1) == std::vector<std::uint16_t>{1});
}

TEST_CASE("server config: unit ids are 1..247 and 0 is rejected as broadcast") {
  CHECK(errorOf(withUnits(R"({"0": {}})")) == "units.0: unit id 0 is the broadcast address, not a unit (use 1..247)");
  CHECK(errorOf(withUnits(R"({"248": {}})")) == "units.248: \"248\" is not a unit id (1..247)");
  CHECK(errorOf(withUnits(R"({"one": {}})")) == "units.one: \"one\" is not a unit id (1..247)");
  CHECK(errorOf(withUnits(R"({"1": {}, "0x01": {}})")) == "units.1: unit 1 is defined twice (also as \"0x01\")");
  CHECK(errorOf(withUnits(R"({})")) == "units: no units defined (add one, e.g. \"1\": {...})");
}

TEST_CASE("server config: address_offset applies to the unit") {
  auto c = parseServerConfig(withUnits(R"({"1": {"address_offset": 1, "coils": {"count": 2}},
                                           "2": {"address_offset": -3, "coils": {"count": 2}}})"));
  CHECK(unit(c, 1).addressOffset() == 1);
  CHECK(unit(c, 2).addressOffset() == -3);
  CHECK(errorOf(withUnits(R"({"1": {"address_offset": 70000}})")) ==
        "units.1.address_offset: 70000 is not an address offset (-65535..65535)");
}

TEST_CASE("server config: every server option is read") {
  auto c = parseServerConfig(withServer(R"({"endpoint": "tcp:0:interface=127.0.0.1", "ignore_missing_slaves": true,
      "framer": "rtu", "max_connections": 3, "idle_timeout": 2.5, "max_buffered_output": 1000,
      "max_input_buffer": 2048}, {"endpoint": "tcp6:0:interface=\\:\\:1", "framer": "ascii"})"));
  REQUIRE(c.servers.size() == 2);
  const auto& o = c.servers[0].options;
  CHECK(o.ignoreMissingSlaves);
  CHECK(o.framer == modbus::FramerType::Rtu);
  CHECK(o.maxConnections == 3);
  CHECK(o.idleTimeout == doctest::Approx(2.5));
  CHECK(o.maxBufferedOutput == 1000);
  CHECK(o.maxInputBuffer == 2048);
  CHECK(c.servers[1].endpoint == "tcp6:0:interface=\\:\\:1");
  CHECK(c.servers[1].options.framer == modbus::FramerType::Ascii);
  modbus::ServerOptions defaults;
  CHECK(c.servers[1].options.maxConnections == defaults.maxConnections);
  CHECK(c.servers[1].options.idleTimeout == defaults.idleTimeout);
}

TEST_CASE("server config: the hostile-network bounds and state_changing_diagnostics are read, with safe defaults") {
  auto c = parseServerConfig(withServer(R"({"endpoint": "tcp:0", "max_connections_per_peer": 4, "frame_timeout": 1.5,
      "connection_log_burst": 0, "connection_log_window": 60, "state_changing_diagnostics": false},
      {"endpoint": "udp:0", "state_changing_diagnostics": false}, {"endpoint": "tcp:0"})"));
  REQUIRE(c.servers.size() == 3);
  const auto& o = c.servers[0].options;
  CHECK(o.maxConnectionsPerPeer == 4);
  CHECK(o.frameTimeout == doctest::Approx(1.5));
  CHECK(o.connectionLogBurst == 0);
  CHECK(o.connectionLogWindow == doctest::Approx(60));
  CHECK_FALSE(o.stateChangingDiagnostics);
  CHECK_FALSE(c.servers[1].options.stateChangingDiagnostics);
  const auto& d = c.servers[2].options;  // the shipped defaults
  CHECK(d.maxConnectionsPerPeer == 128);
  CHECK(d.idleTimeout == doctest::Approx(300));
  CHECK(d.frameTimeout == doctest::Approx(10));
  CHECK(d.maxBufferedOutput == 16384);
  CHECK(d.stateChangingDiagnostics);
  // At the top level it applies to every entry.
  auto top = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0"}], "state_changing_diagnostics": false,
      "units": {"1": {"coils": {"count": 1}}}})");
  CHECK_FALSE(top.servers[0].options.stateChangingDiagnostics);
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "connection_log_window": 0.5})")) ==
        "servers[0].connection_log_window: must be at least 1 second (one summary line per window)");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0", "frame_timeout": 5})")) ==
        "servers[0].frame_timeout: does not apply to a udp: endpoint (each datagram is a whole request; there are "
        "no connections)");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "max_connections_per_peer": 2})")) ==
        "servers[0].max_connections_per_peer: does not apply to a serial: endpoint (a serial line has no "
        "connections)");
}

TEST_CASE("server config: bad server options name their key") {
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "framer": "tls"})")) ==
        "servers[0].framer: \"tls\" is not a framer (socket, rtu or ascii)");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "ignore_missing_slaves": 1})")) ==
        "servers[0].ignore_missing_slaves: expected true or false, got a number");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "max_connections": 0})")) ==
        "servers[0].max_connections: 0 is not a connection count (1..2147483647)");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "idle_timeout": -1})")) ==
        "servers[0].idle_timeout: -1 is not a duration (seconds, 0 or more)");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "max_buffered_output": "big"})")) ==
        "servers[0].max_buffered_output: \"big\" is not a number (write numbers without quotes, or hex as "
        "\"0x…\")");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "max_input_buffer": 100})")) ==
        "servers[0].max_input_buffer: 100 is not a byte count (513..2147483647)");
  CHECK(errorOf(withServer(R"({"framer": "rtu"})")) ==
        "servers[0]: missing \"endpoint\" (e.g. \"tcp:5020:interface=127.0.0.1\")");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "ignore_missing_slave": true})")).starts_with(
      "servers[0].ignore_missing_slave: unknown key (expected one of: endpoint, ignore_missing_slaves,"));
}

TEST_CASE("server config: bad endpoints are caught while parsing") {
  CHECK(errorOf(withServer(R"({"endpoint": "sctp:/tmp/modbus.sock"})")) ==
        "servers[0].endpoint: \"sctp\" endpoints are not supported (use tcp:, tcp6:, unix:, udp:, udp6:, serial: or tls:)");
  CHECK(errorOf(withServer(R"({"endpoint": "unix:/tmp/modbus.sock:mode=777x"})")) ==
        "servers[0].endpoint: endpoint field 'mode' must be octal permission bits such as 0600, got '777x'");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:99999"})")) ==
        "servers[0].endpoint: endpoint field 'port' must be an integer in [0, 65535], got '99999'");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0:interfce=127.0.0.1"})")) ==
        "servers[0].endpoint: unknown keyword 'interfce' for endpoint 'tcp'");
  CHECK(errorOf(withServer(R"({"endpoint": 5020})")) == "servers[0].endpoint: expected a string, got a number");
}

TEST_CASE("server config: register and bit values are range-checked with their path") {
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"start": 0, "values": [0, 1, 2, 70000]}}})")) ==
        "units.1.holding_registers.values[3]: 70000 is not a register value (0..65535)");
  CHECK(errorOf(withUnits(R"({"1": {"input_registers": {"values": [-1]}}})")) ==
        "units.1.input_registers.values[0]: -1 is not a register value (0..65535)");
  CHECK(errorOf(withUnits(R"({"1": {"input_registers": {"values": [1.5]}}})")) ==
        "units.1.input_registers.values[0]: 1.5 is not a whole number");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"values": [1, 2]}}})")) ==
        "units.1.coils.values[1]: 2 is not a bit value (0, 1, true or false)");
  CHECK(errorOf(withUnits(R"({"1": {"discrete_inputs": {"count": 2, "fill": "on"}}})")) ==
        "units.1.discrete_inputs.fill: on is not a bit value (0, 1, true or false)");
  CHECK(errorOf(withUnits(R"({"1": {"holding_registers": {"values": [null]}}})")) ==
        "units.1.holding_registers.values[0]: expected a register value (0..65535), got null");
}

TEST_CASE("server config: start, count and values mistakes name their key") {
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"start": 65536, "count": 1}}})")) ==
        "units.1.coils.start: 65536 is not an address (0..65535)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 65537}}})")) ==
        "units.1.coils.count: 65537 is not a count (0..65536)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 2, "values": [1, 1, 1]}}})")) ==
        "units.1.coils.values: has 3 values, more than count (2)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"start": 4}}})")) ==
        "units.1.coils: needs \"count\" or \"values\" (or \"sparse\")");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"values": 3}}})")) == "units.1.coils.values: expected an array, got a number");
  CHECK(errorOf(withUnits(R"({"1": {"coils": [1, 0]}})")) == "units.1.coils: expected an object, got an array");
}

TEST_CASE("server config: unknown keys are errors naming the key") {
  CHECK(errorOf(withUnits(R"({"1": {"holding_register": {"count": 1}}})")) ==
        "units.1.holding_register: unknown key (expected one of: coils, discrete_inputs, holding_registers, "
        "input_registers, address_offset, store, identity, server_id, exception_status, files, fifos)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 1, "fil": 1}}})")) ==
        "units.1.coils.fil: unknown key (expected one of: start, count, values, fill, sparse)");
  CHECK(errorOf(withUnits(R"({"1": {}})", R"("singel": true)")) ==
        "singel: unknown key (expected one of: servers, single, units, broadcast_enable, missing_unit, "
        "state_changing_diagnostics, store, persistence, redis, console)");
}

TEST_CASE("server config: missing sections, duplicate keys and bad JSON are reported") {
  CHECK(errorOf(R"({"units": {"1": {}}})") == "configuration: missing \"servers\" (a list of {\"endpoint\": ...})");
  CHECK(errorOf(std::string("{") + kServers + "}") == "configuration: missing \"units\" (the unit id → tables map)");
  CHECK(errorOf(R"({"servers": [], "units": {"1": {}}})") ==
        "servers: no servers defined (add {\"endpoint\": \"tcp:5020\"})");
  CHECK(errorOf(R"({"servers": {}, "units": {"1": {}}})") == "servers: expected an array, got an object");
  CHECK(errorOf("[1, 2]") == "configuration: expected an object, got an array");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 1}}, "1": {}})")) ==
        "units.1: duplicate key (each key may appear once)");
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0"}, {"endpoint": "tcp:0", "framer": "rtu", "framer": "ascii"})")) ==
        "servers[1].framer: duplicate key (each key may appear once)");
  std::string bad = errorOf("{\"servers\": [\n  {\"endpoint\": \"tcp:0\",}\n]}");
  CHECK(bad.starts_with("invalid JSON: parse error at line 2, column 24: syntax error"));
}

TEST_CASE("server config: a number too large for a double is invalid JSON, not a crash") {
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 1e999}}})")) ==
        "invalid JSON: number overflow parsing '1e999'");
}

TEST_CASE("server config: loadServerConfig puts the file name in front of errors") {
  std::string path = testsupport::buildDir() + "/server_config_test_bad.json";
  {
    std::ofstream out(path);
    out << withUnits(R"({"1": {"coils": {"count": -1}}})");
  }
  std::string message;
  try {
    modbus::loadServerConfig(path);
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message == path + ": units.1.coils.count: -1 is not a count (0..65536)");
  std::remove(path.c_str());
  try {
    modbus::loadServerConfig(path);
    message = "no error";
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message == path + ": cannot read: No such file or directory");
}

// --- udp:, serial: and tls: entries (issues 4 and 5) --------------------------------------------------

TEST_CASE("server config: udp entries take the socket, rtu and ascii framers") {
  auto c = parseServerConfig(withServer(R"({"endpoint": "udp:5020:interface=127.0.0.1", "framer": "socket"},
      {"endpoint": "udp:0", "framer": "rtu", "ignore_missing_slaves": true},
      {"endpoint": "udp6:0:interface=\\:\\:1", "framer": "ascii", "missing_unit": "exception_0A"},
      {"endpoint": "udp:0:interface=127.0.0.1:maxPacketSize=512", "broadcast_enable": true})"));
  REQUIRE(c.servers.size() == 4);
  CHECK(c.servers[0].endpoint == "udp:5020:interface=127.0.0.1");
  CHECK(c.servers[0].options.framer == modbus::FramerType::Socket);
  CHECK_FALSE(c.servers[0].tls.has_value());
  CHECK(c.servers[1].options.framer == modbus::FramerType::Rtu);
  CHECK(c.servers[1].options.ignoreMissingSlaves);
  CHECK(c.servers[2].options.framer == modbus::FramerType::Ascii);
  CHECK(c.servers[2].options.missingUnit == modbus::MissingUnit::Exception0A);
  CHECK(c.servers[3].options.framer == modbus::FramerType::Socket);
  CHECK(c.servers[3].options.broadcastEnable);
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0", "framer": "tls"})")) ==
        "servers[0].framer: \"tls\" is not a framer (socket, rtu or ascii)");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0:colour=red"})")) ==
        "servers[0].endpoint: unknown keyword 'colour' for endpoint 'udp'");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:70000"})")) ==
        "servers[0].endpoint: endpoint field 'port' must be an integer in [0, 65535], got '70000'");
}

TEST_CASE("server config: serial entries are RTU by default, ASCII by option, never MBAP") {
  auto c = parseServerConfig(withServer(
      R"({"endpoint": "serial:/dev/ttyUSB0:baudrate=19200:parity=E:stopbits=1", "framer": "rtu"},
         {"endpoint": "serial:/dev/ttyUSB1"},
         {"endpoint": "serial:/dev/ttyUSB2", "framer": "ascii", "max_input_buffer": 1024},
         {"endpoint": "serial:/dev/ttyUSB3:framer=ascii"},
         {"endpoint": "serial:/dev/ttyUSB4:framer=ascii", "framer": "ascii"})"));
  REQUIRE(c.servers.size() == 5);
  CHECK(c.servers[0].endpoint == "serial:/dev/ttyUSB0:baudrate=19200:parity=E:stopbits=1");
  CHECK(c.servers[0].options.framer == modbus::FramerType::Rtu);
  CHECK(c.servers[1].options.framer == modbus::FramerType::Rtu);  // the serial default
  CHECK(c.servers[2].options.framer == modbus::FramerType::Ascii);
  CHECK(c.servers[2].options.maxInputBuffer == 1024);
  CHECK(c.servers[3].options.framer == modbus::FramerType::Ascii);  // from the endpoint's framer=
  CHECK(c.servers[4].options.framer == modbus::FramerType::Ascii);

  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "framer": "socket"})")) ==
        "servers[0].framer: the socket framer (MBAP) cannot run on a serial line: use \"rtu\" (the default) or "
        "\"ascii\"");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "framer": "tls"})")) ==
        "servers[0].framer: \"tls\" is not a serial framer (rtu or ascii)");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0:framer=rtu", "framer": "ascii"})")) ==
        "servers[0].framer: \"ascii\" contradicts the endpoint's framer=rtu (give it once)");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0:framer=socket"})")) ==
        "servers[0].endpoint: the socket framer (MBAP) cannot run on a serial line: use framer rtu (the default) or "
        "ascii");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0:baudrate=fast"})")) ==
        "servers[0].endpoint: endpoint field 'baudrate' must be an integer in [1, 4000000], got 'fast'");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0:parity=X"})")) ==
        "servers[0].endpoint: endpoint field 'parity' must be N, E, O, M or S, got 'X'");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:"})")) ==
        "servers[0].endpoint: endpoint 'serial' needs a device (serial:/dev/ttyUSB0)");
}

TEST_CASE("server config: a tls entry reads the issue's roles, default_role and tls_framing") {
  auto c = parseServerConfig(withServer(R"({"endpoint": "tls:802:cert=server.pem:key=server.key:ca=ca.pem",
      "roles": {"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]}, "Reader": {"functions": [1, 2, 3, 4]}},
      "default_role": null, "idle_timeout": 30, "max_connections": 8},
     {"endpoint": "tls:8802:cert=s.pem:key=s.key:ca=ca.pem", "framer": "socket",
      "roles": {"Tuner": {"functions": [3, 6], "units": [1, 2], "ranges": {"holding_registers": [[100, 199]]}},
                "Reader": {"functions": "all"}},
      "default_role": "Reader"},
     {"endpoint": "tls:8803:cert=s.pem:key=s.key:require_client_cert=false", "tls_framing": "bare_pdu",
      "bare_pdu_unit": 5})"));
  REQUIRE(c.servers.size() == 3);
  const auto& first = c.servers[0];
  REQUIRE(first.tls.has_value());
  REQUIRE(first.tls->roles.has_value());
  CHECK(first.options.framer == modbus::FramerType::MbapInTls);
  CHECK(first.options.idleTimeout == doctest::Approx(30));
  CHECK(first.options.maxConnections == 8);
  CHECK(first.tls->framing == modbus::TlsFraming::Mbap);
  const modbus::RoleTable& roles = *first.tls->roles;
  CHECK(roles.roles().size() == 2);
  CHECK_FALSE(roles.defaultRole().has_value());
  const std::uint8_t read[] = {0x03, 0x00, 0x00, 0x00, 0x01};
  const std::uint8_t write[] = {0x06, 0x00, 0x00, 0x00, 0x01};
  CHECK(roles.authorize(std::string("Reader"), 1, read) == modbus::Denial::Allowed);
  CHECK(roles.authorize(std::string("Reader"), 1, write) == modbus::Denial::Function);
  CHECK(roles.authorize(std::string("Operator"), 1, write) == modbus::Denial::Allowed);
  CHECK(roles.authorize(std::nullopt, 1, read) == modbus::Denial::NoRole);

  const auto& second = c.servers[1];
  REQUIRE(second.tls.has_value());
  REQUIRE(second.tls->roles.has_value());
  CHECK(second.tls->roles->defaultRole() == std::optional<std::string>("Reader"));
  const modbus::RolePermissions* tuner = second.tls->roles->find("Tuner");
  REQUIRE(tuner != nullptr);
  CHECK(tuner->units == std::set<std::uint8_t>{1, 2});
  CHECK(tuner->ranges.at(modbus::ModbusTable::HoldingRegisters) ==
        std::vector<modbus::AddressRange>{modbus::AddressRange{100, 199}});
  const std::uint8_t writeInRange[] = {0x06, 0x00, 0x64, 0x00, 0x01};
  CHECK(second.tls->roles->authorize(std::string("Tuner"), 1, writeInRange) == modbus::Denial::Allowed);
  CHECK(second.tls->roles->authorize(std::string("Tuner"), 3, writeInRange) == modbus::Denial::Unit);
  CHECK(second.tls->roles->authorize(std::string("Tuner"), 1, write) == modbus::Denial::Address);
  CHECK(second.tls->roles->authorize(std::nullopt, 1, write) == modbus::Denial::Allowed);  // default: Reader, "all"

  const auto& third = c.servers[2];
  REQUIRE(third.tls.has_value());
  CHECK_FALSE(third.tls->roles.has_value());  // no roles: no authorization beyond the handshake
  CHECK(third.tls->framing == modbus::TlsFraming::BarePdu);
  CHECK(third.tls->barePduUnit == 5);
}

TEST_CASE("server config: tls mistakes name their key") {
  const std::string endpoint = R"("endpoint": "tls:802:cert=s.pem:key=s.key:ca=ca.pem")";
  auto tls = [&](const std::string& rest) { return withServer("{" + endpoint + ", " + rest + "}"); };
  CHECK(errorOf(tls(R"("roles": {"Reader": {"functions": [1, 2, 300]}})")) ==
        "servers[0].roles.Reader.functions[2]: 300 is not a function code (1..127)");
  CHECK(errorOf(tls(R"("roles": {"Reader": {"function": [1]}})")) ==
        "servers[0].roles.Reader.function: unknown key (functions, units, ranges)");
  CHECK(errorOf(tls(R"("roles": {"Reader": {"units": [1]}})")) == "servers[0].roles.Reader: a role needs \"functions\"");
  CHECK(errorOf(tls(R"("roles": {"Tuner": {"functions": [3], "ranges": {"holding_registers": [[9, 1]]}}})")) ==
        "servers[0].roles.Tuner.ranges.holding_registers[0]: last is below first");
  CHECK(errorOf(tls(R"("roles": [1, 2])")) == "servers[0].roles: an object of role name → permissions");
  CHECK(errorOf(tls(R"("roles": {"Reader": {"functions": [1]}}, "default_role": "Writer")")) ==
        "servers[0].default_role: \"Writer\" is not one of the roles");
  CHECK(errorOf(tls(R"("default_role": "Reader")")) == "servers[0].default_role: there are no roles");
  CHECK(errorOf(tls(R"("roles": {"Reader": {"functions": [1]}}, "default_role": 1)")) ==
        "servers[0].default_role: expected null or a role name, got a number");
  CHECK(errorOf(tls(R"("tls_framing": "rtu")")) ==
        "servers[0].tls_framing: \"rtu\" is not \"mbap\" or \"bare_pdu\"");
  CHECK(errorOf(tls(R"("tls_framing": 1)")) == "servers[0].tls_framing: expected a string, got a number");
  CHECK(errorOf(tls(R"("bare_pdu_unit": 1)")) ==
        "servers[0].bare_pdu_unit: applies only with \"tls_framing\": \"bare_pdu\"");
  CHECK(errorOf(tls(R"("tls_framing": "bare_pdu", "bare_pdu_unit": 256)")) ==
        "servers[0].bare_pdu_unit: 256 is not a unit id (0..255)");
  CHECK(errorOf(tls(R"("framer": "rtu")")) ==
        "servers[0].framer: \"rtu\" cannot run inside TLS: a tls: endpoint carries the MBAP ADU (\"socket\", the "
        "default); for pymodbus 2.x-3.7 peers use \"tls_framing\": \"bare_pdu\"");
  CHECK(errorOf(withServer(R"({"endpoint": "tls:802:key=s.key:ca=ca.pem"})")) ==
        "servers[0].endpoint: endpoint 'tls' needs cert=FILE (the server certificate)");
  CHECK(errorOf(withServer(R"({"endpoint": "tls:802:cert=s.pem:key=s.key"})")) ==
        "servers[0].endpoint: endpoint 'tls' needs ca=FILE to verify client certificates (or require_client_cert=false)");
  CHECK(errorOf(withServer(R"({"endpoint": "tls:802:cert=s.pem:key=s.key:ca=c.pem:colour=red"})")) ==
        "servers[0].endpoint: unknown keyword 'colour' for endpoint 'tls'");
  CHECK(errorOf(withServer(R"({"endpoint": "tls:80200:cert=s.pem:key=s.key:ca=c.pem"})")) ==
        "servers[0].endpoint: endpoint field 'port' must be an integer in [0, 65535], got '80200'");
}

TEST_CASE("server config: keys that mean nothing for an endpoint type are refused, naming the key") {
  CHECK(errorOf(withServer(R"({"endpoint": "tcp:0", "roles": {}})")) ==
        "servers[0].roles: applies only to a tls: endpoint, not to a tcp: one");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0", "tls_framing": "mbap"})")) ==
        "servers[0].tls_framing: applies only to a tls: endpoint, not to a udp: one");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "default_role": null})")) ==
        "servers[0].default_role: applies only to a tls: endpoint, not to a serial: one");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0", "idle_timeout": 5})")) ==
        "servers[0].idle_timeout: does not apply to a udp: endpoint (each datagram is a whole request; there are "
        "no connections)");
  CHECK(errorOf(withServer(R"({"endpoint": "udp:0", "max_input_buffer": 1024})")).starts_with(
      "servers[0].max_input_buffer: does not apply to a udp: endpoint"));
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "max_connections": 2})")) ==
        "servers[0].max_connections: does not apply to a serial: endpoint (a serial line has no connections)");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "missing_unit": "silent"})")) ==
        "servers[0].missing_unit: does not apply to a serial: endpoint (on a serial line a request for a "
        "unit not served always gets silence, and a broadcast is applied and never answered)");
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "broadcast_enable": true})")).starts_with(
      "servers[0].broadcast_enable: does not apply to a serial: endpoint"));
  // The top-level defaults are not an error: they apply where they mean something.
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "serial:/dev/ttyUSB0"}, {"endpoint": "tcp:0"}],
                                 "broadcast_enable": true, "units": {"1": {"coils": {"count": 1}}}})");
  CHECK(c.servers[1].options.broadcastEnable);
}

TEST_CASE("server config conformance: a pymodbus configuration with ignore_missing_slaves true on a serial server is accepted") {
  LogCapture logs;
  auto c = parseServerConfig(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "ignore_missing_slaves": true})"));
  REQUIRE(c.servers.size() == 1);
  CHECK(c.servers[0].endpoint == "serial:/dev/ttyUSB0");
  CHECK(logs.count("ignore_missing_slaves") == 0);  // true is what a serial line does anyway: nothing to say
}

TEST_CASE("server config conformance: ignore_missing_slaves false on a serial server is accepted with a warning that says so") {
  LogCapture logs;
  auto c = parseServerConfig(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "ignore_missing_slaves": false})"));
  REQUIRE(c.servers.size() == 1);
  CHECK(logs.errors == 0);
  REQUIRE(logs.count("servers[0].ignore_missing_slaves: false has no effect on a serial: endpoint") == 1);
  CHECK(logs.count("always gets silence") == 1);
  // Still a boolean like everywhere else.
  CHECK(errorOf(withServer(R"({"endpoint": "serial:/dev/ttyUSB0", "ignore_missing_slaves": 0})")) ==
        "servers[0].ignore_missing_slaves: expected true or false, got a number");
}

TEST_CASE("server config: gateway units cannot be served by udp and serial servers") {
  const std::string units = R"("units": {"1": {"coils": {"count": 1}}, "7": {"remote": {"endpoint": "tcp:127.0.0.1:1502"}}})";
  CHECK(errorOf(R"({"servers": [{"endpoint": "tcp:0"}, {"endpoint": "udp:0"}], )" + units + "}") ==
        "servers[1].endpoint: a udp: server cannot answer the gateway units (\"remote\": unit 7); serve them on "
        "tcp: or tls: endpoints, or give the units tables");
  CHECK(errorOf(R"({"servers": [{"endpoint": "serial:/dev/ttyUSB0"}], )" + units + "}").starts_with(
      "servers[0].endpoint: a serial: server cannot answer the gateway units"));
  CHECK(parseServerConfig(R"({"servers": [{"endpoint": "tcp:0"}, {"endpoint": "tls:0:cert=s:key=k:ca=c"}], )" + units +
                          "}")
            .remotes.size() == 1);
}

