// Tests for protocols/application/roles.cc (role → allowed function codes, units and address ranges) and the
// JSON settings of a TLS server entry (protocols/servers/modbus_tls_server.h).
#include "protocols/application/roles.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocols/config/tls_server_entry.h"
#include "protocols/servers/modbus_tls_server.h"
#include "reactor/endpoints.h"

using namespace modbus;

namespace {

std::vector<std::uint8_t> readHolding(std::uint16_t address, std::uint16_t count) {
  return {0x03, static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(count >> 8),
          static_cast<std::uint8_t>(count)};
}

std::vector<std::uint8_t> writeRegister(std::uint16_t address, std::uint16_t value) {
  return {0x06, static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(value >> 8),
          static_cast<std::uint8_t>(value)};
}

RoleTable issueTable() {
  return parseRoleTable(R"({"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]},
                            "Reader": {"functions": [1, 2, 3, 4]}})");
}

std::string roleErrorOf(std::string_view json, std::optional<std::string> defaultRole = std::nullopt) {
  try {
    parseRoleTable(json, std::move(defaultRole));
  } catch (const RoleConfigError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("roles: a Reader may read and may not write, an Operator may do both") {
  RoleTable t = issueTable();
  CHECK(t.authorize(std::string("Reader"), 1, readHolding(0, 10)) == Denial::Allowed);
  CHECK(t.authorize(std::string("Reader"), 1, writeRegister(0, 7)) == Denial::Function);
  CHECK(t.authorize(std::string("Operator"), 1, writeRegister(0, 7)) == Denial::Allowed);
  CHECK(t.authorize(std::string("Operator"), 1, std::vector<std::uint8_t>{0x17, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0}) ==
        Denial::Function);
}

TEST_CASE("roles: which role a certificate gets — its own, unknown, the default, or none") {
  RoleTable t = issueTable();
  RoleGrant own = t.grant(std::string("Reader"));
  CHECK(own.name == std::optional<std::string>("Reader"));
  CHECK(own.permissions == t.find("Reader"));
  RoleGrant unknown = t.grant(std::string("Janitor"));
  CHECK(unknown.permissions == nullptr);
  CHECK(unknown.refusal == Denial::UnknownRole);
  CHECK(RoleTable::authorize(unknown, 1, readHolding(0, 1)) == Denial::UnknownRole);
  RoleGrant none = t.grant(std::nullopt);
  CHECK_FALSE(none.name.has_value());
  CHECK(RoleTable::authorize(none, 1, readHolding(0, 1)) == Denial::NoRole);
  t.setDefaultRole("Reader");
  RoleGrant byDefault = t.grant(std::nullopt);
  CHECK(byDefault.name == std::optional<std::string>("Reader"));
  CHECK(RoleTable::authorize(byDefault, 1, readHolding(0, 1)) == Denial::Allowed);
  CHECK(RoleTable::authorize(byDefault, 1, writeRegister(0, 1)) == Denial::Function);
  // The default applies only to certificates without a role, never to an unknown one.
  CHECK(t.grant(std::string("Janitor")).refusal == Denial::UnknownRole);
}

TEST_CASE("roles: an empty PDU is left to the request processor") {
  RoleTable t = issueTable();
  CHECK(t.authorize(std::nullopt, 1, std::span<const std::uint8_t>{}) == Denial::Allowed);
}

TEST_CASE("roles: units restrict which unit ids a role may address") {
  RoleTable t = parseRoleTable(R"({"Unit2": {"functions": "all", "units": [2, "0x03"]}})");
  CHECK(t.authorize(std::string("Unit2"), 2, writeRegister(0, 1)) == Denial::Allowed);
  CHECK(t.authorize(std::string("Unit2"), 3, readHolding(0, 1)) == Denial::Allowed);
  CHECK(t.authorize(std::string("Unit2"), 1, readHolding(0, 1)) == Denial::Unit);
  CHECK(t.find("Unit2")->functions.count() == 127);
}

TEST_CASE("roles: address ranges restrict a table, tables without ranges stay open") {
  RoleTable t = parseRoleTable(R"({"Tuner": {"functions": [1, 3, 5, 6, 16, 23],
                                             "ranges": {"holding_registers": [[100, 199], [300, 300]],
                                                        "coils": []}}})");
  std::optional<std::string> tuner("Tuner");
  CHECK(t.authorize(tuner, 1, readHolding(100, 100)) == Denial::Allowed);
  CHECK(t.authorize(tuner, 1, readHolding(150, 51)) == Denial::Address);  // 150..200 leaves the range
  CHECK(t.authorize(tuner, 1, readHolding(99, 2)) == Denial::Address);
  CHECK(t.authorize(tuner, 1, writeRegister(300, 5)) == Denial::Allowed);
  CHECK(t.authorize(tuner, 1, writeRegister(301, 5)) == Denial::Address);
  // Two ranges are not joined: 199..300 spans both and the gap.
  CHECK(t.authorize(tuner, 1, readHolding(199, 102)) == Denial::Address);
  // An empty list closes the table.
  CHECK(t.authorize(tuner, 1, std::vector<std::uint8_t>{0x01, 0, 0, 0, 1}) == Denial::Address);
  // FC 23: both the read and the write span must be allowed.
  std::vector<std::uint8_t> rw = {0x17, 0, 100, 0, 2, 0, 200, 0, 1, 2, 0, 0};
  CHECK(t.authorize(tuner, 1, rw) == Denial::Address);
  rw[6] = 150;
  CHECK(t.authorize(tuner, 1, rw) == Denial::Allowed);
  // A PDU too short to carry an address is left to the processor (which answers 03).
  CHECK(t.authorize(tuner, 1, std::vector<std::uint8_t>{0x03, 0}) == Denial::Allowed);
}

