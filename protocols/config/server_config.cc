// The JSON server configuration: parse and validate (nlohmann::json) and build the datastore and
// the server entries; server_startup.cc starts them. Every error names the JSON path of the value
// it is about.
#include "protocols/config/server_config.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "datastore/persistent/persistent_device.h"
#include "datastore/sequential_data_block.h"
#include "datastore/sparse_data_block.h"
#include "protocols/config/detail/config_json.h"
#include "protocols/config/detail/http_entry_json.h"
#include "protocols/config/detail/tls_entry.h"
#include "protocols/config/detail/device_config_json.h"
#include "protocols/config/detail/store_json.h"
#include "protocols/config/device_config.h"
#include "protocols/devices/remote_device.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/application/roles.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"
#include "reactor/tls.h"
#include "reactor/udp_endpoint.h"

namespace modbus {
namespace {

using Json = nlohmann::json;

constexpr std::int64_t kMaxUnitId = 247;
constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();
/// The longest Modbus ASCII frame (':' + 2 * 255 hex digits + CR LF): a smaller input buffer
/// would drop valid requests.
constexpr std::int64_t kMinInputBuffer = 513;

using config::describeType;
using config::Node;
using config::parseJson;
using config::joinPath;
using config::parseIntText;

// --- tables -------------------------------------------------------------------------------------

template <class Value>
struct TableTraits;

template <>
struct TableTraits<bool> {
  using Block = BitBlock;
  using Sequential = SequentialBitBlock;
  using Sparse = SparseBitBlock;
  static bool value(const Node& n) { return n.bit(); }
};

template <>
struct TableTraits<std::uint16_t> {
  using Block = RegisterBlock;
  using Sequential = SequentialRegisterBlock;
  using Sparse = SparseRegisterBlock;
  static std::uint16_t value(const Node& n) { return n.registerValue(); }
};

/// {"sparse": {"100": 5, "200": [1, 2, 3]}, "mutable": false}
template <class Value>
std::shared_ptr<typename TableTraits<Value>::Block> parseSparseTable(const Node& table) {
  using Traits = TableTraits<Value>;
  table.expectObject({"sparse", "mutable"});
  Node sparse = table.child("sparse");
  if (!sparse.json().is_object()) sparse.fail("expected an object of address: value, got " + describeType(sparse.json()));
  std::map<std::uint16_t, Value> values;
  for (const auto& [key, value] : sparse.json().items()) {
    Node entry(value, joinPath(sparse.path(), key));
    auto address = parseIntText(key, /*allowDecimal=*/true);
    if (!address || *address >= static_cast<std::int64_t>(kAddressSpace)) {
      entry.fail("\"" + key + "\" is not an address (0..65535)");
    }
    std::vector<Value> run;
    if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) run.push_back(Traits::value(entry.element(i)));
    } else {
      run.push_back(Traits::value(entry));
    }
    if (!fitsAddressSpace(static_cast<std::size_t>(*address), run.size())) {
      entry.fail(std::to_string(run.size()) + " values from address " + std::to_string(*address) +
                 " pass the last address (65535)");
    }
    for (std::size_t i = 0; i < run.size(); ++i) {
      auto a = static_cast<std::uint16_t>(*address + static_cast<std::int64_t>(i));
      if (!values.emplace(a, run[i]).second) entry.fail("address " + std::to_string(a) + " is defined twice");
    }
  }
  bool isMutable = table.has("mutable") && table.child("mutable").boolean();
  return std::make_shared<typename Traits::Sparse>(std::move(values), isMutable);
}

