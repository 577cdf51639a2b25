// The "tls" endpoint string (Twisted's "ssl:" server endpoint, with Modbus/TCP Security defaults):
// "tls:802:cert=server.pem:key=server.key:ca=ca.pem[:require_client_cert=false][:min_version=1.2]
// [:ciphersuites=A,B][:curves=x25519,secp256r1][:session_lifetime=3600][:session_cache=1024]
// [:handshake_timeout=10][:max_handshakes=64][:max_handshakes_per_peer=8][:first_byte_timeout=2]
// [:interface=IP][:backlog=N]".
#include <charconv>
#include <limits>
#include <set>

#include "reactor/reactor.h"
#include "reactor/tls.h"

namespace reactor {
namespace {

bool parseBool(const std::string& key, const std::string& value) {
  if (value == "true" || value == "yes" || value == "1" || value == "on") return true;
  if (value == "false" || value == "no" || value == "0" || value == "off") return false;
  throw EndpointError("endpoint field '" + key + "' must be true or false, got '" + value + "'");
}

double parseSeconds(const std::string& key, const std::string& value) {
  double out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || out < 0) {
    throw EndpointError("endpoint field '" + key + "' must be a number of seconds >= 0, got '" + value + "'");
  }
  return out;
}

/// The first of `names` present in the description ("" when none is).
std::string either(const EndpointDescription& d, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (d.has(n)) return d.get(n);
  }
  return {};
}

/// "a,b,,c" → {"a", "b", "c"}.
std::vector<std::string> commaList(const std::string& list) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) names.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

}  // namespace

TlsOptions tlsOptionsFromEndpoint(const EndpointDescription& d) {
  static const std::set<std::string> kKnown = {
      "port",          "interface",   "backlog",      "cert",         "certKey",           "key",
      "privateKey",    "password",    "ca",           "caCertsFile",  "require_client_cert", "min_version",
      "ciphersuites",  "handshake_timeout", "max_handshakes", "curves", "session_lifetime", "session_cache",
      "max_handshakes_per_peer", "first_byte_timeout"};
  for (const auto& [key, value] : d.kwargs) {
    if (kKnown.count(key) == 0) throw EndpointError("unknown keyword '" + key + "' for endpoint 'tls'");
  }
  if (d.args.size() > 1) throw EndpointError("endpoint 'tls' takes one positional field (the port)");
  TlsOptions o;
  o.certFile = either(d, {"cert", "certKey"});
  o.keyFile = either(d, {"key", "privateKey"});
  o.keyPassword = d.get("password");
  o.caFile = either(d, {"ca", "caCertsFile"});
  if (o.certFile.empty()) throw EndpointError("endpoint 'tls' needs cert=FILE (the server certificate)");
  if (o.keyFile.empty()) throw EndpointError("endpoint 'tls' needs key=FILE (the server's private key)");
  if (d.has("require_client_cert")) o.requireClientCertificate = parseBool("require_client_cert", d.get("require_client_cert"));
  if (o.requireClientCertificate && o.caFile.empty()) {
    throw EndpointError("endpoint 'tls' needs ca=FILE to verify client certificates (or require_client_cert=false)");
  }
  if (d.has("min_version")) o.minVersion = d.get("min_version");
  if (d.has("ciphersuites")) o.ciphersuites = commaList(d.get("ciphersuites"));
  if (d.has("curves")) o.curves = commaList(d.get("curves"));
  o.sessionLifetime = static_cast<std::uint32_t>(
      d.getInt("session_lifetime", o.sessionLifetime, 0, 7 * 24 * 3600));  // RFC 5077 caps a ticket at 7 days
  o.sessionCacheSize = static_cast<std::size_t>(d.getInt("session_cache", static_cast<long>(o.sessionCacheSize), 0,
                                                         1 << 20));
  if (d.has("handshake_timeout")) o.handshakeTimeout = parseSeconds("handshake_timeout", d.get("handshake_timeout"));
  o.maxHandshakes = static_cast<std::size_t>(d.getInt("max_handshakes", 64, 0, std::numeric_limits<int>::max()));
  o.maxHandshakesPerPeer = static_cast<std::size_t>(
      d.getInt("max_handshakes_per_peer", static_cast<long>(o.maxHandshakesPerPeer), 0, std::numeric_limits<int>::max()));
  if (d.has("first_byte_timeout")) o.firstByteTimeout = parseSeconds("first_byte_timeout", d.get("first_byte_timeout"));
  return o;
}

}  // namespace reactor
