// ProtocolWrapper, WrappingFactory, ThrottlingFactory, LimitConnectionsByPeer and TimeoutMixin
// (twisted.protocols.policies).
// Tests: tests/reactor/policies_test.cc
#include "reactor/policies.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include "reactor/detail/access.h"
#include "reactor/log.h"

namespace reactor {

namespace {

/// The wrapped protocol's transport: every call goes to the wrapper's overridable methods. It holds
/// the wrapper weakly (the wrapper holds the wrapped protocol, which holds this), and is a dead
/// transport once the wrapper is gone.
class WrapperTransport final : public ITCPTransport {
 public:
  explicit WrapperTransport(const std::shared_ptr<ProtocolWrapper>& wrapper) : wrapper_(wrapper) {}

  void write(ByteView data) override {
    if (auto w = live()) w->write(data);
  }
  void writeSequence(std::span<const ByteView> pieces) override {
    if (auto w = live()) w->writeSequence(pieces);
  }
  void loseConnection() override {
    if (auto w = live()) w->loseConnection();
  }
  void loseWriteConnection() override {
    if (auto w = live()) w->loseWriteConnection();
  }
  void abortConnection() override {
    if (auto w = live()) w->abortConnection();
  }
  Address getPeer() const override {
    auto w = live();
    return w ? w->getPeer() : Address{};
  }
  Address getHost() const override {
    auto w = live();
    return w ? w->getHost() : Address{};
  }
  bool connected() const override {
    auto w = live();
    return w && w->transportPtr() && w->transportPtr()->connected();
  }
  bool disconnecting() const override {
    auto w = live();
    return !w || !w->transportPtr() || w->transportPtr()->disconnecting();
  }
  std::size_t bufferedAmount() const override {
    auto w = live();
    return w && w->transportPtr() ? w->transportPtr()->bufferedAmount() : 0;
  }
  void setWriteHighWaterMark(std::size_t bytes) override {
    if (auto w = live(); w && w->transportPtr()) w->transportPtr()->setWriteHighWaterMark(bytes);
  }
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override {
    if (auto w = live()) {
      w->registerProducer(std::move(producer), streaming);
    } else if (producer) {
      producer->stopProducing();  // as a closed transport does
    }
  }
  void unregisterProducer() override {
    if (auto w = live()) w->unregisterProducer();
  }
  void pauseProducing() override {
    if (auto w = live()) w->pauseProducing();
  }
  void resumeProducing() override {
    if (auto w = live()) w->resumeProducing();
  }
  void stopProducing() override {
    if (auto w = live()) w->stopProducing();
  }
  void setTcpNoDelay(bool enabled) override {
    if (auto* t = tcp()) t->setTcpNoDelay(enabled);
  }
  bool getTcpNoDelay() const override {
    auto* t = tcp();
    return t && t->getTcpNoDelay();
  }
  void setTcpKeepAlive(bool enabled) override {
    if (auto* t = tcp()) t->setTcpKeepAlive(enabled);
  }
  bool getTcpKeepAlive() const override {
    auto* t = tcp();
    return t && t->getTcpKeepAlive();
  }

 private:
  std::shared_ptr<ProtocolWrapper> live() const { return wrapper_.lock(); }
  ITCPTransport* tcp() const {
    auto w = live();
    return w ? dynamic_cast<ITCPTransport*>(w->transportPtr().get()) : nullptr;
  }

