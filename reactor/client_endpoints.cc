// Twisted's clientFromString (tcp, unix, tls/ssl), IStreamClientEndpoint.connect's Deferred (the
// wrapping factory and protocol of Twisted's endpoints module), connectProtocol, and
// serverFromString's "unix" parser. The client endpoints only hold what the string said (and, for
// TLS, the context loaded once), so connect() may be called again and again: each call is one
// connect* on the reactor.
// Tests: tests/reactor/client_endpoints_test.cc
#include <limits>
#include <string>
#include <utility>

#include "reactor/detail/access.h"
#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"

namespace reactor {

namespace {

/// Seconds in (0, 1 day]; EndpointError otherwise.
double parseTimeout(const EndpointDescription& d) {
  if (!d.has("timeout")) return 30.0;
  const std::string text = d.get("timeout");
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(value > 0) || value > 86400) {
    throw EndpointError("endpoint field 'timeout' must be a number of seconds in (0, 86400], got '" + text + "'");
  }
  return value;
}

bool parseFlag(const std::string& key, const std::string& value) {
  if (value == "1" || value == "true" || value == "yes") return true;
  if (value == "0" || value == "false" || value == "no") return false;
  throw EndpointError("endpoint field '" + key + "' must be true or false (1/0), got '" + value + "'");
}

/// The first of `names` given, or "".
std::string either(const EndpointDescription& d, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (d.has(n)) return d.get(n);
  }
  return {};
}

class UnixServerEndpoint final : public IStreamServerEndpoint {
 public:
  UnixServerEndpoint(Reactor& reactor, std::string path, unsigned mode, int backlog, bool lockfile)
      : reactor_(reactor), path_(std::move(path)), mode_(mode), backlog_(backlog), lockfile_(lockfile) {}
  std::shared_ptr<IListeningPort> listen(std::shared_ptr<Factory> factory) override {
    return reactor_.listenUNIX(path_, std::move(factory), backlog_, mode_, lockfile_);
  }

 private:
  Reactor& reactor_;
  std::string path_;
  unsigned mode_;
  int backlog_;
  bool lockfile_;
};

/// "tcp" and "tls" clients: host and port, positionally or as keywords (Twisted's _parseClientTCP).
struct HostPort {
  std::string host;
  std::uint16_t port;
};

HostPort hostPort(const EndpointDescription& d) {
  if (d.args.size() > 2) throw EndpointError("endpoint '" + d.type + "' takes at most 2 positional fields (host, port)");
  HostPort hp;
  hp.host = !d.args.empty() ? d.args[0] : d.get("host");
  if (!d.args.empty() && d.has("host")) throw EndpointError("endpoint '" + d.type + "' got 'host' twice");
  if (hp.host.empty()) throw EndpointError("endpoint '" + d.type + "' needs host=HOST");
  if (d.args.size() == 2) {
    if (d.has("port")) throw EndpointError("endpoint '" + d.type + "' got 'port' twice");
    EndpointDescription justPort;
    justPort.type = d.type;
    justPort.args = {d.args[1]};
    hp.port = justPort.port();
  } else {
    if (!d.has("port")) throw EndpointError("endpoint '" + d.type + "' needs port=PORT");
    hp.port = static_cast<std::uint16_t>(d.getInt("port", 0, 1, 65535));
  }
  return hp;
}

class TcpClientEndpoint final : public IStreamClientEndpoint {
 public:
  TcpClientEndpoint(Reactor& reactor, HostPort target, double timeout, std::string bindAddress,
                    std::shared_ptr<TlsContext> tls)
      : reactor_(reactor), target_(std::move(target)), timeout_(timeout), bindAddress_(std::move(bindAddress)),
        tls_(std::move(tls)) {}
  std::shared_ptr<IConnector> connectClientFactory(std::shared_ptr<ClientFactory> factory) override {
    if (tls_) return connectTLS(reactor_, target_.host, target_.port, std::move(factory), tls_, timeout_, bindAddress_);
    return reactor_.connectTCP(target_.host, target_.port, std::move(factory), timeout_, bindAddress_);
  }
  std::string describe() const override {
    return std::string(tls_ ? "tls:" : "tcp:") + target_.host + ":" + std::to_string(target_.port);
  }

 private:
  Reactor& reactor_;
  HostPort target_;
  double timeout_;
  std::string bindAddress_;
  std::shared_ptr<TlsContext> tls_;
};

class UnixClientEndpoint final : public IStreamClientEndpoint {
 public:
  UnixClientEndpoint(Reactor& reactor, std::string path, double timeout)
      : reactor_(reactor), path_(std::move(path)), timeout_(timeout) {}
  std::shared_ptr<IConnector> connectClientFactory(std::shared_ptr<ClientFactory> factory) override {
    return reactor_.connectUNIX(path_, std::move(factory), timeout_);
  }
  std::string describe() const override { return "unix:" + path_; }

