// Port of twisted.protocols.policies: ProtocolWrapper / WrappingFactory (put a protocol between a
// transport and the protocol a factory builds), ThrottlingFactory (a connection limit, and read and
// write bandwidth limits), LimitConnectionsByPeer, and TimeoutMixin (close a connection after a
// period of silence).
//
// Rules they keep (Twisted's):
// - The wrapped protocol sees the ProtocolWrapper as its transport: what it writes goes through the
//   wrapper's write (override it to watch or change the bytes), what arrives goes through the
//   wrapper's dataReceived. connectionLost reaches the wrapped protocol exactly once, marked
//   disconnected first. The wrapped protocol's transport holds the wrapper weakly, so nothing forms
//   a cycle; once the wrapper is gone it is a dead transport (writes ignored, connected() false).
// - A WrappingFactory registers each wrapper while it is connected (protocols()); it starts and
//   stops the wrapped factory with itself and passes ClientFactory callbacks on.
// - Refusals are buildProtocol returning nullptr, as everywhere in the reactor.
// - Timers (ThrottlingFactory, TimeoutMixin) run on the IReactorTime they are given, so tests use a
//   ManualClock; objects cancel their own timers when destroyed.
// Tests: tests/reactor/policies_test.cc
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "reactor/delayed_call.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor {

class WrappingFactory;

/// Twisted's ProtocolWrapper. Subclass it and override the hooks (and write) to intercept traffic;
/// call the base to pass it on. Half-close passes through: the wrapper opts in on the real transport
/// and hands readConnectionLost/writeConnectionLost to a wrapped protocol that opts in too; for one
/// that does not, the peer's EOF closes the connection once what is queued is written, as the
/// transport itself would have done.
class ProtocolWrapper : public Protocol, public IHalfCloseableProtocol {
 public:
  ProtocolWrapper(std::shared_ptr<WrappingFactory> factory, std::shared_ptr<Protocol> wrappedProtocol);

  /// Registers with the factory, then connects the wrapped protocol (with this as its transport).
  void connectionMade() override;
  void dataReceived(ByteView data) override;
  /// Unregisters from the factory, then delivers connectionLost to the wrapped protocol.
  void connectionLost(const Failure& reason) override;
  void readConnectionLost() override;
  void writeConnectionLost() override;

  // What the wrapped protocol calls on its transport; by default passed to this one's transport.
  virtual void write(ByteView data);
  virtual void writeSequence(std::span<const ByteView> pieces);
  virtual void loseConnection();
  virtual void loseWriteConnection();
  virtual void abortConnection();
  virtual Address getPeer() const;
  virtual Address getHost() const;
  virtual void registerProducer(std::shared_ptr<IProducer> producer, bool streaming);
  virtual void unregisterProducer();
  virtual void pauseProducing();
  virtual void resumeProducing();
  virtual void stopProducing();

  /// Twisted's `wrappedProtocol`.
  const std::shared_ptr<Protocol> wrappedProtocol;
  WrappingFactory& wrappingFactory() const { return *factory_; }

 private:
  std::shared_ptr<WrappingFactory> factory_;
};

/// Twisted's WrappingFactory: builds the wrapped factory's protocol and puts a wrapper around it.
/// Usable as a server factory and as a client factory.
class WrappingFactory : public ClientFactory {
 public:
  explicit WrappingFactory(std::shared_ptr<Factory> wrappedFactory);

  /// The wrapped factory's protocol in wrapProtocol's wrapper; nullptr when the wrapped factory
  /// refuses.
  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override;
  /// Twisted's `protocol` class attribute: the wrapper for one connection. Default: ProtocolWrapper.
  virtual std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped);

  void startFactory() override;
  void stopFactory() override;
  void startedConnecting(IConnector& connector) override;
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
  void clientConnectionLost(IConnector& connector, const Failure& reason) override;

  /// Called by the wrappers: connectionMade / connectionLost.
  virtual void registerProtocol(ProtocolWrapper& p);
  virtual void unregisterProtocol(ProtocolWrapper& p);
  /// The wrappers currently connected (Twisted's `protocols`).
  const std::unordered_set<ProtocolWrapper*>& protocols() const { return protocols_; }

  /// Twisted's `wrappedFactory`.
  const std::shared_ptr<Factory> wrappedFactory;

 protected:
  /// shared_from_this() as a WrappingFactory, for wrapProtocol overrides.
  std::shared_ptr<WrappingFactory> self();

 private:
  ClientFactory* wrappedClientFactory() const;

  std::unordered_set<ProtocolWrapper*> protocols_;
};

class ThrottlingFactory;

