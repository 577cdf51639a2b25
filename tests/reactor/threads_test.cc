// Tests for reactor/threads.h, after Twisted's test_threads.py (ThreadPoolSizeTests, ThreadsTests,
// DeferToThreadPoolTests, BlockingCallFromThreadTests) and test_threadpool.py. Every wait on a
// worker is a condition with a bounded deadline (Gate), never a sleep; the reactor runs under
// runReactor's limit.
#include "reactor/threads.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/reactor_harness.h"

namespace {

using reactor::Deferred;
using reactor::Failure;
using reactor::Reactor;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;
using reactor::testing::runReactor;

/// A latch workers wait on; wait() gives up after `limit` seconds and says so.
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait(double limit = 5.0) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(limit), [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

/// Waits (bounded) until pred() holds, re-checking whenever bump() is called.
class Counter {
 public:
  void bump() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++value_;
    changed_.notify_all();
  }
  bool waitFor(int atLeast, double limit = 5.0) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(limit), [&] { return value_ >= atLeast; });
  }
  int value() {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int value_ = 0;
};

TEST_CASE("deferToThread runs the function on a worker and fires the Deferred on the reactor thread") {
  LoopCleanCheck clean;
  Reactor reactor;
  const auto mainThread = std::this_thread::get_id();
  std::thread::id workerThread, callbackThread;
  int got = 0;
  reactor.callWhenRunning([&] {
    reactor::deferToThread(reactor, [&] {
      workerThread = std::this_thread::get_id();
      return 42;
    }).addCallback([&](int v) {
      got = v;
      callbackThread = std::this_thread::get_id();
      reactor.stop();
    });
  });
  runReactor(reactor);
  CHECK(got == 42);
  CHECK(workerThread != mainThread);
  CHECK(callbackThread == mainThread);
}

TEST_CASE("deferToThread errbacks with the exception the function threw") {
  LoopCleanCheck clean;
  Reactor reactor;
  std::optional<Failure> failure;
  reactor.callWhenRunning([&] {
    reactor::deferToThread(reactor, []() -> std::string { throw std::out_of_range("no such register"); })
        .addCallbacks([](std::string) {}, [&](Failure f) {
          failure = f;
          reactor.stop();
        });
  });
  runReactor(reactor);
  REQUIRE(failure);
  CHECK(failure->check<std::out_of_range>());
  CHECK(failure->getErrorMessage().find("no such register") != std::string::npos);
}

TEST_CASE("deferToThread of a void function fires Deferred<void>, and many calls all arrive") {
  LoopCleanCheck clean;
  Reactor reactor;
  std::atomic<int> ran{0};
  int fired = 0;
  reactor.callWhenRunning([&] {
    for (int i = 0; i < 50; ++i) {
      reactor::deferToThread(reactor, [&] { ++ran; }).addCallback([&] {
        if (++fired == 50) reactor.stop();
      });
    }
  });
  runReactor(reactor);
  CHECK(ran == 50);
  CHECK(fired == 50);
}

TEST_CASE("a cancelled deferToThread Deferred errbacks at once and ignores the function's later result") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  Gate gate;
  bool cancelled = false;
  bool calledBack = false;
  reactor.callWhenRunning([&] {
    auto d = reactor::deferToThread(reactor, [&] {
      gate.wait();
      return 1;
    });
    d.addCallbacks([&](int) { calledBack = true; }, [&](Failure f) {
      cancelled = f.check<reactor::CancelledError>();
    });
    d.cancel();
    CHECK(cancelled);
    gate.open();
    // The worker's result reaches the reactor no later than the pool's join in stop().
    reactor.stop();
  });
  runReactor(reactor);
  CHECK(cancelled);
  CHECK_FALSE(calledBack);
  CHECK(logs.errors == 0);  // no AlreadyCalledError, no unhandled failure
}

TEST_CASE("suggestThreadPoolSize sets the pool's bound, before and after the pool exists") {
  LoopCleanCheck clean;
  Reactor reactor;
  reactor.suggestThreadPoolSize(34);
  CHECK(reactor.getThreadPool().maxThreads() == 34);
  reactor.suggestThreadPoolSize(4);
  CHECK(reactor.getThreadPool().maxThreads() == 4);
  reactor.suggestThreadPoolSize(0);  // at least one worker, or nothing would ever run
  CHECK(reactor.getThreadPool().maxThreads() == 1);
}

TEST_CASE("the pool runs at most suggestThreadPoolSize workers, and the rest of the work waits its turn") {
  LoopCleanCheck clean;
  Reactor reactor;
  reactor.suggestThreadPoolSize(2);
  Gate gate;
  Counter started;
  std::atomic<int> running{0};
  std::atomic<int> mostAtOnce{0};
  int finished = 0;
  std::size_t workersSeen = 0, pendingSeen = 0;
  reactor.callWhenRunning([&] {
    for (int i = 0; i < 5; ++i) {
      reactor::deferToThread(reactor, [&] {
        int now = ++running;
        int seen = mostAtOnce.load();
        while (now > seen && !mostAtOnce.compare_exchange_weak(seen, now)) {
        }
        started.bump();
        gate.wait();
        --running;
      }).addCallback([&] {
        if (++finished == 5) reactor.stop();
      });
    }
    // Two workers take two jobs and block; no third worker may start.
    CHECK(started.waitFor(2));
    workersSeen = reactor.getThreadPool().workers();
    pendingSeen = reactor.getThreadPool().pending();
    gate.open();
  });
  runReactor(reactor);
  CHECK(workersSeen == 2);
  CHECK(pendingSeen == 3);
  CHECK(mostAtOnce <= 2);
  CHECK(finished == 5);
}