  std::weak_ptr<ProtocolWrapper> wrapper_;
};

}  // namespace

// --- ProtocolWrapper ----------------------------------------------------------------------------

ProtocolWrapper::ProtocolWrapper(std::shared_ptr<WrappingFactory> factory, std::shared_ptr<Protocol> wrapped)
    : wrappedProtocol(std::move(wrapped)), factory_(std::move(factory)) {
  if (!wrappedProtocol || !factory_) throw std::invalid_argument("ProtocolWrapper needs a factory and a protocol");
}

void ProtocolWrapper::connectionMade() {
  factory_->registerProtocol(*this);
  auto self = std::static_pointer_cast<ProtocolWrapper>(shared_from_this());
  wrappedProtocol->makeConnection(std::make_shared<WrapperTransport>(self));
}

void ProtocolWrapper::dataReceived(ByteView data) { wrappedProtocol->dataReceived(data); }

void ProtocolWrapper::connectionLost(const Failure& reason) {
  factory_->unregisterProtocol(*this);
  detail::ProtocolAccess::markDisconnected(*wrappedProtocol);
  wrappedProtocol->connectionLost(reason);
}

void ProtocolWrapper::readConnectionLost() {
  if (auto* half = dynamic_cast<IHalfCloseableProtocol*>(wrappedProtocol.get())) {
    half->readConnectionLost();
  } else {
    transport().loseConnection();
  }
}

void ProtocolWrapper::writeConnectionLost() {
  if (auto* half = dynamic_cast<IHalfCloseableProtocol*>(wrappedProtocol.get())) half->writeConnectionLost();
}

void ProtocolWrapper::write(ByteView data) { transport().write(data); }
void ProtocolWrapper::writeSequence(std::span<const ByteView> pieces) { transport().writeSequence(pieces); }
void ProtocolWrapper::loseConnection() { transport().loseConnection(); }
void ProtocolWrapper::loseWriteConnection() { transport().loseWriteConnection(); }
void ProtocolWrapper::abortConnection() { transport().abortConnection(); }
Address ProtocolWrapper::getPeer() const { return transport().getPeer(); }
Address ProtocolWrapper::getHost() const { return transport().getHost(); }
void ProtocolWrapper::registerProducer(std::shared_ptr<IProducer> producer, bool streaming) {
  transport().registerProducer(std::move(producer), streaming);
}
void ProtocolWrapper::unregisterProducer() { transport().unregisterProducer(); }
void ProtocolWrapper::pauseProducing() { transport().pauseProducing(); }
void ProtocolWrapper::resumeProducing() { transport().resumeProducing(); }
void ProtocolWrapper::stopProducing() { transport().stopProducing(); }

// --- WrappingFactory ----------------------------------------------------------------------------

WrappingFactory::WrappingFactory(std::shared_ptr<Factory> wrapped) : wrappedFactory(std::move(wrapped)) {
  if (!wrappedFactory) throw std::invalid_argument("WrappingFactory needs a factory to wrap");
}

std::shared_ptr<Protocol> WrappingFactory::buildProtocol(const Address& addr) {
  auto wrapped = wrappedFactory->buildProtocol(addr);
  if (!wrapped) return nullptr;
  auto wrapper = wrapProtocol(std::move(wrapped));
  if (wrapper) adopt(*wrapper);
  return wrapper;
}

std::shared_ptr<ProtocolWrapper> WrappingFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<ProtocolWrapper>(self(), std::move(wrapped));
}

std::shared_ptr<WrappingFactory> WrappingFactory::self() {
  return std::static_pointer_cast<WrappingFactory>(shared_from_this());
}

void WrappingFactory::startFactory() { wrappedFactory->doStart(); }
void WrappingFactory::stopFactory() { wrappedFactory->doStop(); }

ClientFactory* WrappingFactory::wrappedClientFactory() const {
  return dynamic_cast<ClientFactory*>(wrappedFactory.get());
}

void WrappingFactory::startedConnecting(IConnector& connector) {
  if (auto* c = wrappedClientFactory()) c->startedConnecting(connector);
}
void WrappingFactory::clientConnectionFailed(IConnector& connector, const Failure& reason) {
  if (auto* c = wrappedClientFactory()) c->clientConnectionFailed(connector, reason);
}
void WrappingFactory::clientConnectionLost(IConnector& connector, const Failure& reason) {
  if (auto* c = wrappedClientFactory()) c->clientConnectionLost(connector, reason);
}

void WrappingFactory::registerProtocol(ProtocolWrapper& p) { protocols_.insert(&p); }
void WrappingFactory::unregisterProtocol(ProtocolWrapper& p) { protocols_.erase(&p); }

// --- ThrottlingProtocol / ThrottlingFactory -----------------------------------------------------

ThrottlingProtocol::ThrottlingProtocol(std::shared_ptr<ThrottlingFactory> factory, std::shared_ptr<Protocol> wrapped)
    : ProtocolWrapper(std::move(factory), std::move(wrapped)) {}

