// Test helpers for code that runs on the reactor: a bounded run that fails instead of hanging, a
// clean-loop check, Twisted's AccumulatingProtocol (StringTransport, Clock and MemoryReactor are the installed
// reactor/testing.h), recording factories, and a blocking POSIX client to drive a server from another thread.
// Header-only: tests/CMakeLists.txt builds tests/support/doctest_main.cc alone into test_support.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reactor/detail/access.h"
#include "reactor/detail/reactor_impl.h"
#include "reactor/failure.h"
#include "reactor/interfaces.h"
#include "reactor/log.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"
#include "reactor/testing.h"  // StringTransport, Clock, MemoryReactor

namespace reactor::testing {

// --- running a reactor ----------------------------------------------------------------------------

/// At scope exit, CHECKs that no Reactor destroyed in the meantime had to force its libuv loop
/// closed (reactor::detail::uncleanLoopCloses() unchanged). Declare it *before* the Reactor, so the
/// Reactor is destroyed first.
class LoopCleanCheck {
 public:
  LoopCleanCheck() : before_(detail::uncleanLoopCloses()) {}
  ~LoopCleanCheck() { CHECK_MESSAGE(detail::uncleanLoopCloses() == before_, "a reactor closed its loop uncleanly"); }
  LoopCleanCheck(const LoopCleanCheck&) = delete;
  LoopCleanCheck& operator=(const LoopCleanCheck&) = delete;

 private:
  std::size_t before_;
};

/// Runs `reactor` until it stops by itself, for at most `timeoutSeconds`. Past that the test fails
/// (a CHECK, naming the limit) and the reactor is crash()ed, so a broken test never hangs.
/// Returns true when the reactor stopped by itself. (Twisted's ReactorBuilder.runReactor.)
inline bool runReactor(Reactor& reactor, double timeoutSeconds = 5.0, bool installSignalHandlers = false) {
  bool timedOut = false;
  DelayedCall limit = reactor.callLater(timeoutSeconds, [&reactor, &timedOut] {
    timedOut = true;
    reactor.crash();
  });
  reactor.run(installSignalHandlers);
  if (limit.active()) limit.cancel();
  CHECK_MESSAGE(!timedOut, "the reactor was still running after " << timeoutSeconds << " s; crashed it");
  return !timedOut;
}

/// reactor.stop() unless it is not running or already stopping.
inline void stopIfRunning(Reactor& reactor) {
  try {
    reactor.stop();
  } catch (const ReactorNotRunning&) {
  }
}

/// Calls reactor.stop() once `count` events have been reported with done().
class StopAfter {
 public:
  StopAfter(Reactor& reactor, int count) : reactor_(reactor), remaining_(count) {}
  void done() {
    if (--remaining_ == 0) stopIfRunning(reactor_);
  }
  int remaining() const { return remaining_; }