/// {"start": 0, "count": 100, "values": [...], "fill": 0}
template <class Value>
std::shared_ptr<typename TableTraits<Value>::Block> parseSequentialTable(const Node& table) {
  using Traits = TableTraits<Value>;
  table.expectObject({"start", "count", "values", "fill", "sparse"});
  std::int64_t start = table.has("start") ? table.child("start").integer(0, 65535, "an address") : 0;
  std::vector<Value> given;
  if (table.has("values")) {
    Node values = table.child("values");
    if (!values.json().is_array()) values.fail("expected an array, got " + describeType(values.json()));
    for (std::size_t i = 0; i < values.json().size(); ++i) given.push_back(Traits::value(values.element(i)));
  }
  Value fill = table.has("fill") ? Traits::value(table.child("fill")) : Value{};
  std::int64_t count = 0;
  if (table.has("count")) {
    count = table.child("count").integer(0, static_cast<std::int64_t>(kAddressSpace), "a count");
    if (static_cast<std::int64_t>(given.size()) > count) {
      table.child("values").fail("has " + std::to_string(given.size()) + " values, more than count (" +
                                 std::to_string(count) + ")");
    }
  } else if (table.has("values")) {
    count = static_cast<std::int64_t>(given.size());
  } else {
    table.fail("needs \"count\" or \"values\" (or \"sparse\")");
  }
  if (!fitsAddressSpace(static_cast<std::size_t>(start), static_cast<std::size_t>(count))) {
    table.fail("start " + std::to_string(start) + " + count " + std::to_string(count) +
               " passes the last address (65535)");
  }
  std::vector<Value> all(static_cast<std::size_t>(count), fill);
  std::copy(given.begin(), given.end(), all.begin());
  return std::make_shared<typename Traits::Sequential>(static_cast<std::uint16_t>(start), all);
}

template <class Value>
std::shared_ptr<typename TableTraits<Value>::Block> parseTable(const Node& table) {
  if (table.json().is_object() && table.has("sparse")) {
    for (const char* key : {"start", "count", "values", "fill"}) {
      if (table.has(key)) table.child(key).fail("cannot be combined with \"sparse\"");
    }
    return parseSparseTable<Value>(table);
  }
  if (table.json().is_object() && table.has("mutable")) {
    table.child("mutable").fail("applies only to a \"sparse\" table");
  }
  return parseSequentialTable<Value>(table);
}

// --- units and servers ----------------------------------------------------------------------------

/// What parseUnits needs to know about stores: the top-level default, and where the persistent
/// units go.
struct StoreChoice {
  StoreKind defaultStore = StoreKind::Memory;
  std::vector<PersistentUnit>* persistentUnits = nullptr;
  std::map<std::uint8_t, std::shared_ptr<DeviceContext>>* redisUnits = nullptr;
  /// The unit's own "store", else the top-level one.
  StoreKind of(const Node& unit) const {
    return unit.json().is_object() && unit.has("store") ? config::parseStoreKind(unit.child("store")) : defaultStore;
  }
};

/// A unit's "store" (or the default) and, for a persistent one, a check that the store can keep
/// its tables (one range each) and its entry in `choice.persistentUnits`.
void noteStore(const Node& unit, const std::shared_ptr<DeviceContext>& device, const StoreChoice& choice,
               const std::string& fileName) {
  if (choice.of(unit) != StoreKind::Persistent) return;
  try {
    persistentLayout(*device);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(joinPath(unit.path(), e.what()));  // "units.1.holding_registers: only a table ..."
  }
  choice.persistentUnits->push_back(PersistentUnit{unit.path(), fileName, device});
}

std::shared_ptr<DeviceContext> parseUnit(const Node& unit) {
  unit.expectObject({"coils", "discrete_inputs", "holding_registers", "input_registers", "address_offset", "store",
                     "identity", "server_id", "exception_status", "files", "fifos"});  // the last five: device_config.h
  DeviceTables tables;
  if (unit.has("coils")) tables.coils = parseTable<bool>(unit.child("coils"));
  if (unit.has("discrete_inputs")) tables.discreteInputs = parseTable<bool>(unit.child("discrete_inputs"));
  if (unit.has("holding_registers")) {
    tables.holdingRegisters = parseTable<std::uint16_t>(unit.child("holding_registers"));
  }
  if (unit.has("input_registers")) tables.inputRegisters = parseTable<std::uint16_t>(unit.child("input_registers"));
  int offset = 0;
  if (unit.has("address_offset")) {
    offset = static_cast<int>(unit.child("address_offset").integer(-65535, 65535, "an address offset"));
  }
  auto device = std::make_shared<DeviceContext>(std::move(tables), offset);
  config::applyDeviceConfig(unit.json(), unit.path(), *device);
  return device;
}