ThrottlingFactory& ThrottlingProtocol::throttling() const {
  return static_cast<ThrottlingFactory&>(wrappingFactory());
}

void ThrottlingProtocol::write(ByteView data) {
  throttling().registerWritten(data.size());
  ProtocolWrapper::write(data);
}

void ThrottlingProtocol::writeSequence(std::span<const ByteView> pieces) {
  for (const auto& p : pieces) throttling().registerWritten(p.size());
  ProtocolWrapper::writeSequence(pieces);
}

void ThrottlingProtocol::dataReceived(ByteView data) {
  throttling().registerRead(data.size());
  ProtocolWrapper::dataReceived(data);
}

void ThrottlingProtocol::registerProducer(std::shared_ptr<IProducer> producer, bool streaming) {
  producer_ = producer;
  ProtocolWrapper::registerProducer(std::move(producer), streaming);
}

void ThrottlingProtocol::unregisterProducer() {
  producer_.reset();
  ProtocolWrapper::unregisterProducer();
}

void ThrottlingProtocol::throttleReads() {
  if (connected()) transport().pauseProducing();
}
void ThrottlingProtocol::unthrottleReads() {
  if (connected()) transport().resumeProducing();
}
void ThrottlingProtocol::throttleWrites() {
  if (auto p = producer_.lock()) p->pauseProducing();
}
void ThrottlingProtocol::unthrottleWrites() {
  if (auto p = producer_.lock()) p->resumeProducing();
}

ThrottlingFactory::ThrottlingFactory(IReactorTime& clock, std::shared_ptr<Factory> wrapped, std::size_t maxCount,
                                     std::optional<std::size_t> readLimitBytes,
                                     std::optional<std::size_t> writeLimitBytes)
    : WrappingFactory(std::move(wrapped)),
      maxConnectionCount(maxCount),
      readLimit(readLimitBytes),
      writeLimit(writeLimitBytes),
      clock_(clock) {
  if ((readLimit && *readLimit == 0) || (writeLimit && *writeLimit == 0)) {
    throw std::invalid_argument("ThrottlingFactory: a bandwidth limit must be at least 1 byte per second");
  }
}

ThrottlingFactory::~ThrottlingFactory() { cancelTimers(); }

std::shared_ptr<Protocol> ThrottlingFactory::buildProtocol(const Address& addr) {
  if (connectionCount >= maxConnectionCount) {
    log::info("ThrottlingFactory: max connection count (", maxConnectionCount, ") reached; refusing ", addr.toString());
    return nullptr;
  }
  auto p = WrappingFactory::buildProtocol(addr);
  if (!p) return nullptr;
  // The checks run while there are connections (Twisted starts them with the first one).
  if (connectionCount++ == 0) {
    if (readLimit) checkReadBandwidth();
    if (writeLimit) checkWriteBandwidth();
  }
  return p;
}

std::shared_ptr<ProtocolWrapper> ThrottlingFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<ThrottlingProtocol>(std::static_pointer_cast<ThrottlingFactory>(self()), std::move(wrapped));
}

void ThrottlingFactory::unregisterProtocol(ProtocolWrapper& p) {
  WrappingFactory::unregisterProtocol(p);
  if (connectionCount > 0 && --connectionCount == 0) cancelTimers();
}

void ThrottlingFactory::checkReadBandwidth() {
  if (readThisSecond > *readLimit) {
    throttleReads();
    const double throttleTime = static_cast<double>(readThisSecond) / static_cast<double>(*readLimit) - 1.0;
    if (unthrottleReadsId_.active()) unthrottleReadsId_.cancel();
    unthrottleReadsId_ = clock_.callLater(throttleTime, [this] { unthrottleReads(); });
  }
  readThisSecond = 0;
  checkReadBandwidthId_ = clock_.callLater(1.0, [this] { checkReadBandwidth(); });
}

