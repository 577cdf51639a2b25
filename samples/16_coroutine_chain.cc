// Port of Twisted's inlineCallbacks examples (docs "Introduction to Deferreds", "inlineCallbacks"):
// a coroutine returning Deferred<T> co_awaits a timer (deferLater) and then blocking work on the
// reactor's thread pool (deferToThread), as one straight-line function; an exception anywhere in
// it — here thrown on the pool thread — arrives as the errback of the coroutine's Deferred.
// Prints "average: ..." from the first chain and "errback: ..." from the second, then stops.
// Usage: 16_coroutine_chain [DELAY_SECONDS] (0.05 by default).
#include <cstdio>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reactor/defer.h"
#include "reactor/failure.h"
#include "reactor/reactor.h"
#include "reactor/threads.h"

namespace {

/// Reads samples after `delay` (a timer, as a polled device would), averages them on a pool thread
/// (work that would block the reactor), and returns the average.
reactor::Deferred<double> averageReading(reactor::Reactor& reactor, double delay) {
  std::vector<int> samples =
      co_await reactor::deferLater(reactor, delay, [] { return std::vector<int>{18, 21, 20, 19, 22}; });
  // A named function object, not a lambda temporary inside the co_await expression: g++ 12 destroys
  // such a temporary's captures twice (AddressSanitizer reports a double free).
  auto average = [samples] {
    // On a pool thread: the reactor keeps serving meanwhile.
    return std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  };
  double result = co_await reactor::deferToThread(reactor, std::move(average));
  co_return result;
}

/// The same chain for a sensor that fails: the exception thrown on the pool thread is rethrown at
/// co_await, leaves the coroutine, and becomes its Deferred's errback.
reactor::Deferred<double> failingReading(reactor::Reactor& reactor, double delay) {
  co_await reactor::deferLater(reactor, delay, [] {});
  double value = co_await reactor::deferToThread(reactor, []() -> double {
    throw std::runtime_error("sensor 2 did not answer");
  });
  co_return value;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    double delay = argc > 1 ? std::stod(argv[1]) : 0.05;
    if (delay < 0) throw std::out_of_range("delay");
    reactor::Reactor reactor;
    int pending = 2;
    auto finished = [&reactor, &pending] {
      if (--pending == 0) reactor.stop();
    };
    reactor.callWhenRunning([&] {
      averageReading(reactor, delay)
          .addCallbacks([](double average) { std::printf("average: %.1f\n", average); },
                        [](const reactor::Failure& f) { std::printf("unexpected errback: %s\n", f.getErrorMessage().c_str()); })
          .addBoth([&finished](auto&&...) { finished(); });
      failingReading(reactor, delay)
          .addCallbacks([](double value) { std::printf("unexpected value: %f\n", value); },
                        [](const reactor::Failure& f) { std::printf("errback: %s\n", f.getErrorMessage().c_str()); })
          .addBoth([&finished](auto&&...) { finished(); });
    });
    reactor.run();
    std::fflush(stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "16_coroutine_chain: %s\nusage: 16_coroutine_chain [DELAY_SECONDS]\n", e.what());
    return 1;
  }
}
