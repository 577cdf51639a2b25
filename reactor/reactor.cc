// Port of twisted.internet.base.ReactorBase on libuv: run/stop/crash, timers on one uv_timer_t,
// callFromThread on a uv_async_t, system event triggers and signal-driven shutdown.
// Tests: tests/reactor/reactor_test.cc
#include "reactor/reactor.h"

#include <uv.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>

#include "reactor/bounded_wait.h"
#include "reactor/detail/reactor_impl.h"
#include "reactor/log.h"
#include "reactor/threads.h"

namespace reactor {
namespace detail {

namespace {
std::size_t gUncleanLoopCloses = 0;
}

std::size_t uncleanLoopCloses() { return gUncleanLoopCloses; }

void callSafely(const char* what, const std::function<void()>& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    log::error("unhandled exception in ", what, ": ", e.what());
  } catch (...) {
    log::error("unhandled non-standard exception in ", what);
  }
}

Address toAddress(const struct sockaddr* sa, Address::Type type) {
  Address a;
  a.type = type;
  char name[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    uv_ip6_name(in6, name, sizeof name);
    a.port = ntohs(in6->sin6_port);
    a.ipv6 = true;
  } else if (sa->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
    uv_ip4_name(in4, name, sizeof name);
    a.port = ntohs(in4->sin_port);
  }
  a.host = name;
  return a;
}

Address tcpAddress(const uv_tcp_t* handle, bool local, Address fallback) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  const int status = local ? uv_tcp_getsockname(handle, sa, &len) : uv_tcp_getpeername(handle, sa, &len);
  return status == 0 ? toAddress(sa, Address::Type::TCP) : fallback;
}

std::shared_ptr<Protocol> buildProtocolFor(Factory& factory, const Address& peer) {
  try {
    return factory.buildProtocol(peer);
  } catch (const std::exception& e) {
    log::error("buildProtocol for ", peer.toString(), " threw: ", e.what());
  } catch (...) {
    log::error("buildProtocol for ", peer.toString(), " threw");
  }
  return nullptr;
}

int parseIp(std::string_view host, std::uint16_t port, struct sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  std::string h(host);
  if (h.empty()) h = "0.0.0.0";
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.find(':') != std::string::npos) {
    return uv_ip6_addr(h.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out));
  }
  return uv_ip4_addr(h.c_str(), port, reinterpret_cast<sockaddr_in*>(&out));
}

ReactorImpl::ReactorImpl(Reactor& owner)
    : owner_(owner), timers_([this] { return seconds(); }, [this] { armTimer(); }) {
  int rc = uv_loop_init(&loop_);
  if (rc != 0) throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
  loop_.data = this;
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
  uv_async_init(&loop_, &async_, onUvAsync);
  async_.data = this;
}

ReactorImpl::~ReactorImpl() { close(); }

