// Endpoint strings (port of twisted.internet.endpoints' _tokenize/_parse and serverFromString's
// "tcp"/"tcp6" parsers) and the one stream server endpoint behind "tcp", "tcp6" and "tls" (whose
// keywords reactor/detail/tls_endpoint.cc reads).
#include "reactor/endpoints.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "reactor/detail/reactor_impl.h"
#include "reactor/failure.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"

namespace reactor {

namespace {

/// Parses all of `text` as a base-10 integer in [min, max]; EndpointError naming `what` otherwise.
long parseLong(const std::string& what, const std::string& text, long min, long max) {
  long value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    throw EndpointError("endpoint field '" + what + "' must be an integer in [" + std::to_string(min) +
                        ", " + std::to_string(max) + "], got '" + text + "'");
  }
  return value;
}

/// Backslash-escapes the characters the grammar treats specially.
void appendEscaped(std::string& out, std::string_view field) {
  for (char c : field) {
    if (c == ':' || c == '=' || c == '\\') out += '\\';
    out += c;
  }
}

/// "tcp" and "tcp6" (Twisted's TCP4ServerEndpoint / TCP6ServerEndpoint), and "tls" with the
/// context its constructor loaded (the certificate, key and CA read and matched).
class StreamServerEndpoint final : public IStreamServerEndpoint {
 public:
  StreamServerEndpoint(Reactor& reactor, std::uint16_t port, int backlog, std::string interface,
                       std::shared_ptr<TlsContext> tls = nullptr)
      : reactor_(reactor), port_(port), backlog_(backlog), interface_(std::move(interface)), tls_(std::move(tls)) {}

  std::shared_ptr<IListeningPort> listen(std::shared_ptr<Factory> factory) override {
    if (tls_) return listenTLS(reactor_, port_, std::move(factory), tls_, backlog_, interface_);
    return reactor_.listenTCP(port_, std::move(factory), backlog_, interface_);
  }

  void check() const override { checkListenAddress(interface_, port_); }

 private:
  Reactor& reactor_;
  std::uint16_t port_;
  int backlog_;
  std::string interface_;
  std::shared_ptr<TlsContext> tls_;
};

/// Twisted's _parseTCP(factory, port, interface="", backlog=50): each parameter may come
/// positionally or as a keyword, but not both; anything else is an error.
std::unique_ptr<IStreamServerEndpoint> parseTCP(Reactor& reactor, const EndpointDescription& desc,
                                                const std::string& defaultInterface) {
  desc.checkFields({"port", "interface", "backlog"});
  std::uint16_t port = desc.port();
  std::string interface =
      desc.args.size() > 1 ? desc.args[1] : desc.get("interface", defaultInterface);
  long backlog = desc.args.size() > 2
                     ? parseLong("backlog", desc.args[2], 1, std::numeric_limits<int>::max())
                     : desc.getInt("backlog", 50, 1, std::numeric_limits<int>::max());
  return std::make_unique<StreamServerEndpoint>(reactor, port, static_cast<int>(backlog), std::move(interface));
}

}  // namespace

std::string EndpointDescription::get(const std::string& key, const std::string& fallback) const {
  auto it = kwargs.find(key);
  return it == kwargs.end() ? fallback : it->second;
}

long EndpointDescription::getInt(const std::string& key, long fallback, long min, long max) const {
  auto it = kwargs.find(key);
  if (it == kwargs.end()) return fallback;
  return parseLong(key, it->second, min, max);
}

void EndpointDescription::checkFields(std::initializer_list<const char*> fields,
                                      std::initializer_list<const char*> keywordOnly) const {
  if (args.size() > fields.size()) {
    std::string names;
    for (const char* f : fields) names += (names.empty() ? "" : ", ") + std::string(f);
    throw EndpointError("endpoint '" + type + "' takes at most " + std::to_string(fields.size()) +
                        " positional fields (" + names + ")");
  }
  for (const auto& [key, value] : kwargs) {
    if (std::find(keywordOnly.begin(), keywordOnly.end(), key) != keywordOnly.end()) continue;
    auto at = std::find(fields.begin(), fields.end(), key);
    if (at == fields.end()) throw EndpointError("unknown keyword '" + key + "' for endpoint '" + type + "'");
    if (static_cast<std::size_t>(at - fields.begin()) < args.size()) {
      throw EndpointError("endpoint '" + type + "' got '" + key + "' both positionally and as a keyword");
    }
  }
}