/// "remote": {"endpoint": "tcp:HOST:PORT", "unit": N, "timeout": S} — a gateway unit (issue 3).
RemoteUnit parseRemote(const Node& unit) {
  unit.expectObject({"remote"});
  Node remote = unit.child("remote");
  remote.expectObject({"endpoint", "unit", "timeout"});
  if (!remote.has("endpoint")) remote.fail("missing \"endpoint\" (e.g. \"tcp:192.168.1.10:502\")");
  RemoteUnit out;
  Node endpoint = remote.child("endpoint");
  out.endpoint = endpoint.string();
  try {
    RemoteDevice::parseEndpoint(out.endpoint);
  } catch (const reactor::EndpointError& e) {
    endpoint.fail(e.what());
  }
  if (remote.has("unit")) out.unitId = static_cast<std::uint8_t>(remote.child("unit").integer(0, 255, "a unit id"));
  if (remote.has("timeout")) {
    out.timeout = remote.child("timeout").seconds();
    // 0 would time every request out before any downstream answer could arrive.
    if (out.timeout <= 0) remote.child("timeout").fail("a request timeout must be more than 0 seconds");
  }
  return out;
}

std::shared_ptr<ServerContext> parseUnits(const Node& units, bool single, const StoreChoice& stores,
                                          std::map<std::uint8_t, RemoteUnit>* remotes = nullptr) {
  if (!units.json().is_object()) units.fail("expected an object of unit id: unit, got " + describeType(units.json()));
  if (single) {
    if (units.json().size() != 1) {
      units.fail("\"single\" is true, so exactly one unit is needed (found " + std::to_string(units.json().size()) +
                 ")");
    }
    auto it = units.json().begin();
    Node only(*it, joinPath(units.path(), it.key()));
    if (only.json().is_object() && only.has("remote")) {
      only.child("remote").fail("a remote unit needs \"single\": false (a gateway serves its own unit ids)");
    }
    if (stores.of(only) == StoreKind::Redis) {
      only.fail("a unit in Redis needs \"single\": false (its keys are named by unit id)");
    }
    auto device = parseUnit(only);
    noteStore(only, device, stores, "single.state");
    return ServerContext::single(device);
  }
  if (units.json().empty()) units.fail("no units defined (add one, e.g. \"1\": {...})");
  std::map<std::uint8_t, std::shared_ptr<DeviceContext>> devices;
  std::map<std::uint8_t, std::string> keys;  // unit id → the key that defined it
  for (const auto& [key, value] : units.json().items()) {
    Node unit(value, joinPath(units.path(), key));
    auto id = parseIntText(key, /*allowDecimal=*/true);
    if (id && *id == 0) unit.fail("unit id 0 is the broadcast address, not a unit (use 1..247)");
    if (!id || *id > kMaxUnitId) unit.fail("\"" + key + "\" is not a unit id (1..247)");
    auto [previous, added] = keys.emplace(static_cast<std::uint8_t>(*id), key);
    if (!added) unit.fail("unit " + std::to_string(*id) + " is defined twice (also as \"" + previous->second + "\")");
    if (remotes != nullptr && unit.json().is_object() && unit.has("remote")) {
      remotes->emplace(static_cast<std::uint8_t>(*id), parseRemote(unit));
      continue;
    }
    if (stores.of(unit) == StoreKind::Redis) {
      stores.redisUnits->emplace(static_cast<std::uint8_t>(*id), parseUnit(unit));
      continue;
    }
    auto device = parseUnit(unit);
    noteStore(unit, device, stores, "unit-" + std::to_string(*id) + ".state");
    devices.emplace(static_cast<std::uint8_t>(*id), std::move(device));
  }
  return ServerContext::multiple(std::move(devices));
}

/// The server an endpoint type starts.
enum class Kind { Tcp, Udp, Serial, Tls };

std::optional<Kind> kindOfType(const std::string& type) {
  if (type == "tcp" || type == "tcp6" || type == "unix") return Kind::Tcp;  // unix: served as tcp (MBAP)
  if (type == "udp" || type == "udp6") return Kind::Udp;
  if (type == "serial") return Kind::Serial;
  if (type == "tls") return Kind::Tls;
  return std::nullopt;
}

const char* kindName(Kind kind) {
  switch (kind) {
    case Kind::Tcp: return "tcp";
    case Kind::Udp: return "udp";
    case Kind::Serial: return "serial";
    case Kind::Tls: return "tls";
  }
  return "tcp";
}