 private:
  Reactor& reactor_;
  int remaining_;
};

/// Captures log lines while alive (then restores stderr).
class LogCapture {
 public:
  LogCapture() {
    log::setSink([this](log::Level level, std::string_view line) {
      if (level >= log::Level::Error) ++errors;
      lines.emplace_back(line);
    });
  }
  ~LogCapture() { log::setSink(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// How many captured lines contain `text`.
  std::size_t count(std::string_view text) const {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }

  std::vector<std::string> lines;
  int errors = 0;
};

// --- protocols and factories ------------------------------------------------------------------------

/// Twisted's AccumulatingProtocol, with counters and hooks. Every hook runs inside a "busy" section;
/// connectionLost arriving inside one (re-entrantly) sets `reentrantLoss`. Test code that calls
/// transport methods itself wraps them in `busy([&] { ... })` for the same check.
class AccumulatingProtocol : public Protocol {
 public:
  void connectionMade() override {
    ++madeCount;
    busy([&] {
      if (onMade) onMade(*this);
    });
  }
  void dataReceived(ByteView bytes) override {
    data.append(asText(bytes));
    ++dataCalls;
    busy([&] {
      if (onData) onData(*this, bytes);
    });
  }
  void connectionLost(const Failure& reason) override {
    if (busy_ > 0) reentrantLoss = true;
    ++lostCount;
    closedReason = reason;
    if (onLost) onLost(*this, reason);
  }

  /// Runs f as "inside a reactor method": connectionLost must not arrive before it returns.
  template <class F>
  void busy(F&& f) {
    ++busy_;
    struct Leave {
      int& n;
      ~Leave() { --n; }
    } leave{busy_};
    f();
  }

  std::string data;
  int madeCount = 0;
  int dataCalls = 0;
  int lostCount = 0;
  bool reentrantLoss = false;
  std::optional<Failure> closedReason;

  std::function<void(AccumulatingProtocol&)> onMade;
  std::function<void(AccumulatingProtocol&, ByteView)> onData;
  std::function<void(AccumulatingProtocol&, const Failure&)> onLost;

 private:
  int busy_ = 0;
};

/// The reason's message, or "(none)": for CHECK_MESSAGE.
inline std::string describe(const std::optional<Failure>& reason) {
  return reason ? reason->getErrorMessage() : std::string("(none)");
}

/// True when `reason` is set and of one of `types`.
inline bool isOneOf(const std::optional<Failure>& reason, std::initializer_list<FailureType> types) {
  if (!reason) return false;
  for (FailureType t : types) {
    if (reason->check(t)) return true;
  }
  return false;
}

/// Runs `onBoth()` once both protocols have connected, after their own onMade hooks (set those
/// first). For tests that need both ends of a connection in hand.
inline void whenBothConnected(const std::shared_ptr<AccumulatingProtocol>& a,
                              const std::shared_ptr<AccumulatingProtocol>& b, std::function<void()> onBoth) {
  auto made = std::make_shared<int>(0);
  for (AccumulatingProtocol* p : {a.get(), b.get()}) {
    p->onMade = [made, onBoth, previous = std::move(p->onMade)](AccumulatingProtocol& self) {
      if (previous) previous(self);
      if (++*made == 2) onBoth();
    };
  }
}

/// A server factory that builds P per connection, runs `setup` on it, and keeps every protocol it built.
/// With `refuse` set, buildProtocol returns nullptr (the connection is refused). The protocols do not
/// point back to it (protocol.factory() is null): the factory keeps them, so that would be a cycle.
template <class P = AccumulatingProtocol>
class TestServerFactory : public ServerFactory {
 public:
  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    ++buildCalls;
    lastAddress = addr;
    if (refuse) return nullptr;
    auto p = std::make_shared<P>();
    if (setup) setup(*p);
    protocols.push_back(p);
    return p;
  }
  void startFactory() override { ++startCount; }
  void stopFactory() override { ++stopCount; }

  std::function<void(P&)> setup;
  std::vector<std::shared_ptr<P>> protocols;
  bool refuse = false;
  int buildCalls = 0;
  int startCount = 0;
  int stopCount = 0;
  Address lastAddress;
};

/// A client factory that builds P, runs `setup` on it, and records every ClientFactory callback.
/// As TestServerFactory, it keeps its protocols, which do not point back to it.
template <class P = AccumulatingProtocol>
class TestClientFactory : public ClientFactory {
 public:
  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    ++buildCalls;
    lastAddress = addr;
    if (refuse) return nullptr;
    auto p = std::make_shared<P>();
    if (setup) setup(*p);
    protocols.push_back(p);
    return p;
  }
  void startFactory() override { ++startCount; }
  void stopFactory() override { ++stopCount; }
  void startedConnecting(IConnector& connector) override {
    ++startedCount;
    if (onStarted) onStarted(connector);
  }
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override {
    failures.push_back(reason);
    if (onFailed) onFailed(connector, reason);
  }
  void clientConnectionLost(IConnector& connector, const Failure& reason) override {
    losses.push_back(reason);
    if (onLost) onLost(connector, reason);
  }