std::uint16_t EndpointDescription::port() const {
  // Twisted also accepts the port as a keyword ("tcp:port=5020").
  if (args.empty()) {
    if (has("port")) return static_cast<std::uint16_t>(getInt("port", 0, 0, 65535));
    throw EndpointError("endpoint '" + type + "' needs a port");
  }
  return static_cast<std::uint16_t>(parseLong("port", args.front(), 0, 65535));
}

std::string EndpointDescription::toString() const {
  std::string out;
  appendEscaped(out, type);
  for (const auto& arg : args) {
    out += ':';
    appendEscaped(out, arg);
  }
  for (const auto& [key, value] : kwargs) {
    out += ':';
    appendEscaped(out, key);
    out += '=';
    appendEscaped(out, value);
  }
  return out;
}

EndpointDescription parseEndpoint(std::string_view description) {
  if (description.empty()) throw EndpointError("empty endpoint description");
  std::vector<std::string> positional;
  EndpointDescription desc;
  std::string current;
  std::optional<std::string> key;  // set once the field's first unescaped '=' is seen
  bool typeIsKeyword = false;  // "interface=x:tcp": the first field must be the type
  auto finishField = [&] {
    if (key && positional.empty() && desc.kwargs.empty()) typeIsKeyword = true;
    if (key) {
      if (key->empty()) {
        throw EndpointError("empty keyword name in endpoint '" + std::string(description) + "'");
      }
      desc.kwargs[*key] = std::move(current);  // a repeated keyword: the last one wins, as in Twisted
    } else {
      positional.push_back(std::move(current));
    }
    current.clear();
    key.reset();
  };
  for (std::size_t i = 0; i < description.size(); ++i) {
    char c = description[i];
    if (c == '\\') {
      if (i + 1 == description.size()) {
        throw EndpointError("dangling backslash at the end of endpoint '" + std::string(description) + "'");
      }
      current += description[++i];
    } else if (c == ':') {
      finishField();
    } else if (c == '=' && !key) {
      key = std::move(current);
      current.clear();
    } else {
      current += c;
    }
  }
  finishField();
  if (typeIsKeyword || positional.empty() || positional.front().empty()) {
    throw EndpointError("endpoint '" + std::string(description) + "' does not start with a type");
  }
  desc.type = std::move(positional.front());
  // Twisted spells a TLS server endpoint "ssl:"; a ported description means what "tls:" means here
  // (and with Twisted's keyword names certKey, privateKey, caCertsFile, which "tls" also reads).
  if (desc.type == "ssl") desc.type = "tls";
  desc.args.assign(std::make_move_iterator(positional.begin() + 1), std::make_move_iterator(positional.end()));
  return desc;
}

std::unique_ptr<IStreamServerEndpoint> serverFromString(Reactor& reactor, std::string_view description) {
  EndpointDescription desc = parseEndpoint(description);
  if (desc.type == "tcp") return parseTCP(reactor, desc, "");
  if (desc.type == "tcp6") return parseTCP(reactor, desc, "::");
  if (desc.type == "tls") return tlsServerEndpoint(reactor, desc);
  if (desc.type == "unix") return unixServerEndpoint(reactor, desc);
  throw EndpointError("unknown endpoint type '" + desc.type + "'");
}

void checkListenAddress(std::string_view interface, std::uint16_t port) {
  sockaddr_storage addr{};
  int rc = detail::parseIp(interface, port, addr);
  if (rc != 0) throw CannotListenError(std::string(interface), port, rc);
}

std::unique_ptr<IStreamServerEndpoint> tlsServerEndpoint(Reactor& reactor, const EndpointDescription& d) {
  TlsOptions options = tlsOptionsFromEndpoint(d);
  std::uint16_t port = d.port();
  long backlog = d.getInt("backlog", 50, 1, std::numeric_limits<int>::max());
  auto context = TlsContext::create(TlsSide::Server, std::move(options));
  return std::make_unique<StreamServerEndpoint>(reactor, port, static_cast<int>(backlog), d.get("interface"),
                                                std::move(context));
}

std::string quoteStringArgument(std::string_view argument) {
  std::string out;
  appendEscaped(out, argument);
  return out;
}

}  // namespace reactor