void ReactorImpl::close() {
  if (closed_) return;
  closed_ = true;
  destroying_ = true;
  running_ = false;
  // Triggers may hold objects that use the reactor when destroyed (a server kept alive by an
  // "after shutdown" trigger, see modbus::StartTcpServer with deferReactorRun): release them now,
  // while the loop is whole. Moved out first, so a destructor that removes a trigger finds none.
  {
    auto dropped = std::move(triggers_);
    triggers_.clear();
  }
  // Workers first: what they hand back through callFromThread still runs while they finish.
  stopThreadPool();
  // Close what is still open: connections first (their connectionLost runs), then ports, then ours.
  std::vector<ManagedConnection*> conns(connections_.begin(), connections_.end());
  for (auto* c : conns) {
    if (connections_.count(c)) c->abortNow();
  }
  std::vector<ManagedPort*> ports(ports_.begin(), ports_.end());
  for (auto* p : ports) {
    if (ports_.count(p)) p->stopListening();
  }
  auto closeOwn = [](uv_handle_t* h) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  };
  closeOwn(reinterpret_cast<uv_handle_t*>(&timer_));
  closeOwn(reinterpret_cast<uv_handle_t*>(&idle_));
  closeOwn(reinterpret_cast<uv_handle_t*>(&async_));
  if (signalsInstalled_) {
    closeOwn(reinterpret_cast<uv_handle_t*>(&sigint_));
    closeOwn(reinterpret_cast<uv_handle_t*>(&sigterm_));
  }
  while (!userSignals_.empty()) removeSignalHandler(userSignals_.begin()->first);
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) == UV_EBUSY) {
    ++gUncleanLoopCloses;
    log::error("reactor destroyed with libuv handles still open; closing them");
    uv_walk(
        &loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
}

void ReactorImpl::addConnection(ManagedConnection* c) { connections_.insert(c); }

void ReactorImpl::removeConnection(ManagedConnection* c) {
  if (connections_.erase(c) == 0) return;
  if (closingAll_ && running_ && connections_.empty()) {
    // Not from inside the close callback's caller frame: finish on the next timer pass.
    owner_.callLater(0.0, [this] { finishShutdown(); });
  }
}

double ReactorImpl::seconds() const { return static_cast<double>(uv_hrtime()) / 1e9; }

void ReactorImpl::armTimer(bool afterPass) {
  if (inTimerPass_ || closed_) return;  // onUvTimer re-arms once the pass is over
  auto next = timers_.nextDeadline();
  if (!next) {
    uv_timer_stop(&timer_);
    return;
  }
  uv_update_time(&loop_);
  double wait = *next - seconds();
  // libuv timers have millisecond resolution: round up so a call never runs before its deadline.
  std::uint64_t ms = wait <= 0 ? 0 : static_cast<std::uint64_t>(std::ceil(wait * 1000.0));
  if (ms == 0 && afterPass) {
    // libuv 1.44 runs a timer re-armed for "now" from its own callback again in the same timer
    // phase, so a callLater(0) chain would never let the loop poll for I/O. Arm it from the idle
    // phase instead: the poll that follows does not block, and the call runs on the next pass.
    uv_timer_stop(&timer_);
    uv_idle_start(&idle_, onUvIdle);
    return;
  }
  uv_timer_start(&timer_, onUvTimer, ms, 0);
}

void ReactorImpl::onUvTimer(uv_timer_t* handle) {
  auto* self = static_cast<ReactorImpl*>(handle->data);
  self->inTimerPass_ = true;
  self->timers_.runDue();  // never throws: a timed call's exception is logged inside
  self->inTimerPass_ = false;
  self->armTimer(/*afterPass=*/true);
}

void ReactorImpl::onUvIdle(uv_idle_t* handle) {
  auto* self = static_cast<ReactorImpl*>(handle->data);
  uv_idle_stop(handle);
  self->armTimer();
}

void ReactorImpl::queueFromThread(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> lock(threadMutex_);
    threadCalls_.push_back(std::move(f));
  }
  uv_async_send(&async_);
}

void ReactorImpl::onUvAsync(uv_async_t* handle) {
  static_cast<ReactorImpl*>(handle->data)->runThreadCalls();
}

void ReactorImpl::runThreadCalls() {
  // Run only what was queued when we woke (swap under the lock); this also absorbs the coalescing
  // of uv_async_send. A local vector: stopThreadPool may call this from inside a thread call.
  std::vector<std::function<void()>> calls;
  {
    std::lock_guard<std::mutex> lock(threadMutex_);
    calls.swap(threadCalls_);
  }
  for (auto& f : calls) callSafely("callFromThread", f);
}

void ReactorImpl::installSignalHandlers() {
  if (signalsInstalled_) return;
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  sigint_.data = this;
  sigterm_.data = this;
  uv_signal_start(&sigint_, onUvSignal, SIGINT);
  uv_signal_start(&sigterm_, onUvSignal, SIGTERM);
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigint_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigterm_));
  signalsInstalled_ = true;
}

void ReactorImpl::onUvSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<ReactorImpl*>(handle->data);
  log::info("received signal ", signum == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down");
  if (self->running_ && !self->stopping_) {
    self->requestShutdown();
  } else if (self->running_) {
    log::warning("second signal: stopping without waiting for connections");
    self->owner_.crash();
  }
}

SignalHandlerId ReactorImpl::addSignalHandler(int signum, std::function<void()> f) {
  if (closed_) throw std::logic_error("addSignalHandler: the reactor is closed");
  auto* s = new UserSignal;
  s->f = std::move(f);
  uv_signal_init(&loop_, &s->handle);
  s->handle.data = s;
  int rc = uv_signal_start(&s->handle, onUvUserSignal, signum);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->handle),
             [](uv_handle_t* h) { delete static_cast<UserSignal*>(h->data); });
    throw std::invalid_argument("addSignalHandler: signal " + std::to_string(signum) +
                                " cannot be handled: " + uv_strerror(rc));
  }
  // Like SIGINT/SIGTERM's: a handler alone does not keep the loop running.
  uv_unref(reinterpret_cast<uv_handle_t*>(&s->handle));
  s->id = nextSignalHandlerId_++;
  userSignals_.emplace(s->id, s);
  return s->id;
}

