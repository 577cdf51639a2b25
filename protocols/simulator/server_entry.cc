// parseSimulatorServer: one "server_list" entry of setup.json → the endpoint string and options of
// the server classes uvmodbus-server uses (so every transport, limit and log works the same).
// pymodbus's keys map as follows: comm + host + port → the endpoint; the serial keys → serial:
// endpoint fields; certfile/keyfile/password → tls: fields; identity → the FC 43 objects, checked
// by the configuration's own device parser. "timeout" is checked and has no effect;
// "reconnect_delay" and "allow_multiple_devices" map as docs/simulator.md says.
#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "datastore/device_context.h"
#include "protocols/config/detail/config_json.h"
#include "protocols/config/detail/device_config_json.h"
#include "protocols/simulator/simulator_setup.h"
#include "reactor/endpoints.h"

namespace modbus {
namespace {

using config::Node;
using Json = nlohmann::json;

std::string field(const std::string& key, const std::string& value) {
  return ":" + key + "=" + reactor::quoteStringArgument(value);
}

/// "7" or "3-40" → [first, last] in 1..247, else fails naming the key.
std::pair<int, int> unitRange(const Node& entry, const std::string& key) {
  auto number = [&](const std::string& text) {
    if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos) {
      entry.fail("\"" + key + "\" is not a unit id or range (\"5\", \"3-40\")");
    }
    const int n = std::stoi(text);
    if (n < 1 || n > 247) entry.fail("unit id " + text + " is outside 1-247 (0 is the broadcast address)");
    return n;
  };
  const auto dash = key.find('-');
  if (dash == std::string::npos) {
    const int n = number(key);
    return {n, n};
  }
  const int first = number(key.substr(0, dash));
  const int last = number(key.substr(dash + 1));
  if (last < first) entry.fail("range \"" + key + "\" ends before it starts");
  return {first, last};
}

/// A server entry's or devices-map entry's "identity" as the unit JSON applyDeviceConfig takes,
/// its object names checked now (errors carry `path`).
std::string checkedIdentityJson(const Node& identity, const std::string& path) {
  Json unit = Json::object();
  unit["identity"] = identity.json();
  DeviceContext probe;
  config::applyDeviceConfig(unit, path, probe);
  return unit.dump();
}

std::vector<SimulatorUnitRange> parseUnits(const Json& root, const Node& devices) {
  if (!devices.json().is_object() || devices.json().empty()) {
    devices.fail("expected an object of unit ids to device names ({\"1\": \"device\", \"3-40\": \"meter\"})");
  }
  const Json* list = root.contains("device_list") && root.at("device_list").is_object() ? &root.at("device_list") : nullptr;
  std::vector<SimulatorUnitRange> units;
  for (const auto& [key, value] : devices.json().items()) {
    const Node entry = devices.child(key);
    const auto [first, last] = unitRange(entry, key);
    SimulatorUnitRange range;
    range.first = static_cast<std::uint8_t>(first);
    range.last = static_cast<std::uint8_t>(last);
    range.path = entry.path();
    if (value.is_object()) {
      entry.expectObject({"device", "identity", "offline"});
      if (entry.has("offline")) range.offline = entry.child("offline").boolean();
      if (!entry.has("device")) entry.fail("missing \"device\" (a device_list name)");
      if (entry.has("identity")) range.identityJson = checkedIdentityJson(entry.child("identity"), range.path);
    }
    const Node name = value.is_object() ? entry.child("device") : entry;
    range.device = name.string();
    if (list == nullptr || !list->contains(range.device)) {
      std::string names;
      if (list != nullptr) {
        for (const auto& [n, v] : list->items()) names += (names.empty() ? "" : ", ") + n;
      }
      name.fail("no device \"" + range.device + "\" in device_list (devices: " + (names.empty() ? "none" : names) + ")");
    }
    units.push_back(std::move(range));
  }
  std::sort(units.begin(), units.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < units.size(); ++i) {
    if (units[i].first <= units[i - 1].last) {
      config::fail(units[i].path, "unit " + std::to_string(units[i].first) + " is also in " + units[i - 1].path);
    }
  }
  return units;
}

}  // namespace

