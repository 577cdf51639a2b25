// The "http:" entry of a server configuration: endpoint, "serve" list, token file.
#include "protocols/config/detail/http_entry_json.h"

#include <fstream>

#include "reactor/endpoints.h"

namespace modbus::config {
namespace {

bool loopback(std::string_view host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

/// The first line of `path` without surrounding blanks; empty if unreadable or blank.
std::string readToken(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  const auto last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

}  // namespace

bool isHttpEntry(const nlohmann::json& server) {
  if (!server.is_object() || !server.contains("endpoint") || !server["endpoint"].is_string()) return false;
  return server["endpoint"].get<std::string>().rfind("http:", 0) == 0;
}

HttpEntry parseHttpEntry(const Node& server) {
  server.expectObject({"endpoint", "serve", "token_file"});
  HttpEntry entry;
  entry.jsonPath = server.path();
  const Node endpoint = server.child("endpoint");
  entry.endpoint = endpoint.string();
  try {
    const reactor::EndpointDescription desc = reactor::parseEndpoint(entry.endpoint);
    desc.checkFields({"port", "interface"});
    const std::uint16_t port = desc.port();
    entry.interface = desc.get("interface", desc.args.size() > 1 ? desc.args[1] : "127.0.0.1");
    reactor::checkListenAddress(entry.interface, port);
    const bool v6 = entry.interface.find(':') != std::string::npos;
    entry.listen = std::string(v6 ? "tcp6:" : "tcp:") + std::to_string(port) +
                   ":interface=" + reactor::quoteStringArgument(entry.interface);
  } catch (const std::exception& e) {  // EndpointError, or CannotListenError for the interface
    endpoint.fail(e.what());
  }
  if (!server.has("serve")) server.fail("missing \"serve\" (what to serve over HTTP, e.g. [\"metrics\"])");
  const Node serve = server.child("serve");
  if (!serve.json().is_array()) serve.fail("expected an array such as [\"metrics\"], got " + describeType(serve.json()));
  if (serve.json().empty()) serve.fail("serves nothing: list what to serve, e.g. [\"metrics\"]");
  for (std::size_t i = 0; i < serve.json().size(); ++i) {
    const Node item = serve.element(i);
    std::string what = item.string();
    if (what != "metrics") item.fail("\"" + what + "\" cannot be served (known: \"metrics\")");
    for (const std::string& earlier : entry.serve) {
      if (earlier == what) item.fail("\"" + what + "\" is listed twice");
    }
    entry.serve.push_back(std::move(what));
  }
  if (server.has("token_file")) {
    const Node file = server.child("token_file");
    const std::string path = file.string();
    entry.token = readToken(path);
    if (entry.token.empty()) file.fail(path + ": cannot be read, or holds no token");
  } else if (!loopback(entry.interface)) {
    server.fail("serving HTTP on " + entry.interface +
                " (beyond this machine) requires \"token_file\": a file whose first line is the bearer token "
                "every request must carry");
  }
  return entry;
}

}  // namespace modbus::config
