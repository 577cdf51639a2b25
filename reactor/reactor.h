// Port of Twisted's reactor (base.ReactorBase + posixbase) on libuv. One thread runs it; only
// callFromThread may be called from elsewhere. This header does not include <uv.h>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "reactor/delayed_call.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor {

namespace detail {
class ReactorImpl;
struct ReactorAccess;  // reactor/detail/access.h: how transports inside reactor/ reach the loop
}
class DatagramProtocol;  // reactor/datagram_protocol.h
class ThreadPool;        // reactor/threads.h
struct TlsOptions;       // reactor/tls.h
template <class T> class Deferred;  // reactor/defer.h

class ReactorNotRunning : public std::logic_error {
 public:
  ReactorNotRunning() : std::logic_error("ReactorNotRunning: can't stop a reactor that isn't running") {}
};
class ReactorAlreadyRunning : public std::logic_error {
 public:
  ReactorAlreadyRunning() : std::logic_error("ReactorAlreadyRunning") {}
};
class ReactorNotRestartable : public std::logic_error {
 public:
  ReactorNotRestartable() : std::logic_error("ReactorNotRestartable: a stopped reactor cannot run again") {}
};

enum class Phase { Before, During, After };
enum class SystemEvent { Startup, Shutdown };
using TriggerId = std::uint64_t;
using SignalHandlerId = std::uint64_t;

class Reactor final : public IReactorTime, public IReactorTCP, public IReactorUDP, public IReactorUNIX {
 public:
  Reactor();
  /// Closes every handle still open and the loop. Destroy it on the thread that ran it.
  ~Reactor() override;
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  /// Fires the startup triggers, then runs until stop(). With installSignalHandlers, SIGINT and
  /// SIGTERM call stop(). SIGPIPE is ignored (a write to a reset peer is a ConnectionLost). Throws ReactorAlreadyRunning / ReactorNotRestartable.
  void run(bool installSignalHandlers = true);
  /// Graceful: on the next loop pass (as in Twisted) the "before shutdown" triggers run and the
  /// Deferreds they return are waited for (see setBeforeShutdownTimeout); then every listening port stops and every connection
  /// gets loseConnection(); when they have all closed (or the shutdown grace period has passed and
  /// the rest are aborted) the "during" and "after" triggers run and run() returns.
  /// Throws ReactorNotRunning if not running (or already stopping).
  void stop();
  /// Stop at once, without triggers or waiting for connections (Twisted's crash()).
  void crash();
  bool running() const;
  /// How long stop() waits for connections to flush before aborting them (default 5 s).
  void setShutdownGracePeriod(double seconds);
  /// Busy polling: run() polls for I/O without ever sleeping, so the thread keeps its CPU at
  /// 100 % and answers without a wakeup. For load generators and latency-critical processes that
  /// own a core; everything else (timers, triggers, stop) behaves as usual. Set before run().
  void setBusyPolling(bool on);

  // IReactorTime
  double seconds() const override;
  using IReactorTime::callLater;
  DelayedCall callLater(double delaySeconds, std::function<void()> f) override;
  std::vector<DelayedCall> getDelayedCalls() const override;