void ThrottlingFactory::checkWriteBandwidth() {
  if (writtenThisSecond > *writeLimit) {
    throttleWrites();
    const double throttleTime = static_cast<double>(writtenThisSecond) / static_cast<double>(*writeLimit) - 1.0;
    if (unthrottleWritesId_.active()) unthrottleWritesId_.cancel();
    unthrottleWritesId_ = clock_.callLater(throttleTime, [this] { unthrottleWrites(); });
  }
  writtenThisSecond = 0;
  checkWriteBandwidthId_ = clock_.callLater(1.0, [this] { checkWriteBandwidth(); });
}

void ThrottlingFactory::forEachProtocol(void (ThrottlingProtocol::*action)()) {
  // Copy: pausing a transport never closes it here, but a subclass's hook might.
  std::vector<ProtocolWrapper*> current(protocols().begin(), protocols().end());
  for (auto* p : current) {
    if (protocols().count(p)) (static_cast<ThrottlingProtocol*>(p)->*action)();
  }
}

void ThrottlingFactory::throttleReads() { forEachProtocol(&ThrottlingProtocol::throttleReads); }
void ThrottlingFactory::unthrottleReads() { forEachProtocol(&ThrottlingProtocol::unthrottleReads); }
void ThrottlingFactory::throttleWrites() { forEachProtocol(&ThrottlingProtocol::throttleWrites); }
void ThrottlingFactory::unthrottleWrites() { forEachProtocol(&ThrottlingProtocol::unthrottleWrites); }

void ThrottlingFactory::cancelTimers() {
  for (DelayedCall* call : {&checkReadBandwidthId_, &checkWriteBandwidthId_, &unthrottleReadsId_, &unthrottleWritesId_}) {
    if (call->active()) call->cancel();
  }
}

// --- LimitConnectionsByPeer ---------------------------------------------------------------------

LimitConnectionsByPeer::LimitConnectionsByPeer(std::shared_ptr<Factory> wrapped, std::size_t maxPerPeer)
    : WrappingFactory(std::move(wrapped)), maxConnectionsPerPeer(maxPerPeer) {}

std::shared_ptr<Protocol> LimitConnectionsByPeer::buildProtocol(const Address& addr) {
  if (connectionsFrom(addr.host) >= maxConnectionsPerPeer) return nullptr;
  auto p = WrappingFactory::buildProtocol(addr);
  if (!p) return nullptr;
  // Counted from here (not from connectionMade), so a burst of connections is bounded too.
  ++peerConnections_[addr.host];
  hostOf_[static_cast<const ProtocolWrapper*>(p.get())] = addr.host;
  return p;
}

void LimitConnectionsByPeer::unregisterProtocol(ProtocolWrapper& p) {
  WrappingFactory::unregisterProtocol(p);
  auto it = hostOf_.find(&p);
  if (it == hostOf_.end()) return;
  auto count = peerConnections_.find(it->second);
  if (count != peerConnections_.end() && --count->second == 0) peerConnections_.erase(count);
  hostOf_.erase(it);
}

std::size_t LimitConnectionsByPeer::connectionsFrom(const std::string& host) const {
  auto it = peerConnections_.find(host);
  return it == peerConnections_.end() ? 0 : it->second;
}

// --- TimeoutMixin -------------------------------------------------------------------------------

TimeoutMixin::~TimeoutMixin() {
  if (timeoutCall_.active()) timeoutCall_.cancel();
}

std::optional<double> TimeoutMixin::setTimeout(std::optional<double> period) {
  const auto previous = timeOut_;
  timeOut_ = period;
  if (timeoutCall_.active()) {
    if (!period) {
      timeoutCall_.cancel();
      timeoutCall_ = DelayedCall();
    } else {
      timeoutCall_.reset(*period);
    }
  } else if (period) {
    timeoutCall_ = callLater(*period, [this] {
      timeoutCall_ = DelayedCall();
      timeoutConnection();
    });
  }
  return previous;
}

void TimeoutMixin::resetTimeout() {
  if (timeoutCall_.active() && timeOut_) timeoutCall_.reset(*timeOut_);
}

void TimeoutMixin::timeoutConnection() {
  auto* protocol = dynamic_cast<Protocol*>(this);
  if (protocol && protocol->transportPtr()) protocol->transport().loseConnection();
}

DelayedCall TimeoutMixin::callLater(double period, std::function<void()> f) {
  return clock_.callLater(period, std::move(f));
}

}  // namespace reactor
