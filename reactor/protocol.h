// Port of twisted.internet.protocol: Protocol, Factory, ServerFactory, ClientFactory.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "reactor/address.h"
#include "reactor/bytes.h"
#include "reactor/failure.h"
#include "reactor/interfaces.h"

namespace reactor {

class Factory;
namespace detail {
struct ProtocolAccess;  // reactor/detail/access.h: what the transports may do to a Protocol
}

/// Subclass this and override the hooks. Lifetime follows Twisted: makeConnection → connectionMade →
/// dataReceived* → connectionLost exactly once, never re-entrantly. An exception thrown from a hook
/// closes this connection (it becomes the reason passed to connectionLost) and is logged.
class Protocol : public std::enable_shared_from_this<Protocol> {
 public:
  virtual ~Protocol() = default;

  /// Framework only: sets transport() and connected(), then calls connectionMade().
  void makeConnection(std::shared_ptr<ITransport> transport);

  virtual void connectionMade() {}
  /// A chunk of any length: part of a message or several. `data` is borrowed for this call only.
  virtual void dataReceived(ByteView data) { (void)data; }
  /// Exactly once. `reason` says ConnectionDone for a clean close.
  virtual void connectionLost(const Failure& reason) { (void)reason; }

  /// Valid from makeConnection on, and still valid (a dead transport that ignores writes) after
  /// connectionLost.
  ITransport& transport() const;
  const std::shared_ptr<ITransport>& transportPtr() const { return transport_; }
  bool connected() const { return connected_; }

  /// The factory that built this protocol (null when built by hand).
  Factory* factory() const { return factory_.get(); }
  template <class F>
  F& factoryAs() const { return static_cast<F&>(*factory_); }

  virtual std::string logPrefix() const { return "Protocol"; }

 private:
  friend class Factory;                   // Factory::adopt sets factory_
  friend struct detail::ProtocolAccess;  // the transports mark it disconnected before connectionLost

  void markDisconnected() { connected_ = false; }

  std::shared_ptr<ITransport> transport_;
  std::shared_ptr<Factory> factory_;
  bool connected_ = false;
};

/// Builds one protocol per connection. Hold it by shared_ptr: connections keep it alive.
class Factory : public std::enable_shared_from_this<Factory> {
 public:
  virtual ~Factory() = default;

  /// Returns the protocol for a new connection, or nullptr to refuse it (the socket is closed).
  /// The default calls `protocol` and sets the protocol's factory.
  virtual std::shared_ptr<Protocol> buildProtocol(const Address& addr);

  /// Called once before the first port starts using this factory, and once after the last stops.
  virtual void startFactory() {}
  virtual void stopFactory() {}

  /// Framework only: reference-counted start/stop across ports (Twisted's doStart/doStop).
  void doStart();
  void doStop();
  int numPorts() const { return numPorts_; }

  /// Twisted's `Factory.protocol` class attribute.
  std::function<std::shared_ptr<Protocol>()> protocol;

  /// Twisted's Factory.forProtocol: a factory whose buildProtocol makes a P(args...).
  template <class P, class F = Factory, class... Args>
  static std::shared_ptr<F> forProtocol(Args... args) {
    auto factory = std::make_shared<F>();
    factory->protocol = [args...]() { return std::make_shared<P>(args...); };
    return factory;
  }

 protected:
  /// For an overriding buildProtocol: makes this factory the one `p.factory()` returns (Twisted's
  /// `p.factory = self`).
  void adopt(Protocol& p) { p.factory_ = shared_from_this(); }

 private:
  int numPorts_ = 0;
};

class ServerFactory : public Factory {};

/// For connectTCP: told when the attempt starts, fails, or the connection it made is lost.
/// Calling connector.connect() from clientConnectionFailed/Lost reconnects.
class ClientFactory : public Factory {
 public:
  virtual void startedConnecting(IConnector& connector) { (void)connector; }
  virtual void clientConnectionFailed(IConnector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }
  virtual void clientConnectionLost(IConnector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }
};

}  // namespace reactor