  std::function<void(P&)> setup;
  std::function<void(IConnector&)> onStarted;
  std::function<void(IConnector&, const Failure&)> onFailed;
  std::function<void(IConnector&, const Failure&)> onLost;
  std::vector<std::shared_ptr<P>> protocols;
  std::vector<Failure> failures;
  std::vector<Failure> losses;
  bool refuse = false;
  int buildCalls = 0;
  int startCount = 0;
  int stopCount = 0;
  int startedCount = 0;
  Address lastAddress;
};

/// listenTCP on `interface` (loopback by default), port 0.
inline std::shared_ptr<IListeningPort> listenLocal(Reactor& reactor, std::shared_ptr<Factory> factory,
                                                   std::string_view interface = "127.0.0.1") {
  return reactor.listenTCP(0, std::move(factory), 50, interface);
}

/// connectTCP to the address `port` is bound to.
inline std::shared_ptr<IConnector> connectTo(Reactor& reactor, const IListeningPort& port,
                                             std::shared_ptr<ClientFactory> factory, double timeout = 5.0) {
  Address host = port.getHost();
  return reactor.connectTCP(host.host, host.port, std::move(factory), timeout);
}

/// Twisted's runProtocolsWithReactor: listens on `interface`:0 with a factory that hands out `server`
/// (once), connects a client that gets `client`, and runs `reactor` until both have had
/// connectionLost (then stops it), for at most `timeoutSeconds`. Returns what runReactor returns.
/// The hooks of both protocols must not capture their own shared_ptr (that would be a cycle).
inline bool runProtocolsWithReactor(Reactor& reactor, std::shared_ptr<AccumulatingProtocol> server,
                                    std::shared_ptr<AccumulatingProtocol> client, double timeoutSeconds = 5.0,
                                    std::string_view interface = "127.0.0.1") {
  auto stopper = std::make_shared<StopAfter>(reactor, 2);
  for (AccumulatingProtocol* p : {server.get(), client.get()}) {
    p->onLost = [stopper, previous = std::move(p->onLost)](AccumulatingProtocol& self, const Failure& reason) {
      if (previous) previous(self, reason);
      stopper->done();
    };
  }
  // Each factory hands its protocol out once, so the factory (which the protocol points back to)
  // does not keep the protocol alive.
  auto serverFactory = std::make_shared<ServerFactory>();
  serverFactory->protocol = [slot = std::make_shared<std::shared_ptr<Protocol>>(server)] {
    return std::exchange(*slot, nullptr);
  };
  auto clientFactory = std::make_shared<ClientFactory>();
  clientFactory->protocol = [slot = std::make_shared<std::shared_ptr<Protocol>>(client)] {
    return std::exchange(*slot, nullptr);
  };
  auto port = listenLocal(reactor, serverFactory, interface);
  connectTo(reactor, *port, clientFactory);
  bool stopped = runReactor(reactor, timeoutSeconds);
  port->stopListening();
  return stopped;
}

// --- a blocking client for another thread -------------------------------------------------------------

/// A plain blocking POSIX TCP client, to drive a reactor-run server from a std::thread. Every
/// operation gives up after `timeoutSeconds` (SO_RCVTIMEO/SO_SNDTIMEO), so a thread using it always
/// ends. It makes no doctest assertions (they belong on the test's thread): check its results there.
class BlockingClient {
 public:
  /// Connects to an IPv4 or IPv6 literal. `receiveBuffer` > 0 sets SO_RCVBUF before connecting.
  BlockingClient(const std::string& host, std::uint16_t port, double timeoutSeconds = 5.0, int receiveBuffer = 0) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) return;
      len = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) return;
      len = sizeof(sockaddr_in);
    }
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeoutSeconds);
    tv.tv_usec = static_cast<suseconds_t>((timeoutSeconds - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (receiveBuffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) close();
  }
  ~BlockingClient() { close(); }
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  /// Sends everything; false on error or timeout.
  bool sendAll(std::string_view data) {
    std::size_t sent = 0;
    while (fd_ >= 0 && sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return fd_ >= 0;
  }

  /// Reads until the peer closes (then `eof` is true), an error or timeout, or `limit` bytes.
  std::string readUntilEof(bool* eof = nullptr, std::size_t limit = static_cast<std::size_t>(-1)) {
    std::string out;
    if (eof) *eof = false;
    char buf[64 * 1024];
    while (fd_ >= 0 && out.size() < limit) {
      ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, limit - out.size()), 0);
      if (n == 0) {
        if (eof) *eof = true;
        break;
      }
      if (n < 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  /// Reads exactly n bytes (fewer on EOF, error or timeout).
  std::string readExactly(std::size_t n) { return readUntilEof(nullptr, n); }

  void shutdownWrite() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace reactor::testing
