// Tests for protocols/devices/blocking_device.h: a unit whose reads block, served through
// deferToThread while the reactor answers other clients. The blocking is a condition the test opens
// (with a bounded deadline), never a delay: the tests assert orders of events, not times.
#include "protocols/devices/blocking_device.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "protocols/servers/modbus_server_factory.h"
#include "reactor/threads.h"
#include "tests/support/reactor_harness.h"

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::TestClientFactory;

std::shared_ptr<DeviceContext> registers(std::uint16_t value) {
  return std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = SequentialRegisterBlock::create(0, 10, value)});
}

/// A latch a pool thread waits on, for at most 5 s (a broken test fails instead of hanging).
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

/// MBAP read of one holding register at 0, and the answer carrying `value`.
std::string readRequest(std::uint8_t tid, std::uint8_t unit) {
  return std::string({0, static_cast<char>(tid), 0, 0, 0, 6, static_cast<char>(unit), 3, 0, 0, 0, 1});
}
std::string readAnswer(std::uint8_t tid, std::uint8_t unit, std::uint16_t value) {
  return std::string({0, static_cast<char>(tid), 0, 0, 0, 5, static_cast<char>(unit), 3, 2,
                      static_cast<char>(value >> 8), static_cast<char>(value & 0xFF)});
}

/// Client A reads unit 1 (a BlockingDevice whose first read blocks until the gate opens); once that
/// read is blocking on its pool thread, client B reads `unitForB`. Returns whether B was answered
/// while A was still waiting, and checks both answers.
void serveOneBlockedAndOneOther(std::size_t poolSize, std::uint8_t unitForB) {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  reactor.suggestThreadPoolSize(poolSize);
  Gate gate;
  auto a = std::make_shared<TestClientFactory<>>();
  auto b = std::make_shared<TestClientFactory<>>();
  std::shared_ptr<reactor::IListeningPort> port;
  std::mutex blockMutex;
  int blockCalls = 0;
  bool unexpectedRequest = false;
  std::atomic<bool> gateTimedOut{false};
  auto device = std::make_shared<BlockingDevice>(
      reactor, registers(0x1111), [&](std::uint8_t, std::span<const std::uint8_t> request) {
        // No doctest assertion on a pool thread (doctest is not thread-safe): record, check later.
        bool first = false;
        {
          std::lock_guard<std::mutex> lock(blockMutex);
          first = ++blockCalls == 1;
          if (request[0] != 0x03) unexpectedRequest = true;
        }
        if (!first) return;
        // A's read is now blocking this pool thread: let B in, through the one thread-safe door.
        reactor.callFromThread([&] { reactor::testing::connectTo(reactor, *port, b); });
        if (!gate.wait()) gateTimedOut = true;
      });
  auto factory = std::make_shared<ModbusServerFactory>(ServerContext::single(registers(0x2222)));
  factory->setAsyncDevice(1, device);
  port = reactor::testing::listenLocal(reactor, factory);

  bool bAnsweredWhileABlocked = false;
  a->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().write(reactor::asBytes(readRequest(1, 1))); };
    p.onData = [&](AccumulatingProtocol& self, reactor::ByteView) {
      if (self.data.size() >= 11) reactor.stop();
    };
  };
  b->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [unitForB](AccumulatingProtocol& self) {
      self.transport().write(reactor::asBytes(readRequest(2, unitForB)));
    };
    p.onData = [&](AccumulatingProtocol& self, reactor::ByteView) {
      if (self.data.size() < 11) return;
      bAnsweredWhileABlocked = a->protocols.size() == 1 && a->protocols[0]->data.empty() &&
                                device->answered() == (unitForB == 1 ? 1u : 0u);  // B's own, not A's
      gate.open();
    };
  };
  reactor::testing::connectTo(reactor, *port, a);
  reactor::testing::runReactor(reactor, 10.0);
  gate.open();  // a failed run must not leave a worker waiting out its deadline

  CHECK(bAnsweredWhileABlocked);
  CHECK_FALSE(gateTimedOut);
  CHECK_FALSE(unexpectedRequest);
  REQUIRE(a->protocols.size() == 1);
  REQUIRE(b->protocols.size() == 1);
  CHECK(a->protocols[0]->data == readAnswer(1, 1, 0x1111));
  CHECK(b->protocols[0]->data == readAnswer(2, unitForB, unitForB == 1 ? 0x1111 : 0x2222));
  CHECK(device->answered() == (unitForB == 1 ? 2u : 1u));
}

TEST_CASE("a blocked read on a BlockingDevice does not hold up another client of the same device") {
  serveOneBlockedAndOneOther(2, 1);  // B's read runs on the second pool thread
}

TEST_CASE("a blocked read on a BlockingDevice does not hold up the reactor even with the pool full") {
  serveOneBlockedAndOneOther(1, 2);  // one worker, blocked; B's unit is served on the reactor thread
}

TEST_CASE("BlockingDevice executes against its own device, and answers 04 when the blocking part throws") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto backing = registers(0);
  std::atomic<bool> fail{false};
  auto device = std::make_shared<BlockingDevice>(reactor, backing, [&fail](std::uint8_t, std::span<const std::uint8_t>) {
    if (fail) throw std::runtime_error("the store is gone");
  });
  std::vector<Bytes> answers;
  auto record = [&](std::span<const std::uint8_t> pdu) {
    answers.emplace_back(pdu.begin(), pdu.end());
    if (answers.size() == 2) {
      fail = true;  // read on this thread only after both answers came back
      device->submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, [&](std::span<const std::uint8_t> last) {
        answers.emplace_back(last.begin(), last.end());
        reactor.stop();
      });
    }
  };
  reactor.callWhenRunning([&] {
    device->submit(1, Bytes{0x06, 0x00, 0x02, 0xAB, 0xCD}, record);
    device->submit(1, Bytes{0x03, 0x00, 0x09, 0x00, 0x02}, record);  // past the block: exception 02
  });
  reactor::testing::runReactor(reactor);
  REQUIRE(answers.size() == 3);
  CHECK((answers[0] == Bytes{0x06, 0x00, 0x02, 0xAB, 0xCD} || answers[1] == Bytes{0x06, 0x00, 0x02, 0xAB, 0xCD}));
  CHECK((answers[0] == Bytes{0x83, 0x02} || answers[1] == Bytes{0x83, 0x02}));
  CHECK(answers[2] == Bytes{0x83, 0x04});
  CHECK(backing->holdingRegisters()->getValues(2, 1) == std::vector<std::uint16_t>{0xABCD});
  CHECK(device->submitted() == 3);
  CHECK(device->answered() == 3);
}

TEST_CASE("BlockingDevice::submit throws AlreadyQuit once the reactor's pool is stopped (the serving core answers that 04)") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto device = std::make_shared<BlockingDevice>(reactor, registers(0), nullptr);
  reactor.getThreadPool().stop();
  CHECK_THROWS_AS(device->submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, [](std::span<const std::uint8_t>) {}),
                  reactor::AlreadyQuit);
}

}  // namespace
}  // namespace modbus