void ReactorImpl::removeSignalHandler(SignalHandlerId id) {
  auto it = userSignals_.find(id);
  if (it == userSignals_.end()) return;
  UserSignal* s = it->second;
  userSignals_.erase(it);
  uv_signal_stop(&s->handle);
  // The function may be the one running now (a handler removing itself): free it after the close.
  uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) { delete static_cast<UserSignal*>(h->data); });
}

void ReactorImpl::onUvUserSignal(uv_signal_t* handle, int) {
  auto* s = static_cast<UserSignal*>(handle->data);
  if (s->f) callSafely("signal handler", s->f);
}

std::vector<Deferred<void>> ReactorImpl::fireTriggers(Phase phase, SystemEvent event) {
  // Copy: a trigger may add or remove triggers.
  std::vector<Trigger> matching;
  for (auto& t : triggers_) {
    if (t.phase == phase && t.event == event) matching.push_back(t);
  }
  std::vector<Deferred<void>> waits;
  for (auto& t : matching) {
    bool stillThere = std::any_of(triggers_.begin(), triggers_.end(), [&](const Trigger& x) { return x.id == t.id; });
    if (!stillThere) continue;
    if (t.deferred) {
      // maybeDeferred: a trigger that throws gives a failed Deferred, logged by waitBounded.
      waits.push_back(maybeDeferred(t.deferred));
    } else {
      callSafely("system event trigger", t.f);
    }
  }
  return waits;
}

void ReactorImpl::requestShutdown() {
  stopping_ = true;
  // Twisted's stop() fires the shutdown event from callLater(0): the code calling stop() finishes
  // first, and the triggers see a reactor whose loop still turns (their Deferreds can fire).
  beforeShutdownCall_ = owner_.callLater(0.0, [this] { beginShutdown(); });
}

void ReactorImpl::beginShutdown() {
  if (!running_) return;
  auto waits = fireTriggers(Phase::Before, SystemEvent::Shutdown);
  bool allFired = std::all_of(waits.begin(), waits.end(), [](const Deferred<void>& d) { return d.called(); });
  if (allFired) {
    // Still through waitBounded: it logs the failures of triggers that already failed.
    waitBounded(owner_, std::move(waits), beforeShutdownTimeout_, "before-shutdown trigger");
    closeAll();
    return;
  }
  std::weak_ptr<int> alive = lifeToken_;
  waitBounded(owner_, std::move(waits), beforeShutdownTimeout_, "before-shutdown trigger").addCallback([this, alive] {
    if (!alive.expired() && running_) closeAll();
  });
}

void ReactorImpl::closeAll() {
  closingAll_ = true;
  std::vector<ManagedPort*> ports(ports_.begin(), ports_.end());
  for (auto* p : ports) p->stopListening();
  if (connections_.empty()) {
    owner_.callLater(0.0, [this] { finishShutdown(); });
    return;
  }
  std::vector<ManagedConnection*> conns(connections_.begin(), connections_.end());
  for (auto* c : conns) {
    if (connections_.count(c)) c->shutdownGracefully();
  }
  graceTimer_ = owner_.callLater(gracePeriod_, [this] {
    if (!connections_.empty()) {
      log::warning(connections_.size(), " connection(s) did not close within the grace period; aborting them");
      std::vector<ManagedConnection*> rest(connections_.begin(), connections_.end());
      for (auto* c : rest) {
        if (connections_.count(c)) c->abortNow();
      }
    }
    // Finish even if new connections appeared meanwhile (a client reconnecting from its callbacks):
    // stop() is bounded by the grace period. Their close callbacks run before this next pass.
    owner_.callLater(0.0, [this] { finishShutdown(); });
  });
}

void ReactorImpl::finishShutdown() {
  if (!running_) return;
  if (graceTimer_.active()) graceTimer_.cancel();
  // Twisted stops its pool in a "during shutdown" trigger: the work queued runs, workers are joined.
  stopThreadPool();
  fireTriggers(Phase::During, SystemEvent::Shutdown);  // Deferreds here are not waited for
  fireTriggers(Phase::After, SystemEvent::Shutdown);
  running_ = false;
  uv_stop(&loop_);
}

}  // namespace detail