 private:
  Reactor& reactor_;
  std::string path_;
  double timeout_;
};

/// Twisted's _WrappingProtocol: hands the real transport to the protocol the user's factory built,
/// fires the connect() Deferred once that protocol's connectionMade has run, and passes everything
/// else on. It always opts in to half-close, so that a wrapped protocol that does too hears
/// readConnectionLost/writeConnectionLost; for one that does not, the peer's EOF closes the
/// connection once what is queued is written, as the transport would have done.
class ConnectingProtocol final : public Protocol, public IHalfCloseableProtocol {
 public:
  ConnectingProtocol(std::shared_ptr<Protocol> wrapped, Deferred<std::shared_ptr<Protocol>> connected)
      : wrapped_(std::move(wrapped)), connected_(std::move(connected)) {}

  void connectionMade() override {
    wrapped_->makeConnection(transportPtr());
    if (!connected_.called()) connected_.callback(wrapped_);
  }
  void dataReceived(ByteView data) override { wrapped_->dataReceived(data); }
  void connectionLost(const Failure& reason) override {
    // connectionMade threw before the Deferred fired: the attempt failed with that.
    if (!connected_.called()) connected_.errback(reason);
    if (wrapped_->connected()) {
      detail::ProtocolAccess::markDisconnected(*wrapped_);
      wrapped_->connectionLost(reason);
    }
  }
  void readConnectionLost() override {
    if (auto* half = dynamic_cast<IHalfCloseableProtocol*>(wrapped_.get())) {
      half->readConnectionLost();
    } else {
      transport().loseConnection();
    }
  }
  void writeConnectionLost() override {
    if (auto* half = dynamic_cast<IHalfCloseableProtocol*>(wrapped_.get())) half->writeConnectionLost();
  }
  std::string logPrefix() const override { return wrapped_->logPrefix(); }

 private:
  std::shared_ptr<Protocol> wrapped_;
  Deferred<std::shared_ptr<Protocol>> connected_;
};

/// Twisted's _WrappingFactory: the user's factory builds the protocol; the attempt's outcome fires
/// the Deferred.
class ConnectingFactory final : public ClientFactory {
 public:
  ConnectingFactory(std::shared_ptr<Factory> wrapped, Deferred<std::shared_ptr<Protocol>> connected)
      : wrapped_(std::move(wrapped)), connected_(std::move(connected)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    std::shared_ptr<Protocol> built;
    try {
      built = wrapped_->buildProtocol(addr);
    } catch (...) {
      if (!connected_.called()) connected_.errback(Failure::fromException(std::current_exception()));
      throw;
    }
    if (!built) {
      if (!connected_.called()) connected_.errback(Failure(FailureType::Other, 0, "NoProtocol: the factory built no protocol"));
      return nullptr;
    }
    return std::make_shared<ConnectingProtocol>(std::move(built), connected_);
  }
  void startFactory() override { wrapped_->doStart(); }
  void stopFactory() override { wrapped_->doStop(); }
  void clientConnectionFailed(IConnector&, const Failure& reason) override {
    if (!connected_.called()) connected_.errback(reason);
  }

 private:
  std::shared_ptr<Factory> wrapped_;
  Deferred<std::shared_ptr<Protocol>> connected_;
};

/// connectProtocol's factory: the one protocol, once.
class OneProtocolFactory final : public Factory {
 public:
  explicit OneProtocolFactory(std::shared_ptr<Protocol> protocol) : protocol_(std::move(protocol)) {}
  std::shared_ptr<Protocol> buildProtocol(const Address&) override {
    if (protocol_) adopt(*protocol_);
    return std::exchange(protocol_, nullptr);
  }

 private:
  std::shared_ptr<Protocol> protocol_;
};

}  // namespace

Deferred<std::shared_ptr<Protocol>> IStreamClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  // The canceller reaches the attempt through a shared slot filled once it has started; cancelling
  // after the connection is made does nothing (the Deferred has fired).
  auto connector = std::make_shared<std::weak_ptr<IConnector>>();
  // CancelledError first, so the ConnectionAborted that stopConnecting reports on a later pass
  // finds the Deferred fired (Twisted's ConnectingCancelledError, likewise).
  Deferred<std::shared_ptr<Protocol>> connected([connector](Deferred<std::shared_ptr<Protocol>>& d) {
    auto c = connector->lock();
    d.errback(CancelledError());
    if (!c) return;
    try {
      c->stopConnecting();
    } catch (const std::logic_error&) {
      // Not connecting any more: the transport exists and its protocol is being made.
    }
  });
  *connector = connectClientFactory(std::make_shared<ConnectingFactory>(std::move(factory), connected));
  return connected;
}