/// Checks an endpoint as far as a server will without binding or opening anything: its syntax,
/// its type, its fields. (The files of a tls: endpoint are read when the server starts.)
Kind validateEndpoint(const Node& node, const std::string& endpoint) {
  try {
    auto desc = reactor::parseEndpoint(endpoint);
    auto kind = kindOfType(desc.type);
    if (!kind) {
      node.fail("\"" + desc.type + "\" endpoints are not supported (use tcp:, tcp6:, unix:, udp:, udp6:, serial: or tls:)");
    }
    switch (*kind) {
      case Kind::Tcp: {
        // Building (not listening on) the endpoint checks every field the way listen() will.
        reactor::Reactor scratch;
        reactor::serverFromString(scratch, endpoint);
        break;
      }
      case Kind::Udp: reactor::parseUdpEndpoint(desc); break;
      case Kind::Serial: parseSerialServerEndpoint(endpoint); break;
      case Kind::Tls:
        reactor::tlsOptionsFromEndpoint(desc);
        desc.port();
        desc.getInt("backlog", 50, 1, kMaxInt);
        break;
    }
    return *kind;
  } catch (const reactor::EndpointError& e) {
    node.fail(e.what());
  }
}

/// Keys that mean nothing for this kind of endpoint are errors, not silently ignored.
void refuseKeysThatDoNotApply(const Node& server, Kind kind) {
  auto refuse = [&server](std::initializer_list<const char*> keys, const std::string& why) {
    for (const char* key : keys) {
      if (server.has(key)) server.child(key).fail(why);
    }
  };
  if (kind != Kind::Tls) {
    refuse({"roles", "default_role", "tls_framing", "bare_pdu_unit"},
           std::string("applies only to a tls: endpoint, not to a ") + kindName(kind) + ": one");
  }
  // The bounds of stream connections; a udp: entry has no input buffer either (a datagram is whole).
  const std::initializer_list<const char*> connectionKeys = {
      "max_connections",     "max_connections_per_peer", "idle_timeout", "frame_timeout",
      "max_buffered_output", "connection_log_burst",     "connection_log_window"};
  if (kind == Kind::Udp) {
    const std::string why =
        "does not apply to a udp: endpoint (each datagram is a whole request; there are no connections)";
    refuse(connectionKeys, why);
    refuse({"max_input_buffer"}, why);
  }
  if (kind == Kind::Serial) {
    refuse(connectionKeys, "does not apply to a serial: endpoint (a serial line has no connections)");
    refuse({"missing_unit", "broadcast_enable"},
           "does not apply to a serial: endpoint (on a serial line a request for a unit not served always "
           "gets silence, and a broadcast is applied and never answered)");
  }
}

/// pymodbus's "ignore_missing_slaves" on a serial entry: accepted, so a ported configuration starts.
/// true is what a serial line does anyway; false cannot be honoured (a serial device never answers
/// for a unit it does not serve), so it gets a warning that says so, naming the key.
void acceptSerialIgnoreMissingSlaves(const Node& server) {
  if (!server.has("ignore_missing_slaves")) return;
  Node key = server.child("ignore_missing_slaves");
  if (key.boolean()) return;
  reactor::log::warning(key.path(), ": false has no effect on a serial: endpoint (on a serial line a request "
                        "for a unit not served always gets silence, as the serial line guide prescribes)");
}

/// "framer": what frames requests on this kind of endpoint (absent: RTU on a serial line, MBAP
/// elsewhere). On a serial line the endpoint's own framer= keyword must agree with it.
FramerType parseFramer(const Node& server, Kind kind, const std::string& endpoint) {
  std::optional<FramerType> chosen;
  std::string name;
  if (server.has("framer")) {
    Node framer = server.child("framer");
    name = framer.string();
    auto type = framerTypeFromName(name);
    switch (kind) {
      case Kind::Tcp:
      case Kind::Udp:
        if (!type || *type == FramerType::MbapInTls) framer.fail("\"" + name + "\" is not a framer (socket, rtu or ascii)");
        break;
      case Kind::Serial:
        if (!type || *type == FramerType::MbapInTls) framer.fail("\"" + name + "\" is not a serial framer (rtu or ascii)");
        if (*type == FramerType::Socket) {
          framer.fail("the socket framer (MBAP) cannot run on a serial line: use \"rtu\" (the default) or \"ascii\"");
        }
        break;
      case Kind::Tls:
        if (!type || *type == FramerType::Rtu || *type == FramerType::Ascii) {
          framer.fail("\"" + name +
                      "\" cannot run inside TLS: a tls: endpoint carries the MBAP ADU (\"socket\", the default); "
                      "for pymodbus 2.x-3.7 peers use \"tls_framing\": \"bare_pdu\"");
        }
        type = FramerType::MbapInTls;  // "socket" or "tls": MBAP inside TLS
        break;
    }
    chosen = type;
  }
  if (kind == Kind::Serial) {
    auto desc = reactor::parseEndpoint(endpoint);
    if (desc.has("framer")) {
      auto fromEndpoint = framerTypeFromName(desc.get("framer"));  // validateEndpoint checked it
      if (chosen && fromEndpoint && *chosen != *fromEndpoint) {
        server.child("framer").fail("\"" + name + "\" contradicts the endpoint's framer=" + desc.get("framer") +
                                    " (give it once)");
      }
      if (!chosen) chosen = fromEndpoint;
    }
    return chosen.value_or(FramerType::Rtu);
  }
  if (kind == Kind::Tls) return FramerType::MbapInTls;
  return chosen.value_or(FramerType::Socket);
}

