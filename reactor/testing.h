// Twisted's test doubles (twisted.internet.testing, twisted.internet.task.Clock) for a program's own
// tests, with no test framework needed: StringTransport (a transport with no socket that records what
// a protocol writes), Clock (time that moves only when the test says so) and MemoryReactor (records
// listenTCP / connectTCP / listenUDP instead of opening sockets, for code written against
// IReactorTCP / IReactorUDP). Installed; the consumer project in tests/install uses them.
// Tests: tests/reactor/testing_test.cc, tests/reactor/protocol_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/address.h"
#include "reactor/bytes.h"
#include "reactor/delayed_call.h"
#include "reactor/failure.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor::testing {

/// Twisted's task.Clock (our ManualClock): hand it to LoopingCall, TimeoutMixin, callLater users.
using Clock = ManualClock;

/// Twisted's StringTransport: an ITCPTransport with no socket, for protocol unit tests. Records
/// writes (value()), remembers loseConnection/abortConnection (disconnecting(), aborted()), keeps
/// producer bookkeeping, and has settable host/peer addresses. It never calls the protocol back:
/// a test delivers the loss with reportConnectionLost().
class StringTransport : public ITCPTransport {
 public:
  enum class ProducerState { Producing, Paused, Stopped };

  StringTransport() {
    host_ = Address{Address::Type::TCP, "10.0.0.1", 12345, false};
    peer_ = Address{Address::Type::TCP, "192.168.1.1", 54321, false};
  }

  /// Everything written so far, as text.
  std::string value() const { return std::string(asText(written_)); }
  const Bytes& bytes() const { return written_; }
  /// Forget what was written (Twisted's StringTransport.clear).
  void clear() { written_.clear(); }
  int writeCalls() const { return writeCalls_; }

  // ITransport
  void write(ByteView data) override {
    ++writeCalls_;
    if (lost_) return;
    written_.insert(written_.end(), data.begin(), data.end());
  }
  void writeSequence(std::span<const ByteView> pieces) override {
    for (const auto& p : pieces) write(p);
  }
  void loseConnection() override {
    ++loseCalls_;
    disconnecting_ = true;
  }
  void abortConnection() override {
    ++abortCalls_;
    disconnecting_ = true;
    aborted_ = true;
  }
  /// Recorded (writeDisconnecting()); the transport stays connected, as a real one does until the
  /// peer closes too.
  void loseWriteConnection() override { writeDisconnecting_ = true; }
  bool writeDisconnecting() const { return writeDisconnecting_; }
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  bool connected() const override { return !lost_; }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t bufferedAmount() const override { return buffered_; }
  void setWriteHighWaterMark(std::size_t bytes) override { highWater_ = bytes; }
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override {
    if (!producer_.expired()) throw std::logic_error("registerProducer: a producer is already registered");
    if (lost_) {
      producer->stopProducing();
      return;
    }
    producer_ = producer;
    streaming_ = streaming;
  }
  void unregisterProducer() override {
    producer_.reset();
    streaming_ = false;
  }
  // The transport as a producer of its input (what a protocol calls for read backpressure).
  void pauseProducing() override {
    if (producerState_ == ProducerState::Stopped) throw std::logic_error("pauseProducing after stopProducing");
    producerState_ = ProducerState::Paused;
  }
  void resumeProducing() override {
    if (producerState_ == ProducerState::Stopped) throw std::logic_error("resumeProducing after stopProducing");
    producerState_ = ProducerState::Producing;
  }
  void stopProducing() override {
    producerState_ = ProducerState::Stopped;
    loseConnection();
  }
  // ITCPTransport
  void setTcpNoDelay(bool enabled) override { noDelay_ = enabled; }
  bool getTcpNoDelay() const override { return noDelay_; }
  void setTcpKeepAlive(bool enabled) override { keepAlive_ = enabled; }
  bool getTcpKeepAlive() const override { return keepAlive_; }

  // Test controls.
  void setHost(Address host) { host_ = std::move(host); }
  void setPeer(Address peer) { peer_ = std::move(peer); }
  /// What bufferedAmount() reports (a protocol under test may look at it).
  void setBufferedAmount(std::size_t bytes) { buffered_ = bytes; }
  std::size_t writeHighWaterMark() const { return highWater_; }
  bool aborted() const { return aborted_; }
  int loseCalls() const { return loseCalls_; }
  int abortCalls() const { return abortCalls_; }
  std::shared_ptr<IProducer> producer() const { return producer_.lock(); }
  bool streaming() const { return streaming_; }
  ProducerState producerState() const { return producerState_; }

  /// Delivers the loss as a reactor would: this transport goes dead (writes ignored, connected()
  /// false), a registered producer is stopped, then the protocol is marked disconnected and gets
  /// connectionLost(reason). Only the first call does anything.
  void reportConnectionLost(Protocol& protocol, const Failure& reason = Failure::connectionDone());

