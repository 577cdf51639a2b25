// Waiting for several Deferreds with a bound: what the reactor's shutdown does with the Deferreds
// "before shutdown" triggers return (Twisted's _ThreePhaseEvent waits for a DeferredList of them,
// without bound). Public so services and tests can use it with a Clock.
#pragma once

#include <string>
#include <vector>

#include "reactor/defer.h"
#include "reactor/delayed_call.h"

namespace reactor {

/// Fires (with no value, never an errback) once every Deferred in `waits` has fired, or
/// `timeoutSeconds` after the call on `clock`, whichever comes first. A failure in one of them is
/// logged as an error naming `what` and consumed; at the timeout a warning names `what` and how many
/// are still pending, and they are left alone (not cancelled: a service may still finish cleanly).
/// With nothing to wait for (or everything already fired) it has fired when it returns.
Deferred<void> waitBounded(IReactorTime& clock, std::vector<Deferred<void>> waits, double timeoutSeconds,
                           std::string what);

}  // namespace reactor