Deferred<std::shared_ptr<Protocol>> connectProtocol(IStreamClientEndpoint& endpoint, std::shared_ptr<Protocol> protocol) {
  return endpoint.connect(std::make_shared<OneProtocolFactory>(std::move(protocol)));
}

namespace {

std::unique_ptr<IStreamClientEndpoint> tcpClient(Reactor& reactor, const EndpointDescription& d) {
  d.checkFields({"host", "port"}, {"timeout", "bindAddress"});
  return std::make_unique<TcpClientEndpoint>(reactor, hostPort(d), parseTimeout(d), d.get("bindAddress"), nullptr);
}

std::unique_ptr<IStreamClientEndpoint> unixClient(Reactor& reactor, const EndpointDescription& d) {
  // Twisted's _parseClientUNIX(path, timeout=30, checkPID=0); checkPID is accepted and ignored.
  d.checkFields({"path"}, {"timeout", "checkPID"});
  std::string path = !d.args.empty() ? d.args[0] : d.get("path");
  if (path.empty()) throw EndpointError("endpoint 'unix' needs a path (unix:PATH or unix:path=PATH)");
  return std::make_unique<UnixClientEndpoint>(reactor, std::move(path), parseTimeout(d));
}

std::unique_ptr<IStreamClientEndpoint> tlsClient(Reactor& reactor, const EndpointDescription& d) {
  d.checkFields({"host", "port"}, {"timeout", "bindAddress", "caCertsFile", "ca", "trustRoots", "certKey", "cert",
                                   "certificate", "privateKey", "key", "password", "hostname", "verify",
                                   "min_version"});
  TlsOptions o;
  o.caFile = either(d, {"caCertsFile", "ca", "trustRoots"});
  o.certFile = either(d, {"certKey", "cert", "certificate"});
  o.keyFile = either(d, {"privateKey", "key"});
  o.keyPassword = d.get("password");
  o.serverName = d.get("hostname");
  if (d.has("verify")) o.verifyServerCertificate = parseFlag("verify", d.get("verify"));
  if (d.has("min_version")) o.minVersion = d.get("min_version");
  if (o.verifyServerCertificate && o.caFile.empty()) {
    throw EndpointError("endpoint 'tls' (client) needs caCertsFile=FILE to verify the server (or verify=false)");
  }
  if (!o.certFile.empty() && o.keyFile.empty()) {
    throw EndpointError("endpoint 'tls' (client) has a certificate but no privateKey=FILE");
  }
  HostPort target = hostPort(d);
  double timeout = parseTimeout(d);
  auto context = TlsContext::create(TlsSide::Client, std::move(o));
  return std::make_unique<TcpClientEndpoint>(reactor, std::move(target), timeout, d.get("bindAddress"),
                                             std::move(context));
}

}  // namespace

std::unique_ptr<IStreamServerEndpoint> unixServerEndpoint(Reactor& reactor, const EndpointDescription& d) {
  // Twisted's _parseUNIX(factory, address, mode="666", backlog=50, lockfile=True).
  d.checkFields({"address", "mode", "backlog", "lockfile"});
  std::string path = !d.args.empty() ? d.args[0] : d.get("address");
  if (path.empty()) throw EndpointError("endpoint 'unix' needs a path (unix:PATH)");
  std::string modeText = d.args.size() > 1 ? d.args[1] : d.get("mode", "666");
  unsigned long mode = 0;
  std::size_t used = 0;
  try {
    mode = std::stoul(modeText, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != modeText.size() || mode > 07777) {
    throw EndpointError("endpoint field 'mode' must be octal permission bits such as 0600, got '" + modeText + "'");
  }
  EndpointDescription rest = d;  // backlog and lockfile, positionally or as keywords
  long backlog = d.args.size() > 2 ? (rest.kwargs["backlog"] = d.args[2], rest.getInt("backlog", 50, 1, std::numeric_limits<int>::max()))
                                   : d.getInt("backlog", 50, 1, std::numeric_limits<int>::max());
  bool lockfile = parseFlag("lockfile", d.args.size() > 3 ? d.args[3] : d.get("lockfile", "1"));
  return std::make_unique<UnixServerEndpoint>(reactor, std::move(path), static_cast<unsigned>(mode),
                                              static_cast<int>(backlog), lockfile);
}

std::unique_ptr<IStreamClientEndpoint> clientFromString(Reactor& reactor, std::string_view description) {
  EndpointDescription d = parseEndpoint(description);
  if (d.type == "tcp") return tcpClient(reactor, d);
  if (d.type == "unix") return unixClient(reactor, d);
  if (d.type == "tls") return tlsClient(reactor, d);  // parseEndpoint turned "ssl" into "tls"
  throw EndpointError("unknown client endpoint type '" + d.type + "' (tcp, unix, tls or ssl)");
}

}  // namespace reactor