/// The TLS keys of a tls: entry, read by the one TLS-entry parser (detail/tls_entry.h) with our
/// JSON paths in front of the messages it leaves to its caller.
TlsServerOptions parseTlsOptions(const Node& server) {
  try {
    return config::parseTlsEntry(server).tls;
  } catch (const RoleConfigError& e) {
    throw ConfigError(joinPath(server.path(), e.what()));  // "roles.Reader.functions[2]: …"
  } catch (const reactor::EndpointError& e) {
    server.child("endpoint").fail(e.what());
  }
}

/// "broadcast_enable" and "missing_unit" (issue 3) and "state_changing_diagnostics" (issue 13), at the
/// top level or in a server entry.
void parseExtensionOptions(const Node& node, ServerOptions& o) {
  if (node.has("broadcast_enable")) o.broadcastEnable = node.child("broadcast_enable").boolean();
  if (node.has("state_changing_diagnostics")) {
    o.stateChangingDiagnostics = node.child("state_changing_diagnostics").boolean();
  }
  if (node.has("missing_unit")) {
    Node missing = node.child("missing_unit");
    std::string name = missing.string();
    auto value = missingUnitFromName(name);
    if (!value) missing.fail("\"" + name + "\" is not a missing_unit answer (silent, exception_0A or exception_0B)");
    o.missingUnit = *value;
  }
}

ServerEntry parseServer(const Node& server, const ServerOptions& defaults) {
  server.expectObject({"endpoint", "ignore_missing_slaves", "framer", "max_connections", "max_connections_per_peer",
                       "idle_timeout", "frame_timeout", "max_buffered_output", "max_input_buffer",
                       "connection_log_burst", "connection_log_window", "broadcast_enable", "missing_unit",
                       "state_changing_diagnostics", "roles", "default_role", "tls_framing", "bare_pdu_unit"});
  if (!server.has("endpoint")) server.fail("missing \"endpoint\" (e.g. \"tcp:5020:interface=127.0.0.1\")");
  ServerEntry entry;
  entry.options = defaults;
  Node endpoint = server.child("endpoint");
  entry.endpoint = endpoint.string();
  Kind kind = validateEndpoint(endpoint, entry.endpoint);
  refuseKeysThatDoNotApply(server, kind);
  ServerOptions& o = entry.options;
  if (kind == Kind::Serial) {
    acceptSerialIgnoreMissingSlaves(server);
  } else if (server.has("ignore_missing_slaves")) {
    o.ignoreMissingSlaves = server.child("ignore_missing_slaves").boolean();
  }
  parseExtensionOptions(server, o);
  o.framer = parseFramer(server, kind, entry.endpoint);
  if (server.has("max_connections")) {
    o.maxConnections = static_cast<std::size_t>(server.child("max_connections").integer(1, kMaxInt, "a connection count"));
  }
  if (server.has("max_connections_per_peer")) {
    o.maxConnectionsPerPeer =
        static_cast<std::size_t>(server.child("max_connections_per_peer").integer(1, kMaxInt, "a connection count"));
  }
  if (server.has("idle_timeout")) o.idleTimeout = server.child("idle_timeout").seconds();
  if (server.has("frame_timeout")) o.frameTimeout = server.child("frame_timeout").seconds();
  if (server.has("connection_log_burst")) {
    o.connectionLogBurst =
        static_cast<std::size_t>(server.child("connection_log_burst").integer(0, kMaxInt, "a line count"));
  }
  if (server.has("connection_log_window")) {
    Node window = server.child("connection_log_window");
    o.connectionLogWindow = window.seconds();
    if (o.connectionLogWindow < 1) window.fail("must be at least 1 second (one summary line per window)");
  }
  if (server.has("max_buffered_output")) {
    o.maxBufferedOutput =
        static_cast<std::size_t>(server.child("max_buffered_output").integer(1, kMaxInt, "a byte count"));
  }
  if (server.has("max_input_buffer")) {
    o.maxInputBuffer =
        static_cast<std::size_t>(server.child("max_input_buffer").integer(kMinInputBuffer, kMaxInt, "a byte count"));
  }
  if (kind == Kind::Tls) entry.tls = parseTlsOptions(server);
  return entry;
}

