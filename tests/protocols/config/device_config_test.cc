// Tests for protocols/config/device_config.h and the issue-3 keys of the server configuration: identity,
// server_id, exception_status, files, fifos and remote per unit; broadcast_enable and missing_unit.
#include "protocols/config/device_config.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/config/server_config.h"

namespace modbus {
namespace {

DeviceContext applied(const std::string& json) {
  DeviceContext device;
  applyDeviceConfig(json, device);
  return device;
}

std::string errorOf(const std::string& json) {
  try {
    applied(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("device config: identity by name and private id") {
  DeviceContext d = applied(R"({"identity": {"VendorName": "Acme", "ModelName": "M", "0x80": "p", "129": "q"}})");
  CHECK(d.identity().vendorName() == "Acme");
  CHECK(d.identity().modelName() == "M");
  CHECK(d.identity().get(0x80) == "p");
  CHECK(d.identity().get(0x81) == "q");
  CHECK(d.identity().conformityLevel() == 0x83);
}

TEST_CASE("device config: reserved or unknown identity objects and long values are errors naming the key") {
  CHECK(errorOf(R"({"identity": {"0x07": "x"}})").find("identity.0x07") != std::string::npos);
  CHECK(errorOf(R"({"identity": {"Vendor": "x"}})").find("unknown identity object") != std::string::npos);
  CHECK(errorOf(R"({"identity": {"VendorName": 5}})").find("expected a string") != std::string::npos);
  CHECK(errorOf(R"({"identity": {"0x80": ")" + std::string(245, 'a') + R"("}})").find("more than 244") !=
        std::string::npos);
}

TEST_CASE("device config: server_id with id bytes, run indicator and data") {
  DeviceContext d = applied(R"({"server_id": {"id": [1, "0x02"], "run_indicator": false, "data": "ab"}})");
  CHECK(d.control().serverId() == std::vector<std::uint8_t>{1, 2});
  CHECK_FALSE(d.control().runIndicator());
  CHECK(d.control().additionalData() == std::vector<std::uint8_t>{'a', 'b'});
  DeviceContext single = applied(R"({"server_id": {"id": 42}})");
  CHECK(single.control().serverId() == std::vector<std::uint8_t>{42});
  CHECK(single.control().runIndicator());
}

TEST_CASE("device config: server_id longer than 251 bytes, an unknown key or a bad byte is an error") {
  CHECK(errorOf(R"({"server_id": {"id": 1, "data": ")" + std::string(250, 'a') + R"("}})").find("more than 251") !=
        std::string::npos);
  CHECK(errorOf(R"({"server_id": {"ident": 1}})").find("server_id.ident") != std::string::npos);
  CHECK(errorOf(R"({"server_id": {"id": 256}})").find("server_id.id") != std::string::npos);
  CHECK(errorOf(R"({"server_id": {"run_indicator": 1}})").find("true or false") != std::string::npos);
}

TEST_CASE("device config: exception_status is a byte") {
  CHECK(applied(R"({"exception_status": "0x6D"})").control().exceptionStatus() == 0x6D);
  CHECK(errorOf(R"({"exception_status": 256})").find("exception_status") != std::string::npos);
}

TEST_CASE("device config: files with records, count and fill") {
  DeviceContext d = applied(R"({"files": {"4": {"records": [1, 2], "count": 5, "fill": 9}, "0x10": {"count": 10000}}})");
  CHECK(d.files().getRecords(4, 0, 5) == std::vector<std::uint16_t>{1, 2, 9, 9, 9});
  CHECK(d.files().recordCount(16) == 10000);
}

TEST_CASE("device config: file 0, more than 10000 records, more records than count, or neither is an error") {
  CHECK(errorOf(R"({"files": {"0": {"count": 1}}})").find("files.0") != std::string::npos);
  CHECK(errorOf(R"({"files": {"1": {"count": 10001}}})").find("files.1.count") != std::string::npos);
  CHECK(errorOf(R"({"files": {"1": {"records": [1, 2], "count": 1}}})").find("more than count") != std::string::npos);
  CHECK(errorOf(R"({"files": {"1": {}}})").find("needs \"records\" or \"count\"") != std::string::npos);
  CHECK(errorOf(R"({"files": {"1": {"size": 3}}})").find("files.1.size") != std::string::npos);
}

TEST_CASE("device config: fifos by address, oldest value first") {
  DeviceContext d = applied(R"({"fifos": {"1246": [440, 4740], "0x10": []}})");
  REQUIRE(d.fifos().queue(1246) != nullptr);
  CHECK(d.fifos().pop(1246) == 440);
  CHECK(d.fifos().hasQueue(16));
  CHECK(errorOf(R"({"fifos": {"65536": [1]}})").find("FIFO pointer address") != std::string::npos);
  CHECK(errorOf(R"({"fifos": {"1": [70000]}})").find("fifos.1[0]") != std::string::npos);
}

TEST_CASE("server config: the device keys reach each unit's own device") {
  ServerConfig c = parseServerConfig(R"({
    "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
    "units": {
      "1": {"holding_registers": {"count": 10}, "identity": {"VendorName": "One"}, "exception_status": 1},
      "2": {"identity": {"VendorName": "Two"}, "fifos": {"5": [1]}}
    }})");
  CHECK(c.context->find(1)->identity().vendorName() == "One");
  CHECK(c.context->find(2)->identity().vendorName() == "Two");
  CHECK(c.context->find(1)->control().exceptionStatus() == 1);
  CHECK(c.context->find(2)->control().exceptionStatus() == 0);
  CHECK(c.context->find(2)->fifos().hasQueue(5));
  CHECK_FALSE(c.context->find(1)->fifos().hasQueue(5));
}

TEST_CASE("server config: a remote unit is a gateway unit, not a device") {
  ServerConfig c = parseServerConfig(R"({
    "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
    "units": {"1": {"holding_registers": {"count": 1}},
              "2": {"remote": {"endpoint": "tcp:127.0.0.1:1502", "unit": 7, "timeout": 0.5}}}})");
  CHECK(c.context->find(2) == nullptr);
  REQUIRE(c.remotes.count(2) == 1);
  CHECK(c.remotes.at(2).endpoint == "tcp:127.0.0.1:1502");
  CHECK(c.remotes.at(2).unitId == 7);
  CHECK(c.remotes.at(2).timeout == doctest::Approx(0.5));
}

std::string configError(const std::string& json) {
  try {
    parseServerConfig(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("server config: a remote unit with other keys, a bad endpoint, or in a single context is an error") {
  const std::string head = R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}], )";
  CHECK(configError(head + R"("units": {"2": {"remote": {"endpoint": "tcp:h:1"}, "coils": {"count": 1}}}})")
            .find("units.2.coils") != std::string::npos);
  CHECK(configError(head + R"("units": {"2": {"remote": {"endpoint": "udp:h:1"}}}})").find("units.2.remote.endpoint") !=
        std::string::npos);
  CHECK(configError(head + R"("units": {"2": {"remote": {}}}})").find("missing \"endpoint\"") != std::string::npos);
  CHECK(configError(head + R"("units": {"2": {"remote": {"endpoint": "tcp:h:1", "timeout": 0}}}})")
            .find("units.2.remote.timeout: a request timeout must be more than 0 seconds") != std::string::npos);
  CHECK(configError(head + R"("single": true, "units": {"all": {"remote": {"endpoint": "tcp:h:1"}}}})")
            .find("needs \"single\": false") != std::string::npos);
}

TEST_CASE("server config: broadcast_enable and missing_unit at the top level, overridden per server") {
  ServerConfig c = parseServerConfig(R"({
    "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"},
                {"endpoint": "tcp:0:interface=127.0.0.1", "broadcast_enable": false, "missing_unit": "silent"}],
    "broadcast_enable": true, "missing_unit": "exception_0A",
    "units": {"1": {"holding_registers": {"count": 1}}}})");
  CHECK(c.servers[0].options.broadcastEnable);
  CHECK(c.servers[0].options.missingUnit == MissingUnit::Exception0A);
  CHECK_FALSE(c.servers[1].options.broadcastEnable);
  CHECK(c.servers[1].options.missingUnit == MissingUnit::Silent);
  CHECK(configError(R"({"servers": [{"endpoint": "tcp:0"}], "missing_unit": "0x0B", "units": {"1": {}}})")
            .find("not a missing_unit answer") != std::string::npos);
}

