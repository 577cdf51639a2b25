// Port of twisted.internet.endpoints' string syntax: "tcp:5020:interface=127.0.0.1:backlog=128".
// `:` separates fields, `=` makes a keyword, and a backslash escapes the next character
// ("tls:802:cert=C\:/certs/server.pem").
// IPv6 literals contain ':' and there is no bracket syntax, so escape each colon:
// "tcp6:5020:interface=\:\:1" listens on ::1 (in C++ source: "tcp6:5020:interface=\\:\\:1").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/defer.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor {

class Reactor;

class EndpointError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A parsed endpoint string: the type ("tcp", "udp", "tls", "serial"), positional fields after it,
/// and keyword fields.
struct EndpointDescription {
  std::string type;
  std::vector<std::string> args;
  std::map<std::string, std::string> kwargs;

  /// Keyword value, or `fallback`.
  std::string get(const std::string& key, const std::string& fallback = {}) const;
  bool has(const std::string& key) const { return kwargs.count(key) != 0; }
  /// Integer keyword in [min, max], or `fallback` when absent; EndpointError when malformed.
  long getInt(const std::string& key, long fallback, long min, long max) const;
  /// The first positional field as a port number (EndpointError if missing or out of range).
  std::uint16_t port() const;
  /// EndpointError for more positional fields than `fields` names, a keyword that is neither in
  /// `fields` nor in `keywordOnly`, or a field given both positionally and as a keyword.
  void checkFields(std::initializer_list<const char*> fields,
                   std::initializer_list<const char*> keywordOnly = {}) const;
  /// Rebuilds a canonical string (for log lines).
  std::string toString() const;
};

/// Splits an endpoint string. Throws EndpointError on an empty string or a dangling backslash.
/// The type "ssl" (Twisted's spelling) comes back as "tls".
EndpointDescription parseEndpoint(std::string_view description);

/// Twisted's IStreamServerEndpoint.
class IStreamServerEndpoint {
 public:
  virtual ~IStreamServerEndpoint() = default;
  virtual std::shared_ptr<IListeningPort> listen(std::shared_ptr<Factory> factory) = 0;
  /// Throws what listen() would throw before it binds (CannotListenError for an interface that is
  /// not an IP address), without binding: `uvmodbus-server --check`. Endpoints that need nothing
  /// beyond their construction (which already loaded any files) check nothing here.
  virtual void check() const {}
};

/// Twisted's serverFromString for stream endpoints: "tcp:PORT[:interface=IP][:backlog=N]",
/// "tcp6:PORT[:interface=IP6]", "tls:..." (reactor/tls.h) and
/// "unix:PATH[:mode=0666][:lockfile=1][:backlog=50]" (listenUNIX; mode in octal; lockfile is
/// Twisted's wantPID and, as in Twisted, on by default). EndpointError for an unknown type or a
/// bad field.
std::unique_ptr<IStreamServerEndpoint> serverFromString(Reactor& reactor, std::string_view description);

/// serverFromString's "unix" parser (reactor/client_endpoints.cc, with the client side).
std::unique_ptr<IStreamServerEndpoint> unixServerEndpoint(Reactor& reactor, const EndpointDescription& description);

/// Twisted's IStreamClientEndpoint. connect() is Twisted's: it starts one connection attempt for
/// any Factory and returns a Deferred that fires with the protocol that factory built, once that
/// protocol's connectionMade has run; it errbacks with the connection's Failure (ConnectionRefused,
/// TimeoutError, DNSLookupError, a TLS handshake failure...) when the attempt fails, with
/// Failure(Other, "NoProtocol") when the factory refuses (buildProtocol returns nullptr), and with
/// CancelledError when cancelled while still connecting (the attempt is abandoned). The factory's
/// startFactory/stopFactory run around the attempt, as with Twisted's wrapping factory.
///
/// connectClientFactory() is the reactor-level call underneath (ours; Twisted would call
/// reactor.connectTCP): the ClientFactory hears the outcome itself and the IConnector returned can
/// retry, which is what a ReconnectingClientFactory needs.
class IStreamClientEndpoint {
 public:
  virtual ~IStreamClientEndpoint() = default;
  Deferred<std::shared_ptr<Protocol>> connect(std::shared_ptr<Factory> factory);
  virtual std::shared_ptr<IConnector> connectClientFactory(std::shared_ptr<ClientFactory> factory) = 0;
  /// What the endpoint connects to (for log lines): "tcp:127.0.0.1:5020", "unix:/run/x.sock".
  virtual std::string describe() const = 0;
};

/// Twisted's endpoints.connectProtocol: connects `protocol` itself (a factory that builds it once)
/// and fires with it once connected.
Deferred<std::shared_ptr<Protocol>> connectProtocol(IStreamClientEndpoint& endpoint, std::shared_ptr<Protocol> protocol);

/// Twisted's clientFromString: "tcp:host=H:port=P[:timeout=S][:bindAddress=IP]" (or positionally
/// "tcp:H:P"), "unix:path=P" or "unix:P" [:timeout=S], and "tls:"/"ssl:" host=H:port=P with the
/// client's TLS keywords: caCertsFile (or ca, trustRoots; required unless verify=false),
/// certKey/cert and privateKey/key (a client certificate), password, hostname (SNI and the name
/// checked, default none), verify (true/false), min_version, timeout, bindAddress. The TLS files are
/// loaded here (TlsError). timeout defaults to 30 s as in Twisted. EndpointError for an unknown
/// type, a missing field or a bad value.
std::unique_ptr<IStreamClientEndpoint> clientFromString(Reactor& reactor, std::string_view description);

/// Throws CannotListenError, with listenTCP's and listenUDP's text, when `interface` is not an
/// address they could bind ("999.1.1.1", a host name); binds nothing. "" is every IPv4 address.
void checkListenAddress(std::string_view interface, std::uint16_t port);

/// Twisted's quoteStringArgument: `argument` with ':', '=' and '\\' backslash-escaped, ready to be one
/// field of an endpoint string (a device path or an IPv6 address: "serial:" + quoteStringArgument(path)).
std::string quoteStringArgument(std::string_view argument);

}  // namespace reactor