 private:
  Bytes written_;
  int writeCalls_ = 0;
  int loseCalls_ = 0;
  int abortCalls_ = 0;
  Address host_;
  Address peer_;
  bool lost_ = false;
  bool disconnecting_ = false;
  bool writeDisconnecting_ = false;
  bool aborted_ = false;
  std::size_t buffered_ = 0;
  std::size_t highWater_ = 64 * 1024;
  // Held weakly: a protocol that registers itself (ModbusStreamProtocol does) would otherwise form a
  // cycle with this transport, and a test double has no close callback to break it as TCP does.
  std::weak_ptr<IProducer> producer_;
  bool streaming_ = false;
  ProducerState producerState_ = ProducerState::Producing;
  bool noDelay_ = false;
  bool keepAlive_ = false;
};

/// Twisted's MemoryReactor (with MemoryReactorClock's clock): listenTCP, connectTCP and listenUDP
/// record their arguments in tcpServers, tcpClients and udpServers and return ports and connectors
/// that record what is done to them; nothing is opened and no protocol is built. A test then builds
/// the protocol from the recorded factory and connects it to a StringTransport itself, as Twisted's
/// tests do. Time is a Clock: advance() runs what became due.
class MemoryReactor final : public IReactorTime, public IReactorTCP, public IReactorUDP, public IReactorUNIX {
 public:
  /// A port returned by listenTCP / listenUDP. getHost() is the interface asked for ("0.0.0.0" for
  /// "") and the port asked for; port 0 reports 30000 + the call's index, as if the OS chose it.
  class Port final : public IListeningPort {
   public:
    explicit Port(Address host) : host_(std::move(host)) {}
    void stopListening() override { ++stopCalls_; }
    Address getHost() const override { return host_; }
    bool listening() const { return stopCalls_ == 0; }
    int stopListeningCalls() const { return stopCalls_; }

   private:
    Address host_;
    int stopCalls_ = 0;
  };

  /// A connector returned by connectTCP: counts stopConnecting / disconnect / connect.
  class Connector final : public IConnector {
   public:
    explicit Connector(Address destination) : destination_(std::move(destination)) {}
    void stopConnecting() override { ++stopConnectingCalls; }
    void disconnect() override { ++disconnectCalls; }
    void connect() override { ++connectCalls; }
    Address getDestination() const override { return destination_; }
    int stopConnectingCalls = 0;
    int disconnectCalls = 0;
    int connectCalls = 0;

   private:
    Address destination_;
  };

  struct TcpServer {
    std::uint16_t port;
    std::shared_ptr<Factory> factory;
    int backlog;
    std::string interface;
    std::shared_ptr<Port> listeningPort;
  };
  struct TcpClient {
    std::string host;
    std::uint16_t port;
    std::shared_ptr<ClientFactory> factory;
    double timeout;
    std::string bindAddress;
    std::shared_ptr<Connector> connector;
  };
  struct UdpServer {
    std::uint16_t port;
    std::shared_ptr<DatagramProtocol> protocol;
    std::string interface;
    std::size_t maxPacketSize;
    std::shared_ptr<Port> listeningPort;
  };

  struct UnixServer {
    std::string address;
    std::shared_ptr<Factory> factory;
    int backlog;
    unsigned mode;
    bool wantPID;
    std::shared_ptr<Port> listeningPort;
  };
  struct UnixClient {
    std::string address;
    std::shared_ptr<ClientFactory> factory;
    double timeout;
    std::shared_ptr<Connector> connector;
  };

  std::vector<TcpServer> tcpServers;
  std::vector<UnixServer> unixServers;
  std::vector<UnixClient> unixClients;
  std::vector<TcpClient> tcpClients;
  std::vector<UdpServer> udpServers;

  // IReactorTCP, IReactorUDP
  std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog = 50,
                                            std::string_view interface = {}) override;
  std::shared_ptr<IConnector> connectTCP(std::string_view host, std::uint16_t port,
                                         std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                         std::string_view bindAddress = {}) override;
  std::shared_ptr<IListeningPort> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                            std::string_view interface = {},
                                            std::size_t maxPacketSize = 8192) override;

  // IReactorUNIX: recorded in unixServers / unixClients; the port's getHost() is the path.
  std::shared_ptr<IListeningPort> listenUNIX(std::string_view address, std::shared_ptr<Factory> factory,
                                             int backlog = 50, unsigned mode = 0666, bool wantPID = false) override;
  std::shared_ptr<IConnector> connectUNIX(std::string_view address, std::shared_ptr<ClientFactory> factory,
                                          double timeout = 30) override;

  // IReactorTime, on a Clock
  double seconds() const override { return clock_.seconds(); }
  using IReactorTime::callLater;
  DelayedCall callLater(double delaySeconds, std::function<void()> f) override {
    return clock_.callLater(delaySeconds, std::move(f));
  }
  std::vector<DelayedCall> getDelayedCalls() const override { return clock_.getDelayedCalls(); }
  /// Moves the clock forward and runs what became due (Clock::advance).
  void advance(double seconds) { clock_.advance(seconds); }

 private:
  Clock clock_;
};

}  // namespace reactor::testing
