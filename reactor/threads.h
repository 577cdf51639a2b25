// Port of twisted.python.threadpool.ThreadPool and twisted.internet.threads: run blocking code on a
// bounded pool of worker threads and have its outcome back on the reactor thread.
//
// Rules it keeps (Twisted's):
// - One thread runs the reactor; workers never touch it except through Reactor::callFromThread, the
//   one thread-safe door. deferToThread's Deferred is created, fired and destroyed on the reactor
//   thread only; the worker carries it (moved, never copied) to callFromThread.
// - The pool holds at most maxThreads workers (Reactor::suggestThreadPoolSize, 10 by default as the
//   reactor's ThreadPool(0, 10)); a worker is started only when work is queued and none is idle.
//   Work beyond that waits in order (the queue itself is unbounded, as Twisted's is).
// - stop() lets the work already queued run, then joins every worker. The reactor stops its pool
//   when it shuts down (Twisted's "during shutdown" trigger) and in its destructor; while it waits it
//   keeps running callFromThread calls, so a worker inside blockingCallFromThread cannot deadlock it.
//   After stop(), callInThread throws AlreadyQuit. Work still queued or running when the Reactor
//   is destroyed runs to its end inside the destructor: what it uses must outlive the Reactor
//   (declare it before the Reactor).
// Tests: tests/reactor/threads_test.cc
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "reactor/defer.h"
#include "reactor/reactor.h"

namespace reactor {

/// callInThread on a pool that was stopped (Twisted's twisted._threads.AlreadyQuit).
class AlreadyQuit : public std::logic_error {
 public:
  AlreadyQuit() : std::logic_error("AlreadyQuit: the thread pool has been stopped") {}
};

/// Twisted's ThreadPool(minthreads=0, maxthreads). Every method is thread-safe.
class ThreadPool {
 public:
  explicit ThreadPool(std::size_t maxThreads = 10);
  /// stop(): the queued work runs, then every worker is joined.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues f for a worker. An exception f throws is logged (on the worker thread) and dropped:
  /// use deferToThread to get it back. Throws AlreadyQuit after stop().
  void callInThread(std::function<void()> f);
  /// Twisted's adjustPoolsize(maxthreads=...): at least 1. Workers above the new bound exit once idle.
  void adjustPoolsize(std::size_t maxThreads);
  std::size_t maxThreads() const;
  /// Workers started and not yet exited.
  std::size_t workers() const;
  /// Workers waiting for work (Twisted's `waiters`).
  std::size_t idle() const;
  /// Work queued and not yet taken by a worker (Twisted's `q`).
  std::size_t pending() const;
  /// Let the queued work run, then join every worker. `whileWaiting` (optional) is called on this
  /// thread every few milliseconds until they have all exited. Idempotent; not from a worker.
  void stop(const std::function<void()>& whileWaiting = nullptr);
  /// True once stop() has begun (Twisted's `joined`).
  bool joined() const;

 private:
  void work();

  mutable std::mutex mutex_;
  std::condition_variable workAvailable_;
  std::condition_variable workerExited_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  std::size_t maxThreads_;
  std::size_t live_ = 0;
  std::size_t idle_ = 0;
  bool joined_ = false;
};

/// Twisted's threads.deferToThread: runs fn() on the reactor's pool and fires the returned Deferred
/// on the reactor thread with what fn returned, or errbacks with what it threw. Call it on the
/// reactor thread. Cancelling the Deferred cannot stop fn: it errbacks with CancelledError at once
/// and fn's outcome is then dropped (as in Twisted). Throws AlreadyQuit once the pool is stopped.
template <class F>
auto deferToThread(Reactor& reactor, F fn) {
  using U = std::invoke_result_t<F&>;
  using Stored = detail::Stored<U>;
  Deferred<U> d;
  reactor.callInThread([&reactor, d, fn = std::move(fn)]() mutable {
    std::optional<Stored> value;
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<U>) {
        fn();
        value.emplace();
      } else {
        value.emplace(fn());
      }
    } catch (...) {
      error = std::current_exception();
    }
    // Moved, not copied: this worker must hold no reference to the Deferred once the reactor has
    // it, or the last one could go (and the chain's callbacks be destroyed) on this thread.
    reactor.callFromThread([d = std::move(d), value = std::move(value), error]() mutable {
      if (d.called()) return;  // cancelled meanwhile
      if (error) {
        d.errback(Failure::fromException(error));
      } else if constexpr (std::is_void_v<U>) {
        d.callback();
      } else {
        d.callback(std::move(*value));
      }
    });
  });
  return d;
}

/// Twisted's threads.blockingCallFromThread: from a thread that is not the reactor's, runs fn() on
/// the reactor thread and waits for its outcome. fn may return a value, a Deferred (waited for) or
/// throw; the value is returned here, the exception rethrown here (a Failure without an exception
/// is thrown as the Failure). Throws std::logic_error when called on the reactor thread (it would
/// wait for itself). The reactor must be running or stopping (its shutdown keeps serving these).
template <class F>
auto blockingCallFromThread(Reactor& reactor, F fn) {
  using U = typename detail::Unwrap<std::invoke_result_t<F&>>::type;
  if (reactor.isInIOThread()) throw std::logic_error("blockingCallFromThread called on the reactor thread");
  struct Outcome {
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    std::optional<detail::Stored<U>> value;
    std::optional<Failure> failure;
  };
  auto outcome = std::make_shared<Outcome>();
  reactor.callFromThread([outcome, fn = std::move(fn)]() mutable {
    auto finish = [outcome](auto&& fill) {
      std::lock_guard<std::mutex> lock(outcome->mutex);
      fill(*outcome);
      outcome->done = true;
      outcome->ready.notify_all();
    };
    Deferred<U> d = maybeDeferred(fn);
    if constexpr (std::is_void_v<U>) {
      d.addCallbacks([finish] { finish([](Outcome& o) { o.value.emplace(); }); },
                     [finish](Failure f) { finish([&f](Outcome& o) { o.failure = std::move(f); }); });
    } else {
      d.addCallbacks([finish](U v) { finish([&v](Outcome& o) { o.value.emplace(std::move(v)); }); },
                     [finish](Failure f) { finish([&f](Outcome& o) { o.failure = std::move(f); }); });
    }
  });
  std::unique_lock<std::mutex> lock(outcome->mutex);
  outcome->ready.wait(lock, [&] { return outcome->done; });
  if (outcome->failure) detail::raise(*outcome->failure);
  if constexpr (!std::is_void_v<U>) return std::move(*outcome->value);
}

}  // namespace reactor