  /// The one thread-safe entry point: f runs on the reactor thread soon, in the order queued.
  void callFromThread(std::function<void()> f);
  /// Twisted's callInThread (defined in reactor/threads.cc): runs f on a worker of getThreadPool().
  /// See reactor/threads.h for deferToThread and blockingCallFromThread. Throws AlreadyQuit once the
  /// pool has been stopped (the reactor stops it when it shuts down).
  void callInThread(std::function<void()> f);
  /// The most workers the pool may run (10 by default); applies at once to a running pool.
  void suggestThreadPoolSize(std::size_t size);
  /// The reactor's pool, created on first use; stopped and joined when the reactor shuts down.
  ThreadPool& getThreadPool();
  /// True on the thread that runs the reactor (the one that made it, until run()).
  bool isInIOThread() const;
  /// Runs f once the reactor is running (at once if it already is).
  void callWhenRunning(std::function<void()> f);
  TriggerId addSystemEventTrigger(Phase phase, SystemEvent event, std::function<void()> f);
  /// Twisted's addSystemEventTrigger with a trigger that returns a Deferred (a service's
  /// stopService): in the "before shutdown" phase the rest of the shutdown (ports stop, connections
  /// close, the "during"/"after" triggers) waits until every such Deferred has fired, for at most
  /// setBeforeShutdownTimeout() seconds; a failure is logged and the shutdown goes on. In the other
  /// phases the trigger runs and its Deferred is not waited for.
  template <class F>
    requires std::is_same_v<std::invoke_result_t<F&>, Deferred<void>>
  TriggerId addSystemEventTrigger(Phase phase, SystemEvent event, F f) {
    return addDeferredSystemEventTrigger(phase, event, std::function<Deferred<void>()>(std::move(f)));
  }
  TriggerId addDeferredSystemEventTrigger(Phase phase, SystemEvent event, std::function<Deferred<void>()> f);
  /// The longest the shutdown waits for "before shutdown" Deferreds; past it a warning names how
  /// many are still pending and the shutdown goes on. Twisted waits without bound; a service
  /// manager (systemd's TimeoutStopSec, 90 s by default) would then kill us uncleanly, so we bound it.
  static constexpr double kDefaultBeforeShutdownTimeout = 30.0;
  void setBeforeShutdownTimeout(double seconds);
  void removeSystemEventTrigger(TriggerId id);

  /// Runs f on the reactor thread each time the process receives `signum` (SIGHUP to reload
  /// configuration, SIGUSR1, ...), instead of the signal's default action. Twisted leaves this to
  /// signal.signal + callFromThread; here the loop delivers it, so f may use the reactor freely.
  /// Active from this call on: a signal that arrives before run() is delivered once the loop runs.
  /// Several handlers of one signal all run (in no set order). SIGINT/SIGTERM are run()'s
  /// (installSignalHandlers); a handler for them runs as well. An exception from f is logged.
  /// Throws std::invalid_argument for a signal that cannot be caught (SIGKILL, SIGSTOP, 0, ...).
  SignalHandlerId addSignalHandler(int signum, std::function<void()> f);
  /// Removes a handler (unknown ids are ignored). Once a signal has no handler left its default
  /// action is restored (for SIGHUP: terminate the process).
  void removeSignalHandler(SignalHandlerId id);

  /// Twisted's listenTCP. interface "" means every IPv4 address; an IPv6 literal ("::", "::1")
  /// listens on IPv6. Port 0 binds a free port (see getHost()). Throws CannotListenError.
  std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                            int backlog = 50, std::string_view interface = {}) override;
  /// Twisted's connectTCP. The factory's ClientFactory callbacks report the outcome. `bindAddress`
  /// (an IP literal, Twisted's bindAddress without the port): the local address to connect from.
  std::shared_ptr<IConnector> connectTCP(std::string_view host, std::uint16_t port,
                                         std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                         std::string_view bindAddress = {}) override;

  /// Twisted's listenUNIX (defined in reactor/detail/unix_port.cc); see IReactorUNIX. Throws
  /// CannotListenError naming the path and the step that failed.
  std::shared_ptr<IListeningPort> listenUNIX(std::string_view address, std::shared_ptr<Factory> factory,
                                             int backlog = 50, unsigned mode = 0666, bool wantPID = false) override;
  /// Twisted's connectUNIX (defined in reactor/detail/tcp_connector.cc). A missing socket file or
  /// one nobody listens on is clientConnectionFailed(ConnectionRefused).
  std::shared_ptr<IConnector> connectUNIX(std::string_view address, std::shared_ptr<ClientFactory> factory,
                                          double timeout = 30) override;

  /// Twisted's listenUDP (defined in reactor/udp.cc).
  std::shared_ptr<IListeningPort> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                            std::string_view interface = {},
                                            std::size_t maxPacketSize = 8192) override;
  /// TLS over TCP (defined in reactor/tls.cc): any Protocol runs over it unchanged.
  std::shared_ptr<IListeningPort> listenTLS(std::uint16_t port, std::shared_ptr<Factory> factory,
                                            const TlsOptions& options, int backlog = 50,
                                            std::string_view interface = {});

  /// Open connections (TCP, UNIX, TLS, serial) the reactor will close on stop().
  std::size_t connectionCount() const;

 private:
  friend struct detail::ReactorAccess;

  detail::ReactorImpl& impl() { return *impl_; }

  std::unique_ptr<detail::ReactorImpl> impl_;
};

}  // namespace reactor