Reactor::Reactor() : impl_(std::make_unique<detail::ReactorImpl>(*this)) {}

Reactor::~Reactor() { impl_->close(); }

void Reactor::run(bool installSignalHandlers) {
  auto& s = *impl_;
  if (s.running_) throw ReactorAlreadyRunning();
  if (s.ranOnce_) throw ReactorNotRestartable();
  s.ranOnce_ = true;
  s.running_ = true;
  s.ioThread_ = std::this_thread::get_id();
  // A peer that resets while we write must become ConnectionLost(EPIPE), not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (installSignalHandlers) s.installSignalHandlers();
  s.fireTriggers(Phase::Before, SystemEvent::Startup);
  s.fireTriggers(Phase::During, SystemEvent::Startup);
  s.fireTriggers(Phase::After, SystemEvent::Startup);
  auto pending = std::move(s.whenRunning_);
  s.whenRunning_.clear();
  for (auto& f : pending) {
    if (s.running_) detail::callSafely("callWhenRunning", f);
  }
  if (s.running_) {
    // The uv_async_t is referenced, so the loop runs until stop() even with nothing to do (as
    // Twisted's reactor does).
    s.inLoop_ = true;
    if (s.busyPolling_) {
      // finishShutdown() and crash() clear running_; the uv_stop they call ends this pass only.
      while (s.running_) uv_run(s.loop(), UV_RUN_NOWAIT);
    } else {
      uv_run(s.loop(), UV_RUN_DEFAULT);
    }
    s.inLoop_ = false;
  }
  s.running_ = false;
  s.stopping_ = false;
  s.closingAll_ = false;
}

void Reactor::stop() {
  auto& s = *impl_;
  if (!s.running_ || s.stopping_) throw ReactorNotRunning();
  s.requestShutdown();
}

void Reactor::crash() {
  auto& s = *impl_;
  s.running_ = false;
  // uv_stop outside uv_run would linger and make the next uv_run (the one that closes the loop in
  // ~Reactor) return at once; run() checks running_ before entering the loop anyway.
  if (s.inLoop_) uv_stop(s.loop());
}

bool Reactor::running() const { return impl_->running_; }

void Reactor::setBusyPolling(bool on) { impl_->busyPolling_ = on; }

void Reactor::setShutdownGracePeriod(double seconds) { impl_->gracePeriod_ = seconds; }

void Reactor::setBeforeShutdownTimeout(double seconds) {
  if (!(seconds >= 0)) throw std::invalid_argument("setBeforeShutdownTimeout: seconds must be >= 0");
  impl_->beforeShutdownTimeout_ = seconds;
}

double Reactor::seconds() const { return impl_->seconds(); }

DelayedCall Reactor::callLater(double delaySeconds, std::function<void()> f) {
  return impl_->timers().schedule(delaySeconds, std::move(f));
}

std::vector<DelayedCall> Reactor::getDelayedCalls() const { return impl_->timers().activeCalls(); }

void Reactor::callFromThread(std::function<void()> f) { impl_->queueFromThread(std::move(f)); }

void Reactor::callWhenRunning(std::function<void()> f) {
  if (impl_->running_) {
    f();
  } else {
    impl_->whenRunning_.push_back(std::move(f));
  }
}

TriggerId Reactor::addSystemEventTrigger(Phase phase, SystemEvent event, std::function<void()> f) {
  TriggerId id = impl_->nextTriggerId_++;
  impl_->triggers_.push_back({id, phase, event, std::move(f), {}});
  return id;
}

SignalHandlerId Reactor::addSignalHandler(int signum, std::function<void()> f) {
  return impl_->addSignalHandler(signum, std::move(f));
}

void Reactor::removeSignalHandler(SignalHandlerId id) { impl_->removeSignalHandler(id); }

TriggerId Reactor::addDeferredSystemEventTrigger(Phase phase, SystemEvent event, std::function<Deferred<void>()> f) {
  TriggerId id = impl_->nextTriggerId_++;
  impl_->triggers_.push_back({id, phase, event, {}, std::move(f)});
  return id;
}

void Reactor::removeSystemEventTrigger(TriggerId id) {
  auto& t = impl_->triggers_;
  t.erase(std::remove_if(t.begin(), t.end(), [id](const auto& x) { return x.id == id; }), t.end());
}

std::size_t Reactor::connectionCount() const { return impl_->connectionCount(); }

}  // namespace reactor