void SimulatorServerEntry::applyIdentity(DeviceContext& device) const {
  if (identityJson.empty()) return;
  config::applyDeviceConfig(Json::parse(identityJson), path, device);
}

SimulatorServerEntry parseSimulatorServer(std::string_view setupJson, const std::string& serverName) {
  const Json root = config::parseJson(setupJson);
  config::expectObject(root, "", {"server_list", "device_list"});
  if (!root.contains("server_list")) config::fail("", "missing \"server_list\"");
  const Node servers(root.at("server_list"), "server_list");
  servers.expectObject({});
  if (!servers.has(serverName.c_str())) {
    std::string names;
    for (const auto& [name, value] : servers.json().items()) names += (names.empty() ? "" : ", ") + name;
    servers.fail("no server \"" + serverName + "\" (servers: " + (names.empty() ? "none" : names) + ")");
  }
  const Node s = servers.child(serverName);
  s.expectObject({"comm", "host", "port", "framer", "device_id", "identity", "ignore_missing_devices",
                  "ignore_missing_slaves", "broadcast_enable", "baudrate", "bytesize", "parity", "stopbits", "timeout",
                  "reconnect_delay", "handle_local_echo", "allow_multiple_devices", "certfile", "keyfile", "password", "devices"});
  SimulatorServerEntry out;
  out.path = s.path();
  if (!s.has("comm")) s.fail("missing \"comm\" (tcp, udp, tls or serial)");
  const std::string comm = s.child("comm").string();
  if (comm != "tcp" && comm != "udp" && comm != "tls" && comm != "serial") {
    s.child("comm").fail("\"" + comm + "\" is not a comm (tcp, udp, tls or serial)");
  }
  const bool serial = comm == "serial";

  // Keys that belong to one kind of server only.
  for (const char* key : {"baudrate", "bytesize", "parity", "stopbits", "handle_local_echo"}) {
    if (!serial && s.has(key)) s.child(key).fail("only a serial server (\"comm\": \"serial\") takes this key");
  }
  for (const char* key : {"certfile", "keyfile", "password"}) {
    if (comm != "tls" && s.has(key)) s.child(key).fail("only a tls server (\"comm\": \"tls\") takes this key");
  }
  if (serial && s.has("host")) s.child("host").fail("a serial server has no host (\"port\" is its device)");

  // The framer: pymodbus's names; the default follows comm.
  FramerType framer = serial ? FramerType::Rtu : comm == "tls" ? FramerType::Tls : FramerType::Socket;
  if (s.has("framer")) {
    const Node f = s.child("framer");
    const std::string name = f.string();
    const auto parsed = framerTypeFromName(name);
    if (!parsed) f.fail("\"" + name + "\" is not a framer (socket, rtu, ascii or tls)");
    if (serial && (*parsed == FramerType::Socket || *parsed == FramerType::Tls)) {
      f.fail("a serial line takes framer rtu or ascii, not " + name);
    }
    if (comm != "tls" && *parsed == FramerType::Tls) f.fail("framer tls needs \"comm\": \"tls\"");
    if (comm == "tls" && *parsed != FramerType::Tls && *parsed != FramerType::Socket) {
      f.fail("a tls server takes framer tls (or socket, the same MBAP), not " + name);
    }
    framer = *parsed;
  }
  out.entry.options.framer = comm == "tls" ? FramerType::Socket : framer;

  if (serial) {
    if (!s.has("port")) s.fail("missing \"port\" (the serial device, e.g. \"/dev/ttyUSB0\")");
    std::string endpoint = "serial:" + reactor::quoteStringArgument(s.child("port").string());
    if (s.has("baudrate")) endpoint += field("baudrate", std::to_string(s.child("baudrate").integer(1, 4000000, "a baud rate")));
    if (s.has("bytesize")) endpoint += field("bytesize", std::to_string(s.child("bytesize").integer(5, 8, "a byte size")));
    if (s.has("parity")) {
      const Node p = s.child("parity");
      const std::string parity = p.string();
      if (parity != "N" && parity != "E" && parity != "O") p.fail("\"" + parity + "\" is not a parity (N, E or O)");
      endpoint += field("parity", parity);
    }
    if (s.has("stopbits")) endpoint += field("stopbits", std::to_string(s.child("stopbits").integer(1, 2, "a stop bit count")));
    endpoint += field("framer", std::string(framerTypeName(framer)));
    if (s.has("handle_local_echo") && s.child("handle_local_echo").boolean()) endpoint += field("echo", "1");
    out.entry.endpoint = endpoint;
  } else {
    const std::string host = s.has("host") ? s.child("host").string() : std::string("0.0.0.0");
    const std::int64_t defaultPort = comm == "tls" ? 802 : 502;
    const std::int64_t port = s.has("port") ? s.child("port").integer(0, 65535, "a port") : defaultPort;
    const bool v6 = host.find(':') != std::string::npos;
    std::string endpoint = comm + (v6 ? "6" : "") + ":" + std::to_string(port) + field("interface", host);
    if (comm == "tls") {
      if (!s.has("certfile") || !s.has("keyfile")) s.fail("a tls server needs \"certfile\" and \"keyfile\"");
      endpoint += field("cert", s.child("certfile").string()) + field("key", s.child("keyfile").string());
      if (s.has("password")) endpoint += field("password", s.child("password").string());
      endpoint += ":require_client_cert=false";  // pymodbus's TLS server asks no client certificate
      out.entry.tls = TlsServerOptions{};
    }
    out.entry.endpoint = endpoint;
  }

  // pyserial's open timeout in pymodbus; our ports never block, so it is only checked.
  if (s.has("timeout")) (void)s.child("timeout").seconds();
  if (s.has("reconnect_delay")) {
    const Node delay = s.child("reconnect_delay");
    const double seconds = delay.seconds();
    if (seconds > 3600) delay.fail("a reconnect delay is at most 3600 seconds");
    // pymodbus stores it and never reopens; our serial server reopens a lost port after it.
    if (serial && seconds > 0) {
      std::ostringstream text;  // shortest form: 2, 0.05
      text << std::max(seconds, 0.01);
      out.entry.endpoint += field("reopen_delay", text.str());
    }
  }
  const bool multidrop = s.has("allow_multiple_devices") && s.child("allow_multiple_devices").boolean();
  if (s.has("ignore_missing_devices") && s.has("ignore_missing_slaves")) {
    s.fail("give \"ignore_missing_devices\" or its older name \"ignore_missing_slaves\", not both");
  }
  for (const char* key : {"ignore_missing_devices", "ignore_missing_slaves"}) {
    if (s.has(key)) out.entry.options.ignoreMissingSlaves = s.child(key).boolean();
  }
  if (s.has("broadcast_enable")) out.entry.options.broadcastEnable = s.child("broadcast_enable").boolean();
  if (s.has("device_id")) out.deviceId = static_cast<std::uint8_t>(s.child("device_id").integer(0, 255, "a device id"));
  if (s.has("identity")) out.identityJson = checkedIdentityJson(s.child("identity"), out.path);
  if (s.has("devices")) {
    if (s.has("device_id")) s.child("device_id").fail("give \"device_id\" or a \"devices\" map, not both");
    out.units = parseUnits(root, s.child("devices"));
  }
  if (multidrop) {
    // On a shared line the server must know its own ids: a serial server answers only the unit ids
    // its context holds, so this needs device_id or devices (pymodbus, given neither, drops all).
    const Node flag = s.child("allow_multiple_devices");
    if (!serial) flag.fail("only a serial server (\"comm\": \"serial\") shares its line with other devices");
    if (!s.has("device_id") && !s.has("devices")) {
      flag.fail("a server sharing its line needs \"device_id\" or \"devices\": the unit ids it answers");
    }
  }
  return out;
}

}  // namespace modbus
