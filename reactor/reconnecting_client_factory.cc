// ReconnectingClientFactory (twisted.internet.protocol).
// Tests: tests/reactor/reconnecting_client_factory_test.cc
#include "reactor/reconnecting_client_factory.h"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "reactor/log.h"

namespace reactor {

ReconnectingClientFactory::ReconnectingClientFactory(IReactorTime& clock) : clock_(clock) {
  normalvariate = [engine = std::mt19937_64(std::random_device{}())](double mean, double stddev) mutable {
    return std::normal_distribution<double>(mean, stddev)(engine);
  };
}

ReconnectingClientFactory::~ReconnectingClientFactory() {
  if (callId_.active()) callId_.cancel();
}

void ReconnectingClientFactory::clientConnectionFailed(IConnector& c, const Failure& reason) {
  (void)reason;
  if (!continueTrying) return;
  connector = &c;
  retry();
}

void ReconnectingClientFactory::clientConnectionLost(IConnector& c, const Failure& reason) {
  (void)reason;
  if (!continueTrying) return;
  connector = &c;
  retry();
}

void ReconnectingClientFactory::retry(IConnector* c) {
  if (!continueTrying) {
    log::debug("ReconnectingClientFactory: abandoning on explicit request");
    return;
  }
  if (!c) c = connector;
  if (!c) throw std::logic_error("ReconnectingClientFactory::retry: no connector to retry");
  ++retries;
  if (maxRetries && retries > *maxRetries) {
    log::info("ReconnectingClientFactory: abandoning ", c->getDestination().toString(), " after ", retries - 1,
              " retries");
    return;
  }
  delay = std::min(delay * factor, maxDelay);
  if (jitter != 0 && normalvariate) delay = normalvariate(delay, delay * jitter);
  // A normal draw can fall below zero; callLater refuses a negative delay.
  delay = std::max(delay, 0.0);
  log::debug("ReconnectingClientFactory: will retry ", c->getDestination().toString(), " in ", delay, " s");
  if (callId_.active()) callId_.cancel();
  callId_ = clock_.callLater(delay, [this, c] {
    callId_ = DelayedCall();
    c->connect();
  });
}

void ReconnectingClientFactory::stopTrying() {
  if (callId_.active()) callId_.cancel();
  callId_ = DelayedCall();
  continueTrying = false;
  if (connector) {
    try {
      connector->stopConnecting();
    } catch (const std::logic_error&) {
      // Not connecting (Twisted's NotConnectingError): nothing to stop.
    }
  }
}

void ReconnectingClientFactory::resetDelay() {
  delay = initialDelay;
  retries = 0;
  continueTrying = true;  // unlike Twisted, a retry still pending stays known, so ~ can cancel it
}

}  // namespace reactor