/// Twisted's ThrottlingProtocol: counts the bytes for its ThrottlingFactory and obeys its throttling.
class ThrottlingProtocol : public ProtocolWrapper {
 public:
  ThrottlingProtocol(std::shared_ptr<ThrottlingFactory> factory, std::shared_ptr<Protocol> wrapped);

  void write(ByteView data) override;
  void writeSequence(std::span<const ByteView> pieces) override;
  void dataReceived(ByteView data) override;
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override;
  void unregisterProducer() override;

  /// Stop reading from / resume reading from the transport.
  void throttleReads();
  void unthrottleReads();
  /// Pause / resume the producer the wrapped protocol registered (if any).
  void throttleWrites();
  void unthrottleWrites();

 private:
  ThrottlingFactory& throttling() const;

  std::weak_ptr<IProducer> producer_;
};

/// Twisted's ThrottlingFactory: at most maxConnectionCount connections (more are refused), and
/// optionally at most readLimit / writeLimit bytes per second over all of them. Once a second the
/// factory compares the bytes counted against the limit; past it, every connection is paused for
/// (bytes / limit - 1) seconds, as Twisted does.
class ThrottlingFactory : public WrappingFactory {
 public:
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  ThrottlingFactory(IReactorTime& clock, std::shared_ptr<Factory> wrappedFactory,
                    std::size_t maxConnectionCount = kUnlimited, std::optional<std::size_t> readLimit = {},
                    std::optional<std::size_t> writeLimit = {});
  ~ThrottlingFactory() override;

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override;
  std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped) override;
  void unregisterProtocol(ProtocolWrapper& p) override;

  void registerWritten(std::size_t length) { writtenThisSecond += length; }
  void registerRead(std::size_t length) { readThisSecond += length; }
  /// The once-a-second checks (each reschedules itself while there are connections).
  void checkReadBandwidth();
  void checkWriteBandwidth();
  void throttleReads();
  void unthrottleReads();
  void throttleWrites();
  void unthrottleWrites();

  const std::size_t maxConnectionCount;
  const std::optional<std::size_t> readLimit;
  const std::optional<std::size_t> writeLimit;
  std::size_t connectionCount = 0;
  std::size_t readThisSecond = 0;
  std::size_t writtenThisSecond = 0;

 private:
  void forEachProtocol(void (ThrottlingProtocol::*action)());
  void cancelTimers();

  IReactorTime& clock_;
  DelayedCall checkReadBandwidthId_;
  DelayedCall checkWriteBandwidthId_;
  DelayedCall unthrottleReadsId_;
  DelayedCall unthrottleWritesId_;
};

/// Twisted's LimitConnectionsByPeer: at most maxConnectionsPerPeer connections from one host; more
/// are refused.
class LimitConnectionsByPeer : public WrappingFactory {
 public:
  LimitConnectionsByPeer(std::shared_ptr<Factory> wrappedFactory, std::size_t maxConnectionsPerPeer = 5);

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override;
  void unregisterProtocol(ProtocolWrapper& p) override;
  /// Connections open from `host`.
  std::size_t connectionsFrom(const std::string& host) const;

  std::size_t maxConnectionsPerPeer;

 private:
  std::unordered_map<std::string, std::size_t> peerConnections_;
  std::unordered_map<const ProtocolWrapper*, std::string> hostOf_;
};

/// Twisted's TimeoutMixin, for a Protocol (or anything with a timeout): after `period` seconds
/// without resetTimeout(), timeoutConnection() runs. Mix it into a Protocol subclass; call
/// resetTimeout() when traffic arrives and setTimeout(std::nullopt) in connectionLost.
class TimeoutMixin {
 public:
  explicit TimeoutMixin(IReactorTime& clock) : clock_(clock) {}
  /// Cancels a pending timeout.
  virtual ~TimeoutMixin();
  TimeoutMixin(const TimeoutMixin&) = delete;
  TimeoutMixin& operator=(const TimeoutMixin&) = delete;

  /// Twisted's setTimeout: a period starts (or restarts) the countdown, std::nullopt cancels it.
  /// Returns the previous period.
  std::optional<double> setTimeout(std::optional<double> period);
  /// Restart the countdown from now (when one is running).
  void resetTimeout();
  /// Twisted's `timeOut`.
  std::optional<double> timeOut() const { return timeOut_; }

  /// The period passed without resetTimeout(). Default: loseConnection() on the transport of the
  /// Protocol this is mixed into (nothing when it is not a connected Protocol).
  virtual void timeoutConnection();

 protected:
  /// Twisted's TimeoutMixin.callLater: how the countdown is scheduled (override to use another clock).
  virtual DelayedCall callLater(double period, std::function<void()> f);

 private:
  IReactorTime& clock_;
  std::optional<double> timeOut_;
  DelayedCall timeoutCall_;
};

}  // namespace reactor