TEST_CASE("requestAddressSpans finds the table and span of each addressed function code") {
  AddressSpans s = requestAddressSpans(readHolding(10, 5));
  REQUIRE(s.count == 1);
  CHECK(s.spans[0].table == ModbusTable::HoldingRegisters);
  CHECK(s.spans[0].first == 10);
  CHECK(s.spans[0].last == 14);
  s = requestAddressSpans(std::vector<std::uint8_t>{0x05, 0x00, 0x07, 0xFF, 0x00});
  REQUIRE(s.count == 1);
  CHECK(s.spans[0].table == ModbusTable::Coils);
  CHECK(s.spans[0].first == 7);
  CHECK(s.spans[0].last == 7);
  s = requestAddressSpans(std::vector<std::uint8_t>{0x02, 0xFF, 0xFF, 0x00, 0x02});
  REQUIRE(s.count == 1);
  CHECK(s.spans[0].table == ModbusTable::DiscreteInputs);
  CHECK(s.spans[0].last == 0x10000);  // overruns the address space: outside every range
  s = requestAddressSpans(std::vector<std::uint8_t>{0x17, 0, 1, 0, 2, 0, 9, 0, 3, 6, 0, 0, 0, 0, 0, 0});
  REQUIRE(s.count == 2);
  CHECK(s.spans[1].first == 9);
  CHECK(s.spans[1].last == 11);
  CHECK(requestAddressSpans(std::vector<std::uint8_t>{0x08, 0, 0, 0x12, 0x34}).count == 0);
  CHECK(requestAddressSpans(std::vector<std::uint8_t>{0x04, 0, 0, 0x12, 0x34}).spans[0].table ==
        ModbusTable::InputRegisters);
}

TEST_CASE("parseRoleTable: every mistake names its JSON path") {
  CHECK(roleErrorOf(R"({"Reader": {"functions": [1, 300]}})").find("roles.Reader.functions[1]") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"functions": [0]}})").find("function code") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"function": [1]}})").find("roles.Reader.function: unknown key") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {}})").find("needs \"functions\"") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"functions": [1], "ranges": {"registers": [[0, 1]]}}})")
            .find("roles.Reader.ranges.registers: unknown table") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"functions": [1], "ranges": {"coils": [[5, 1]]}}})").find("below first") !=
        std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"functions": [1]}})", "Writer").find("default_role") != std::string::npos);
  CHECK(roleErrorOf("[1, 2]").find("roles:") != std::string::npos);
  CHECK(roleErrorOf("{not json").find("not valid JSON") != std::string::npos);
  CHECK(roleErrorOf(R"({"Reader": {"functions": [1]}})", "Reader").empty());
}

TEST_CASE("parseTlsServerEntry reads the issue's JSON shape") {
  TlsServerSettings s = parseTlsServerEntry(R"({"endpoint": "tls:802:cert=s.pem:key=s.key:ca=ca.pem",
      "roles": {"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]}, "Reader": {"functions": [1, 2, 3, 4]}},
      "default_role": null, "ignore_missing_slaves": false})");
  CHECK(s.endpoint == "tls:802:cert=s.pem:key=s.key:ca=ca.pem");
  REQUIRE(s.tls.roles.has_value());
  CHECK(s.tls.roles->roles().size() == 2);
  CHECK_FALSE(s.tls.roles->defaultRole().has_value());
  CHECK(s.tls.framing == TlsFraming::Mbap);

  TlsServerSettings old = parseTlsServerEntry(R"({"endpoint": "tls:802:cert=s:key=k:require_client_cert=false",
      "tls_framing": "bare_pdu", "bare_pdu_unit": 1})");
  CHECK_FALSE(old.tls.roles.has_value());
  CHECK(old.tls.framing == TlsFraming::BarePdu);
  CHECK(old.tls.barePduUnit == 1);

  TlsServerSettings withDefault = parseTlsSettings("tls:802:cert=s:key=k:ca=c", R"({"Reader": {"functions": [3]}})",
                                                   "Reader");
  CHECK(withDefault.tls.roles->defaultRole() == std::optional<std::string>("Reader"));

  CHECK_THROWS_AS(parseTlsServerEntry(R"({"endpoint": "tcp:502"})"), reactor::EndpointError);
  CHECK_THROWS_AS(parseTlsServerEntry(R"({"endpoint": "tls:802:cert=s:key=k:ca=c:colour=red"})"), reactor::EndpointError);
  CHECK_THROWS_AS(parseTlsServerEntry(R"({"endpoint": "tls:802:cert=s:key=k:ca=c", "tls_framing": "rtu"})"),
                  RoleConfigError);
  CHECK_THROWS_AS(parseTlsServerEntry(R"({"endpoint": "tls:802:cert=s:key=k:ca=c", "default_role": "Reader"})"),
                  RoleConfigError);
  CHECK_THROWS_AS(parseTlsServerEntry(R"({"roles": {}})"), RoleConfigError);
}
