// A transport of your own (pymodbus's "possibility to add a custom transport protocol", issue 12
// §3): Modbus/TCP framing (MBAP) served over this process's stdin and stdout, through the same
// ModbusServerFactory and serving core that listenTCP connections use. Nothing here is libuv: the
// transport is written against reactor::ITransport alone (docs/twisted.md, "Writing a transport").
//
//   printf '\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02' | 12_custom_transport | od -An -tx1
//   socat TCP-LISTEN:5020,reuseaddr,fork EXEC:./12_custom_transport   (one process per client)
//
// Each request is answered on stdout; EOF on stdin closes the connection (connectionLost) and the
// program exits 0. Logs go to stderr.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "reactor/reactor.h"

namespace {

/// An ITransport over a pair of file descriptors. The rules every transport keeps (docs/twisted.md):
/// the protocol is called on the reactor thread only, connectionLost exactly once and never from
/// inside loseConnection, writes after it are ignored. Reading happens on a thread of its own that
/// hands each chunk to the reactor with callFromThread (the one thread-safe door); writes go
/// straight to the descriptor (a pipe: the kernel buffers them).
class FdPairTransport final : public reactor::ITransport, public std::enable_shared_from_this<FdPairTransport> {
 public:
  FdPairTransport(reactor::Reactor& reactor, int in, int out) : reactor_(reactor), in_(in), out_(out) {}
  ~FdPairTransport() override { join(); }

  /// Connects `protocol` and starts reading; `onLost` runs after connectionLost.
  void start(std::shared_ptr<reactor::Protocol> protocol, std::function<void()> onLost) {
    protocol_ = std::move(protocol);
    onLost_ = std::move(onLost);
    connected_ = true;
    protocol_->makeConnection(shared_from_this());
    std::weak_ptr<FdPairTransport> weak = weak_from_this();
    reader_ = std::thread([this, weak] { readLoop(weak); });
  }
  void join() {
    stopReading_ = true;
    if (reader_.joinable()) reader_.join();
  }

  // ITransport
  void write(reactor::ByteView data) override {
    if (!connected_ || lost_) return;
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(out_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closeSoon(reactor::Failure(reactor::FailureType::ConnectionLost, 0, "stdout closed"));
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  void writeSequence(std::span<const reactor::ByteView> pieces) override {
    for (const auto& p : pieces) write(p);
  }
  void loseConnection() override { closeSoon(reactor::Failure::connectionDone()); }
  void abortConnection() override { closeSoon(reactor::Failure(reactor::FailureType::ConnectionAborted)); }
  reactor::Address getPeer() const override { return {reactor::Address::Type::None, "stdin", 0, false}; }
  reactor::Address getHost() const override { return {reactor::Address::Type::None, "stdout", 0, false}; }
  bool connected() const override { return connected_ && !lost_; }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t bufferedAmount() const override { return 0; }  // writes are synchronous
  void setWriteHighWaterMark(std::size_t) override {}        // never over it, for the same reason
  void registerProducer(std::shared_ptr<reactor::IProducer> producer, bool streaming) override {
    if (producer_) throw std::logic_error("registerProducer: a producer is already registered");
    producer_ = std::move(producer);
    if (!streaming) producer_->resumeProducing();  // a pull producer: the "buffer" is always empty
  }
  void unregisterProducer() override { producer_.reset(); }
  // IProducer for our input: a paused transport keeps what arrives and delivers it on resume.
  void pauseProducing() override { paused_ = true; }
  void resumeProducing() override {
    paused_ = false;
    std::vector<std::uint8_t> held;
    held.swap(held_);
    if (!held.empty()) deliver(held);
  }
  void stopProducing() override { loseConnection(); }

 private:
  void readLoop(std::weak_ptr<FdPairTransport> weak) {
    std::uint8_t buf[4096];
    while (!stopReading_) {
      pollfd p{in_, POLLIN, 0};
      int ready = ::poll(&p, 1, 100);  // wakes to see stopReading_ when the reactor shuts down
      if (ready <= 0) continue;
      ssize_t n = ::read(in_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        reactor_.callFromThread([weak] {
          if (auto self = weak.lock()) self->closeSoon(reactor::Failure::connectionDone());
        });
        return;
      }
      std::vector<std::uint8_t> chunk(buf, buf + n);
      reactor_.callFromThread([weak, chunk = std::move(chunk)] {
        if (auto self = weak.lock()) self->deliver(chunk);
      });
    }
  }

  void deliver(const std::vector<std::uint8_t>& chunk) {
    if (lost_ || disconnecting_) return;
    if (paused_) {
      held_.insert(held_.end(), chunk.begin(), chunk.end());
      return;
    }
    try {
      protocol_->dataReceived(reactor::ByteView(chunk.data(), chunk.size()));
    } catch (const std::exception& e) {
      // As every transport does: the exception closes this connection and becomes its reason.
      closeSoon(reactor::Failure(reactor::FailureType::Other, 0, e.what()));
    }
  }

  /// Delivers connectionLost on a later reactor pass: never from inside the caller.
  void closeSoon(const reactor::Failure& reason) {
    if (disconnecting_ || lost_) return;
    disconnecting_ = true;
    auto self = shared_from_this();
    reactor_.callLater(0, [self, reason] {
      self->lost_ = true;
      if (auto producer = std::move(self->producer_)) producer->stopProducing();
      std::shared_ptr<reactor::Protocol> protocol = std::move(self->protocol_);
      protocol->connectionLost(reason);
      if (self->onLost_) self->onLost_();
    });
  }

  reactor::Reactor& reactor_;
  int in_;
  int out_;
  std::shared_ptr<reactor::Protocol> protocol_;
  std::shared_ptr<reactor::IProducer> producer_;
  std::function<void()> onLost_;
  std::thread reader_;
  std::atomic<bool> stopReading_{false};
  std::vector<std::uint8_t> held_;
  bool connected_ = false;
  bool disconnecting_ = false;
  bool lost_ = false;
  bool paused_ = false;
};

}  // namespace

int main() {
  // The device of sample 02: 100 of each table, registers holding 17.
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100, true),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100, true),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  reactor::Reactor reactor;
  auto factory = std::make_shared<modbus::ModbusServerFactory>(modbus::ServerContext::single(device));
  factory->setClock(&reactor);
  // What a port does for each accepted connection: build the protocol, hand it the transport.
  std::shared_ptr<reactor::Protocol> protocol = factory->buildProtocol(reactor::Address{reactor::Address::Type::None, "stdin", 0, false});
  if (!protocol) {
    std::fprintf(stderr, "12_custom_transport: the factory refused the connection\n");
    return 1;
  }
  auto transport = std::make_shared<FdPairTransport>(reactor, STDIN_FILENO, STDOUT_FILENO);
  reactor.callWhenRunning([&] {
    transport->start(protocol, [&] {
      if (reactor.running()) reactor.stop();
    });
  });
  factory->doStart();
  reactor.run();
  factory->doStop();
  transport->join();
  return 0;
}