TEST_CASE("stopping the reactor runs the queued work and joins the pool, and callInThread afterwards is AlreadyQuit") {
  LoopCleanCheck clean;
  Reactor reactor;
  reactor.suggestThreadPoolSize(1);
  std::atomic<int> ran{0};
  reactor.callWhenRunning([&] {
    for (int i = 0; i < 3; ++i) reactor.callInThread([&] { ++ran; });
    reactor.stop();  // the one worker may not even have started the first job yet
  });
  runReactor(reactor);
  CHECK(ran == 3);
  CHECK(reactor.getThreadPool().joined());
  CHECK(reactor.getThreadPool().workers() == 0);
  CHECK_THROWS_AS(reactor.callInThread([] {}), reactor::AlreadyQuit);
}

TEST_CASE("a reactor that never ran still runs its queued thread work and joins the pool when destroyed") {
  LoopCleanCheck clean;
  std::atomic<int> ran{0};
  {
    Reactor reactor;
    reactor.callInThread([&] { ++ran; });
    reactor.callInThread([&] { ++ran; });
  }
  CHECK(ran == 2);
}

TEST_CASE("an exception thrown in callInThread is logged on the reactor thread and the pool carries on") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  reactor.suggestThreadPoolSize(1);
  bool after = false;
  reactor.callWhenRunning([&] {
    reactor.callInThread([] { throw std::runtime_error("worker broke"); });
    reactor::deferToThread(reactor, [] { return true; }).addCallback([&](bool v) {
      after = v;
      reactor.stop();
    });
  });
  runReactor(reactor);
  CHECK(after);
  CHECK(logs.count("worker broke") == 1);
}

TEST_CASE("isInIOThread is true on the reactor thread only") {
  LoopCleanCheck clean;
  Reactor reactor;
  bool onReactor = false;
  bool onWorker = true;
  reactor.callWhenRunning([&] {
    onReactor = reactor.isInIOThread();
    reactor::deferToThread(reactor, [&] { return reactor.isInIOThread(); }).addCallback([&](bool v) {
      onWorker = v;
      reactor.stop();
    });
  });
  runReactor(reactor);
  CHECK(onReactor);
  CHECK_FALSE(onWorker);
}

TEST_CASE("blockingCallFromThread returns the value, waits for a Deferred, and rethrows an exception") {
  LoopCleanCheck clean;
  Reactor reactor;
  int plain = 0;
  int deferred = 0;
  std::string thrown;
  bool onReactorThread = false;
  reactor.callWhenRunning([&] {
    reactor::deferToThread(reactor, [&] {
      plain = reactor::blockingCallFromThread(reactor, [&] {
        onReactorThread = reactor.isInIOThread();
        return 7;
      });
      deferred = reactor::blockingCallFromThread(reactor, [&] {
        return reactor::deferLater(reactor, 0.0, [] { return 8; });
      });
      try {
        reactor::blockingCallFromThread(reactor, []() -> int { throw std::invalid_argument("bad"); });
      } catch (const std::invalid_argument& e) {
        thrown = e.what();
      }
    }).addCallback([&] { reactor.stop(); });
  });
  runReactor(reactor);
  CHECK(plain == 7);
  CHECK(onReactorThread);
  CHECK(deferred == 8);
  CHECK(thrown == "bad");
}

TEST_CASE("blockingCallFromThread on the reactor thread is refused instead of waiting for itself") {
  LoopCleanCheck clean;
  Reactor reactor;
  bool refused = false;
  reactor.callWhenRunning([&] {
    try {
      reactor::blockingCallFromThread(reactor, [] { return 1; });
    } catch (const std::logic_error&) {
      refused = true;
    }
    reactor.stop();
  });
  runReactor(reactor);
  CHECK(refused);
}

TEST_CASE("a worker inside blockingCallFromThread during shutdown is served, so stop() cannot deadlock") {
  LoopCleanCheck clean;
  Reactor reactor;
  Gate gate;
  int answer = 0;
  reactor.callWhenRunning([&] {
    reactor.callInThread([&] {
      gate.wait();  // until the reactor is already stopping
      answer = reactor::blockingCallFromThread(reactor, [] { return 5; });
    });
    reactor.addSystemEventTrigger(reactor::Phase::Before, reactor::SystemEvent::Shutdown, [&] { gate.open(); });
    reactor.stop();
  });
  runReactor(reactor);
  CHECK(answer == 5);
}

TEST_CASE("ThreadPool alone: adjustPoolsize lets queued work start, stop joins and refuses more") {
  reactor::ThreadPool pool(1);
  Gate gate;
  Counter started;
  for (int i = 0; i < 3; ++i) {
    pool.callInThread([&] {
      started.bump();
      gate.wait();
    });
  }
  CHECK(started.waitFor(1));
  CHECK(pool.workers() == 1);
  CHECK(pool.pending() == 2);
  pool.adjustPoolsize(3);
  CHECK(started.waitFor(3));
  CHECK(pool.workers() == 3);
  gate.open();
  pool.stop();
  CHECK(pool.joined());
  CHECK(pool.workers() == 0);
  CHECK_THROWS_AS(pool.callInThread([] {}), reactor::AlreadyQuit);
}

}  // namespace
