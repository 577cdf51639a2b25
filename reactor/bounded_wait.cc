#include "reactor/bounded_wait.h"

#include <cstddef>
#include <memory>
#include <utility>

#include "reactor/log.h"

namespace reactor {

Deferred<void> waitBounded(IReactorTime& clock, std::vector<Deferred<void>> waits, double timeoutSeconds,
                           std::string what) {
  struct Shared {
    Deferred<void> out;
    std::size_t pending = 0;
    DelayedCall timer;
    std::string what;
  };
  auto shared = std::make_shared<Shared>();
  shared->pending = waits.size();
  shared->what = std::move(what);
  Deferred<void> out = shared->out;
  auto oneDone = [shared] {
    if (--shared->pending > 0 || shared->out.called()) return;
    if (shared->timer.active()) shared->timer.cancel();
    shared->out.callback();
  };
  if (waits.empty()) {
    out.callback();
    return out;
  }
  for (auto& d : waits) {
    // Each input's own chain is ended here: its failure is reported once, by us.
    d.addCallbacks([oneDone] { oneDone(); },
                   [oneDone, shared](Failure f) {
                     log::error(shared->what, " failed: ", f.getErrorMessage());
                     oneDone();
                   });
  }
  if (!out.called()) {
    // Strong: inputs nobody holds any more must still end the wait at the timeout. The cycle
    // (shared -> timer -> this function -> shared) ends when the call runs or is cancelled.
    shared->timer = clock.callLater(timeoutSeconds, [s = shared, timeoutSeconds] {
      if (s->out.called()) return;
      log::warning(s->pending, " ", s->what, "(s) still pending after ", timeoutSeconds, " s; going on without them");
      s->out.callback();
    });
  }
  return out;
}

}  // namespace reactor
