// Tests for protocols/devices/remote_device.h that need no downstream server: endpoint parsing, and the
// answers while there is no connection (tests/integration/gateway_test.cc has the real gateway).
#include "protocols/devices/remote_device.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

/// A loopback port nothing listens on: bound to find it, then closed again.
std::uint16_t closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_CASE("a remote device endpoint is tcp:HOST:PORT or tcp:host=HOST:port=PORT") {
  CHECK(RemoteDevice::parseEndpoint("tcp:192.168.1.10:502") == std::pair<std::string, std::uint16_t>{"192.168.1.10", 502});
  CHECK(RemoteDevice::parseEndpoint("tcp:host=plc.local:port=1502") ==
        std::pair<std::string, std::uint16_t>{"plc.local", 1502});
  CHECK(RemoteDevice::parseEndpoint("tcp:h:port=7") == std::pair<std::string, std::uint16_t>{"h", 7});
}

TEST_CASE("a remote device endpoint of another type, without host or port, or with a bad port is refused") {
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("udp:h:502"), reactor::EndpointError);
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("tcp:h"), reactor::EndpointError);
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("tcp:h:0"), reactor::EndpointError);
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("tcp:h:65536"), reactor::EndpointError);
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("tcp:h:50x"), reactor::EndpointError);
  CHECK_THROWS_AS(RemoteDevice::parseEndpoint("tcp:h:1:extra"), reactor::EndpointError);
}

TEST_CASE("a stopped remote device answers 0x0A at once, and a request waiting for the connection gets it too") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  const std::uint16_t port = closedPort();
  std::vector<Bytes> answers;
  auto record = [&answers](std::span<const std::uint8_t> pdu) { answers.emplace_back(pdu.begin(), pdu.end()); };
  reactor.callWhenRunning([&] {
    // The attempt is still pending when the request arrives: the request waits; stop() answers it.
    auto device = RemoteDevice::create(reactor, "127.0.0.1", port);
    CHECK(device->state() == RemoteDevice::State::Connecting);
    device->submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, record);
    CHECK(answers.empty());
    device->stop();
    CHECK(device->state() == RemoteDevice::State::Stopped);
    device->submit(1, Bytes{0x06, 0x00, 0x00, 0x00, 0x01}, record);
    device->stop();  // idempotent
    reactor.stop();
  });
  reactor::testing::runReactor(reactor, 5.0);
  CHECK(answers == std::vector<Bytes>{{0x83, 0x0A}, {0x86, 0x0A}});
}

TEST_CASE("a remote device answers 0x0A when its connection attempt fails") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  const std::uint16_t port = closedPort();
  std::vector<Bytes> answers;
  std::shared_ptr<RemoteDevice> device;
  reactor.callWhenRunning([&] {
    RemoteDeviceOptions options;
    options.initialDelay = 10.0;  // no second attempt during the test
    device = RemoteDevice::create(reactor, "127.0.0.1", port, options);
    device->submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, [&](std::span<const std::uint8_t> pdu) {
      answers.emplace_back(pdu.begin(), pdu.end());
      CHECK(device->state() != RemoteDevice::State::Connected);
      reactor.stop();
    });
  });
  reactor::testing::runReactor(reactor, 5.0);
  CHECK(answers == std::vector<Bytes>{{0x83, 0x0A}});
  CHECK(device->connectionsMade() == 0);
  device.reset();
}

}  // namespace
}  // namespace modbus

namespace modbus {
namespace {

TEST_CASE("a remote device destroyed with a request waiting answers it 0x0A on the next turn") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  const std::uint16_t port = closedPort();
  std::vector<Bytes> answers;
  reactor.callWhenRunning([&] {
    auto device = RemoteDevice::create(reactor, "127.0.0.1", port);
    device->submit(1, Bytes{0x04, 0x00, 0x00, 0x00, 0x01}, [&](std::span<const std::uint8_t> pdu) {
      answers.emplace_back(pdu.begin(), pdu.end());
      reactor.stop();
    });
    device.reset();  // e.g. setAsyncDevice(unit, nullptr) while the request waits for the connection
    CHECK(answers.empty());  // not from inside the destructor
  });
  reactor::testing::runReactor(reactor, 5.0);
  CHECK(answers == std::vector<Bytes>{{0x84, 0x0A}});
}

}  // namespace
}  // namespace modbus
