// "redis" of the JSON configuration.
#include "protocols/config/redis_store_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "protocols/config/detail/config_json.h"
#include "protocols/devices/remote_device.h"
#include "reactor/endpoints.h"

namespace modbus {

std::pair<std::string, std::uint16_t> parseRedisEndpoint(std::string_view endpoint) {
  reactor::EndpointDescription desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tcp") {
    throw reactor::EndpointError("Redis needs a tcp:HOST:PORT or unix:PATH endpoint, not '" + desc.type + ":'");
  }
  return RemoteDevice::parseEndpoint(endpoint);  // the same tcp:HOST:PORT rules as a gateway unit
}

std::optional<std::string> parseRedisUnixPath(std::string_view endpoint) {
  reactor::EndpointDescription desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "unix") return std::nullopt;
  desc.checkFields({"path"});
  std::string path = desc.args.empty() ? desc.get("path") : desc.args[0];
  if (path.empty()) throw reactor::EndpointError("a unix: Redis endpoint needs the socket's path (unix:PATH)");
  return path;
}

namespace config {

namespace {
/// host and port, or the UNIX socket path, of `endpoint` into `options`.
void applyRedisEndpoint(const std::string& endpoint, RedisStoreOptions& options) {
  if (auto path = parseRedisUnixPath(endpoint)) {
    options.unixPath = *path;
    return;
  }
  auto [host, port] = parseRedisEndpoint(endpoint);
  options.host = host;
  options.port = port;
}
}  // namespace

RedisStoreConfig parseRedisStoreConfig(const Node& node) {
  node.expectObject({"endpoint", "prefix", "password_file", "timeout"});
  RedisStoreConfig c;
  if (node.has("endpoint")) {
    Node endpoint = node.child("endpoint");
    c.endpoint = endpoint.string();
    try {
      applyRedisEndpoint(c.endpoint, c.options);
    } catch (const reactor::EndpointError& e) {
      endpoint.fail(e.what());
    }
  } else {
    applyRedisEndpoint(c.endpoint, c.options);
  }
  if (node.has("prefix")) {
    Node prefix = node.child("prefix");
    c.prefix = prefix.string();
    // The prefix is the first word of every key and of the published messages' channel.
    if (c.prefix.empty() || c.prefix.find_first_of(" \t\r\n") != std::string::npos) {
      prefix.fail("must be a non-empty name without spaces");
    }
  }
  c.options.prefix = c.prefix;
  if (node.has("password_file")) {
    Node file = node.child("password_file");
    c.passwordFile = file.string();
    std::ifstream in(c.passwordFile);
    if (!in) file.fail("cannot read \"" + c.passwordFile + "\": " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    std::string password = text.str();
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    if (password.empty()) file.fail("\"" + c.passwordFile + "\" is empty (it must hold the Redis password)");
    c.options.password = password;
  }
  if (node.has("timeout")) {
    Node timeout = node.child("timeout");
    c.options.timeout = timeout.seconds();
    // 0 would fail every request before Redis could answer.
    if (c.options.timeout <= 0) timeout.fail("a request timeout must be more than 0 seconds");
  }
  return c;
}

}  // namespace config
}  // namespace modbus