/// Gateway units wait for a downstream answer, which only the TCP-based protocols can do: a
/// udp: or serial: server would answer them wrongly, so the combination is refused.
void refuseRemotesOnDatagramAndSerial(const ServerConfig& config) {
  if (config.remotes.empty() && config.redisUnits.empty()) return;
  std::string ids;
  for (const auto& [id, remote] : config.remotes) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  const char* what = "gateway units (\"remote\"";
  if (!config.redisUnits.empty()) {
    what = "asynchronous units (\"remote\" or \"store\": \"redis\"";
    for (const auto& [id, device] : config.redisUnits) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  }
  for (std::size_t i = 0; i < config.servers.size(); ++i) {
    auto kind = kindOfType(reactor::parseEndpoint(config.servers[i].endpoint).type);
    if (kind == Kind::Udp || kind == Kind::Serial) {
      throw ConfigError(config.servers[i].jsonPath + ".endpoint: a " + kindName(*kind) +
                        ": server cannot answer the " + what + ": unit " + ids +
                        "); serve them on tcp: or tls: endpoints, or give the units tables");
    }
  }
}

}  // namespace

ServerConfig parseServerConfig(std::string_view text) {
  Json json = parseJson(text);  // its errors, a number overflow included, are ConfigErrors
  Node root(json, "");
  root.expectObject({"servers", "single", "units", "broadcast_enable", "missing_unit", "state_changing_diagnostics",
                     "store", "persistence", "redis", "console"});
  if (!root.has("servers")) root.fail("missing \"servers\" (a list of {\"endpoint\": ...})");
  if (!root.has("units")) root.fail("missing \"units\" (the unit id → tables map)");

  ServerConfig config;
  Node servers = root.child("servers");
  if (!servers.json().is_array()) servers.fail("expected an array, got " + describeType(servers.json()));
  if (servers.json().empty()) servers.fail("no servers defined (add {\"endpoint\": \"tcp:5020\"})");
  ServerOptions defaults;
  parseExtensionOptions(root, defaults);
  for (std::size_t i = 0; i < servers.json().size(); ++i) {
    if (config::isHttpEntry(servers.json()[i])) {
      if (config.http) servers.element(i).fail("a second \"http:\" entry (" + config.http->jsonPath + " is one)");
      config.http = config::parseHttpEntry(servers.element(i));
      continue;
    }
    config.servers.push_back(parseServer(servers.element(i), defaults));
    config.servers.back().jsonPath = servers.element(i).path();
  }
  if (config.servers.empty()) servers.fail("no Modbus servers defined, only \"http:\" (add {\"endpoint\": \"tcp:5020\"})");

  bool single = root.has("single") && root.child("single").boolean();
  StoreChoice stores;
  if (root.has("store")) stores.defaultStore = config::parseStoreKind(root.child("store"));
  stores.persistentUnits = &config.persistentUnits;
  stores.redisUnits = &config.redisUnits;
  if (root.has("persistence")) config.persistence = config::parsePersistence(root.child("persistence"));
  config.context = parseUnits(root.child("units"), single, stores, &config.remotes);
  if (root.has("redis")) config.redis = config::parseRedisStoreConfig(root.child("redis"));
  if (root.has("console")) config.console = config::parseConsoleConfig(root.child("console"));
  if (!config.redisUnits.empty() && !config.redis) {
    root.fail("units are stored in Redis (\"store\": \"redis\") but there is no \"redis\" object "
              "(e.g. \"redis\": {\"endpoint\": \"tcp:127.0.0.1:6379\"})");
  }
  refuseRemotesOnDatagramAndSerial(config);
  if (!config.persistentUnits.empty() && !config.persistence) {
    root.fail("missing \"persistence\" (" + config.persistentUnits.front().jsonPath +
              " has a persistent store: give {\"dir\": PATH} for its state file)");
  }
  return config;
}

ServerConfig loadServerConfig(const std::string& path) {
  std::string text = config::readConfigFile(path);  // bounded; names the path itself
  try {
    return parseServerConfig(text);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

}  // namespace modbus