TEST_CASE("server config: the example of docs/configuration.md's device section parses") {
  ServerConfig c = parseServerConfig(R"({
  "servers": [{"endpoint": "tcp:5020:interface=127.0.0.1"}],
  "missing_unit": "exception_0A",
  "units": {
    "1": {
      "holding_registers": {"count": 100},
      "identity": {"VendorName": "Acme", "ProductCode": "PX-1", "MajorMinorRevision": "2.1",
                   "ProductName": "Pump controller", "0x80": "serial 0042"},
      "server_id": {"id": 42, "run_indicator": true, "data": "PX-1"},
      "exception_status": "0x6D",
      "files": {"4": {"records": [1, 2, 3], "count": 100}, "5": {"count": 10000, "fill": "0xFFFF"}},
      "fifos": {"1246": [440, 4740]}
    },
    "2": {"remote": {"endpoint": "tcp:192.168.1.20:502", "unit": 1, "timeout": 1.5}}
  }
})");
  const DeviceContext* d = c.context->find(1);
  REQUIRE(d != nullptr);
  CHECK(d->identity().get(0x80) == "serial 0042");
  CHECK(d->files().recordCount(4) == 100);
  CHECK(d->files().getRecords(5, 9999, 1) == std::vector<std::uint16_t>{0xFFFF});
  CHECK(c.remotes.count(2) == 1);
}

}  // namespace
}  // namespace modbus
