// Tests for protocols/server_config: every key, the table rules, and an error naming its key for
// every kind of mistake.
#include "protocols/server_config.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "datastore/sparse_data_block.h"
#include "reactor/failure.h"
#include "tests/support/subprocess.h"

using modbus::ConfigError;
using modbus::parseServerConfig;

namespace {

constexpr const char* kServers = R"("servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}])";

/// A configuration with one server and `units` as the "units" value.
std::string withUnits(const std::string& units, const std::string& extra = "") {
  return std::string("{") + kServers + (extra.empty() ? "" : ", " + extra) + R"(, "units": )" + units + "}";
}

/// A configuration whose only server entry is `server`.
std::string withServer(const std::string& server) {
  return R"({"servers": [)" + server + R"(], "units": {"1": {"coils": {"count": 1}}}})";
}

/// The ConfigError message of parsing `json`, or "no error".
std::string errorOf(const std::string& json) {
  try {
    parseServerConfig(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

modbus::DeviceContext& unit(const modbus::ServerConfig& c, std::uint8_t id) {
  auto* device = c.context->find(id);
  REQUIRE(device != nullptr);
  return *device;
}

}  // namespace

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
  CHECK(errorOf(withServer(R"({"endpoint": "udp:5020"})")) ==
        "servers[0].endpoint: \"udp\" endpoints are not supported (use tcp: or tcp6:)");
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
        "input_registers, address_offset, identity, server_id, exception_status, files, fifos)");
  CHECK(errorOf(withUnits(R"({"1": {"coils": {"count": 1, "fil": 1}}})")) ==
        "units.1.coils.fil: unknown key (expected one of: start, count, values, fill, sparse)");
  CHECK(errorOf(withUnits(R"({"1": {}})", R"("singel": true)")) ==
        "singel: unknown key (expected one of: servers, single, units, broadcast_enable, missing_unit)");
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

TEST_CASE("server config: startServers listens on every entry and ServerStop ends the reactor") {
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"},
                                             {"endpoint": "tcp:0:interface=127.0.0.1", "framer": "rtu"}],
                                 "units": {"1": {"coils": {"count": 1}}}})");
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  REQUIRE(servers.size() == 2);
  auto* first = dynamic_cast<modbus::ModbusTcpServer*>(servers[0].get());
  auto* second = dynamic_cast<modbus::ModbusTcpServer*>(servers[1].get());
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  REQUIRE(first->addresses().size() == 1);
  CHECK(first->addresses()[0].host == "127.0.0.1");
  CHECK(first->addresses()[0].port != 0);
  CHECK(second->factory().options().framer == modbus::FramerType::Rtu);
  CHECK(&first->factory().context() == c.context.get());  // both serve the one datastore
  CHECK(&second->factory().context() == c.context.get());
  bool stoppedByTimeout = false;
  auto guard = reactor.callLater(5.0, [&] {
    stoppedByTimeout = true;
    reactor.stop();
  });
  reactor.callWhenRunning([] { modbus::ServerStop(); });
  reactor.run(/*installSignalHandlers=*/false);
  CHECK_FALSE(stoppedByTimeout);
  if (guard.active()) guard.cancel();
  servers.clear();
}

TEST_CASE("server config: startServers reports a port in use as CannotListenError") {
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
                                 "units": {"1": {"coils": {"count": 1}}}})");
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  auto port = dynamic_cast<modbus::ModbusTcpServer&>(*servers[0]).addresses()[0].port;
  modbus::ServerConfig clash = c;
  clash.servers = {modbus::ServerEntry{"tcp:0:interface=127.0.0.1", {}},
                   modbus::ServerEntry{"tcp:" + std::to_string(port) + ":interface=127.0.0.1", {}}};
  CHECK_THROWS_AS(modbus::startServers(reactor, clash), reactor::CannotListenError);
  CHECK(modbus::runningServerCount() == 1);  // the clash's first server was closed again
}
