// when(reactor, ready, then): the reactor tests' way to wait for a condition instead of a delay.
// `ready` is polled every 5 ms on the reactor; `then` runs once it holds. Nothing bounds the wait
// but the test's runReactor limit, which fails the test rather than hanging it. Used by the tests
// in tests/reactor/ whose outcome must not depend on how fast the machine is.
#pragma once

#include <functional>

#include "reactor/reactor.h"

namespace reactortest {

inline void when(reactor::Reactor& reactor, std::function<bool()> ready, std::function<void()> then) {
  if (ready()) {
    then();
    return;
  }
  reactor.callLater(0.005, [&reactor, ready = std::move(ready), then = std::move(then)]() mutable {
    when(reactor, std::move(ready), std::move(then));
  });
}

}  // namespace reactortest
