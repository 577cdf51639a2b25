// The libuv side of the Reactor: the loop, the one timer, the thread queue, signals and the
// registries that stop() walks. Internal: only reactor/ includes this.
#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "reactor/address.h"
#include "reactor/defer.h"
#include "reactor/delayed_call.h"
#include "reactor/reactor.h"

namespace reactor::detail {

/// A connection the reactor closes on stop() (TCP, TLS, serial).
class ManagedConnection {
 public:
  virtual ~ManagedConnection() = default;
  /// loseConnection(): flush, then close.
  virtual void shutdownGracefully() = 0;
  /// Close now.
  virtual void abortNow() = 0;
};

/// A listening port the reactor stops on stop().
class ManagedPort {
 public:
  virtual ~ManagedPort() = default;
  virtual void stopListening() = 0;
};

class ReactorImpl {
 public:
  explicit ReactorImpl(Reactor& owner);
  /// Calls close() if the owner did not.
  ~ReactorImpl();
  ReactorImpl(const ReactorImpl&) = delete;
  ReactorImpl& operator=(const ReactorImpl&) = delete;

  uv_loop_t* loop() { return &loop_; }
  Reactor& owner() { return owner_; }

  /// One 64 KiB buffer for every read on this loop: dataReceived is synchronous and its bytes are
  /// borrowed for the call, so no read allocates.
  static constexpr std::size_t kReadBufferSize = 64 * 1024;
  char* readBuffer() { return readBuffer_.data(); }

  void addConnection(ManagedConnection* c);
  void removeConnection(ManagedConnection* c);
  void addPort(ManagedPort* p) { ports_.insert(p); }
  void removePort(ManagedPort* p) { ports_.erase(p); }
  std::size_t connectionCount() const { return connections_.size(); }

  // --- used by Reactor --------------------------------------------------------------------------
  /// Aborts every connection (their connectionLost runs), stops every port, closes our own handles
  /// and the loop. Called by ~Reactor, while the Reactor is still whole; idempotent.
  void close();
  /// True from close() on: nothing new may start on this loop (a connector refuses to connect).
  bool destroying() const { return destroying_; }
  double seconds() const;
  TimerQueue& timers() { return timers_; }
  /// (Re)arms the one uv timer for the earliest deadline. `afterPass`: called at the end of a
  /// timer pass (see onUvTimer).
  void armTimer(bool afterPass = false);
  void queueFromThread(std::function<void()> f);
  /// Runs the callFromThread calls queued so far (what the uv_async_t wakes us for).
  void runThreadCalls();
  /// Stops and joins the thread pool, if one was made, serving callFromThread meanwhile
  /// (reactor/threads.cc).
  void stopThreadPool();
  void installSignalHandlers();
  SignalHandlerId addSignalHandler(int signum, std::function<void()> f);
  void removeSignalHandler(SignalHandlerId id);
  void requestShutdown();    // graceful stop(): beginShutdown on the next loop pass
  void beginShutdown();      // "before" triggers, then (once their Deferreds fired) closeAll
  void closeAll();           // ports stop, connections close within the grace period
  void finishShutdown();     // triggers "during"/"after", then uv_stop
  /// Runs the phase's triggers; returns the Deferreds the Deferred-returning ones gave.
  std::vector<Deferred<void>> fireTriggers(Phase phase, SystemEvent event);

  struct Trigger {
    TriggerId id;
    Phase phase;
    SystemEvent event;
    std::function<void()> f;
    std::function<Deferred<void>()> deferred;  // set instead of f by addDeferredSystemEventTrigger
  };
  std::vector<Trigger> triggers_;
  TriggerId nextTriggerId_ = 1;
  std::vector<std::function<void()>> whenRunning_;
  bool running_ = false;
  bool stopping_ = false;
  bool closingAll_ = false;  // closeAll() ran: the last connection to close finishes the shutdown
  bool ranOnce_ = false;
  bool inLoop_ = false;  // inside uv_run, so uv_stop takes effect now (not on the next uv_run)
  bool busyPolling_ = false;  // run() spins on UV_RUN_NOWAIT instead of sleeping in UV_RUN_DEFAULT
  double gracePeriod_ = 5.0;
  double beforeShutdownTimeout_ = Reactor::kDefaultBeforeShutdownTimeout;
  DelayedCall beforeShutdownCall_;  // the next-pass call stop() schedules
  // Callbacks on user Deferreds may outlive us (a Deferred fired after ~Reactor): they hold this weakly.
  std::shared_ptr<int> lifeToken_ = std::make_shared<int>(0);
  DelayedCall graceTimer_;
  std::unique_ptr<ThreadPool> threadPool_;  // made by the first callInThread/getThreadPool
  std::size_t threadPoolSize_ = 10;         // Twisted's reactor pool: ThreadPool(0, 10)
  std::atomic<std::thread::id> ioThread_{std::this_thread::get_id()};

 private:
  static void onUvTimer(uv_timer_t* handle);
  static void onUvIdle(uv_idle_t* handle);
  static void onUvAsync(uv_async_t* handle);
  static void onUvSignal(uv_signal_t* handle, int signum);
  static void onUvUserSignal(uv_signal_t* handle, int signum);

  /// One addSignalHandler registration, with its own uv_signal_t.
  struct UserSignal {
    uv_signal_t handle{};
    SignalHandlerId id = 0;
    std::function<void()> f;
  };

  Reactor& owner_;
  uv_loop_t loop_{};
  uv_timer_t timer_{};
  uv_idle_t idle_{};  // arms a due-now timer after the poll: see armTimer
  bool inTimerPass_ = false;
  bool destroying_ = false;
  bool closed_ = false;
  uv_async_t async_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  bool signalsInstalled_ = false;
  std::map<SignalHandlerId, UserSignal*> userSignals_;  // owned; freed in the close callback
  SignalHandlerId nextSignalHandlerId_ = 1;
  TimerQueue timers_;
  std::mutex threadMutex_;
  std::vector<std::function<void()>> threadCalls_;
  std::unordered_set<ManagedConnection*> connections_;
  std::unordered_set<ManagedPort*> ports_;
  std::array<char, kReadBufferSize> readBuffer_{};
};

/// Converts a socket address libuv gave us.
Address toAddress(const struct sockaddr* sa, Address::Type type);
/// A TCP handle's peer address (with `local`, its own end), or `fallback` when libuv has none.
Address tcpAddress(const uv_tcp_t* handle, bool local, Address fallback = {});
/// The one buildProtocol call of every port and connector (TCP and, through them, TLS): an
/// exception is logged with the peer and counts as a refusal, so the result is a protocol or null.
std::shared_ptr<Protocol> buildProtocolFor(Factory& factory, const Address& peer);
/// Fills `out` from an IP literal ("" means 0.0.0.0); returns a uv error code or 0.
int parseIp(std::string_view host, std::uint16_t port, struct sockaddr_storage& out);

/// How many reactors were destroyed with handles their owners never closed (tests assert 0).
std::size_t uncleanLoopCloses();

/// Runs f, logging and swallowing anything it throws. For trampolines that must not unwind into libuv.
void callSafely(const char* what, const std::function<void()>& f) noexcept;

}  // namespace reactor::detail
