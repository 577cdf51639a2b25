// Port of twisted.internet.protocol.ReconnectingClientFactory: a ClientFactory that connects again
// after every failed attempt and every lost connection, waiting longer each time.
//
// Rules it keeps (Twisted's, constants included):
// - The delay starts at initialDelay; each retry first multiplies it by factor (so the first retry
//   waits initialDelay * factor, as in Twisted), caps it at maxDelay, then draws it from a normal
//   distribution of mean `delay` and standard deviation delay * jitter. A draw below 0 waits 0.
// - After maxRetries retries (when set) it gives up. stopTrying() cancels a pending retry, stops an
//   attempt in progress and prevents any further one; resetDelay() (call it once a connection is
//   made and working, usually from buildProtocol) starts over from initialDelay and re-enables
//   retrying.
// - The connector it retries is the one the last callback named (Twisted's `connector`); keep what
//   connectTCP returned alive as long as the factory may retry.
// Tests: tests/reactor/reconnecting_client_factory_test.cc
#pragma once

#include <functional>
#include <optional>

#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace reactor {

class ReconnectingClientFactory : public ClientFactory {
 public:
  /// Retries are scheduled on `clock` (the Reactor, or a ManualClock in tests).
  explicit ReconnectingClientFactory(IReactorTime& clock);
  /// Cancels a pending retry.
  ~ReconnectingClientFactory() override;

  // Twisted's class attributes, with its values.
  double maxDelay = 3600;
  double initialDelay = 1.0;
  double factor = 2.7182818284590451;  // e
  double jitter = 0.11962656472;       // molar Planck constant times c, joule meter/mole
  std::optional<int> maxRetries;
  /// The current delay and the retries made since the last resetDelay().
  double delay = initialDelay;
  int retries = 0;
  bool continueTrying = true;
  /// The connector of the last attempt (null before the first callback).
  IConnector* connector = nullptr;
  /// Draws the jittered delay: (mean, standard deviation) → seconds. Defaults to a seeded
  /// std::normal_distribution; a test replaces it to make the draw known.
  std::function<double(double mean, double stddev)> normalvariate;

  /// Both retry while continueTrying (override and call the base to keep that).
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
  void clientConnectionLost(IConnector& connector, const Failure& reason) override;

  /// Schedules connector.connect() after the next delay (`c`, or the last connector when null).
  /// Throws std::logic_error when there is no connector at all.
  void retry(IConnector* c = nullptr);
  void stopTrying();
  void resetDelay();
  /// The scheduled retry, if one is pending.
  const DelayedCall& pendingRetry() const { return callId_; }

 private:
  IReactorTime& clock_;
  DelayedCall callId_;
};

}  // namespace reactor
