// Integration tests of the gateway (protocols/devices/remote_device.h): a server whose unit 5 is a
// RemoteDevice pointing at a second server on loopback, driven by libmodbus. The downstream server
// stops (→ 0x0A, as RemoteDevice documents: nothing to send to), answers too slowly (→ 0x0B after
// the request timeout), is not there at all (→ 0x0A), and comes back (the gateway reconnects).
// Every wait is bounded; nothing sleeps: readiness is polled on the gateway's reactor.
#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/devices/async_device.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/devices/remote_device.h"
#include "reactor/log.h"
#include "tests/support/server_thread.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::ServerThread;
using Registers = std::vector<std::uint16_t>;

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Error);
  return true;
}();

constexpr std::uint8_t kGatewayUnit = 5;

std::shared_ptr<modbus::DeviceContext> device(std::uint16_t fill) {
  return std::make_shared<modbus::DeviceContext>(
      modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 10, fill)});
}

/// Polls `ready` on `thread`'s reactor every 10 ms until it is true; false when `timeout` passes first.
bool waitOnReactor(ServerThread& thread, std::function<bool()> ready, double timeout = 5.0) {
  struct Poll : std::enable_shared_from_this<Poll> {
    reactor::Reactor* reactor = nullptr;
    std::function<bool()> ready;
    std::promise<void> done;
    bool finished = false;
    void step() {
      if (finished) return;
      if (ready()) {
        finished = true;
        done.set_value();
        return;
      }
      auto self = shared_from_this();
      reactor->callLater(0.01, [self] { self->step(); });
    }
  };
  auto poll = std::make_shared<Poll>();
  poll->ready = std::move(ready);
  std::future<void> result = poll->done.get_future();
  thread.call([&thread, poll] {
    poll->reactor = &thread.server().reactor();
    poll->step();
  });
  return result.wait_for(std::chrono::duration<double>(timeout)) == std::future_status::ready;
}

/// A gateway server (own thread and reactor) whose unit 5 forwards to 127.0.0.1:`port`, unit 1 there.
struct Gateway {
  ServerThread server{modbus::ServerContext::multiple({{1, device(0)}})};
  std::weak_ptr<modbus::RemoteDevice> remote;

  Gateway(std::uint16_t port, double timeout) {
    server.call([this, port, timeout] {
      modbus::RemoteDeviceOptions options;
      options.unitId = 1;
      options.timeout = timeout;
      options.connectTimeout = 2.0;
      options.initialDelay = 0.05;
      options.maxDelay = 0.2;
      auto device = modbus::RemoteDevice::create(server.server().reactor(), "127.0.0.1", port, options);
      server.server().factory().setAsyncDevice(kGatewayUnit, device);  // the factory owns it
      remote = device;
    });
  }
  /// True once connected downstream `connections` times in all (bounded).
  bool connected(std::size_t connections = 1) {
    return waitOnReactor(server, [this, connections] {
      auto r = remote.lock();
      return r && r->state() == modbus::RemoteDevice::State::Connected && r->connectionsMade() >= connections;
    });
  }
  bool disconnected() {
    return waitOnReactor(server, [this] {
      auto r = remote.lock();
      return r && r->state() != modbus::RemoteDevice::State::Connected;
    });
  }
};

/// A libmodbus client of the gateway's unit 5.
class Client {
 public:
  explicit Client(std::uint16_t port) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_response_timeout(ctx_, 5, 0);
    modbus_set_slave(ctx_, kGatewayUnit);
    REQUIRE_MESSAGE(modbus_connect(ctx_) == 0, modbus_strerror(errno));
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// The registers read, or the Modbus exception code (as a negative number), or -1000 for another error.
  std::pair<Registers, int> read(int address, int count) {
    Registers out(static_cast<std::size_t>(count));
    if (modbus_read_registers(ctx_, address, count, out.data()) == count) return {out, 0};
    const int code = errno > MODBUS_ENOBASE && errno < MODBUS_ENOBASE + 0x20 ? errno - MODBUS_ENOBASE : 1000;
    return {{}, -code};
  }
  modbus_t* get() const { return ctx_; }

 private:
  modbus_t* ctx_;
};

}  // namespace

TEST_CASE("a gateway unit forwards reads, writes and exceptions to the downstream server") {
  auto downstreamDevice = device(7);
  ServerThread downstream(modbus::ServerContext::single(downstreamDevice));
  Gateway gateway(downstream.port(), 3.0);
  REQUIRE(gateway.connected());
  Client client(gateway.server.port());
  CHECK(client.read(0, 3) == std::pair<Registers, int>{{7, 7, 7}, 0});
  REQUIRE(modbus_write_register(client.get(), 2, 0xBEEF) == 1);
  CHECK(downstream.call([&] { return downstreamDevice->holdingRegisters()->getValues(2, 1); }) == Registers{0xBEEF});
  CHECK(client.read(1, 2) == std::pair<Registers, int>{{7, 0xBEEF}, 0});
  CHECK(client.read(9, 2).second == -2);  // the downstream's exception, passed through
  // The gateway's own unit 1 is local.
  modbus_set_slave(client.get(), 1);
  Registers local(1);
  REQUIRE(modbus_read_registers(client.get(), 0, 1, local.data()) == 1);
  CHECK(local == Registers{0});
}

TEST_CASE("a gateway answers 0x0A while its downstream is stopped, then reconnects when it is back") {
  auto downstreamDevice = device(7);
  auto context = modbus::ServerContext::single(downstreamDevice);
  auto downstream = std::make_unique<ServerThread>(context);
  const std::uint16_t port = downstream->port();
  Gateway gateway(port, 3.0);
  REQUIRE(gateway.connected(1));
  Client client(gateway.server.port());
  CHECK(client.read(0, 1).second == 0);

  downstream.reset();  // stopped: its connections closed, nothing listens on the port
  REQUIRE(gateway.disconnected());
  CHECK(client.read(0, 1).second == -0x0A);
  CHECK(client.read(0, 1).second == -0x0A);

  downstream = std::make_unique<ServerThread>(context, modbus::ServerOptions{},
                                              "tcp:" + std::to_string(port) + ":interface=127.0.0.1");
  REQUIRE(gateway.connected(2));
  CHECK(client.read(0, 2) == std::pair<Registers, int>{{7, 7}, 0});
}

TEST_CASE("a gateway answers 0x0B when the downstream does not answer within the request timeout") {
  auto downstreamDevice = device(7);
  ServerThread downstream(modbus::ServerContext::multiple({{2, device(0)}}));
  // Downstream unit 1 answers after 2 s; the gateway waits 0.3 s.
  downstream.call([&] {
    downstream.server().factory().setAsyncDevice(
        1, std::make_shared<modbus::DelayedDevice>(downstream.server().reactor(), downstreamDevice, 2.0));
  });
  Gateway gateway(downstream.port(), 0.3);
  REQUIRE(gateway.connected());
  Client client(gateway.server.port());
  const auto started = std::chrono::steady_clock::now();
  CHECK(client.read(0, 1).second == -0x0B);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(waited >= 0.25);
  CHECK(waited < 1.9);  // the gateway's timeout answered, not the slow device
  // The link itself stays up: only that request failed.
  CHECK(waitOnReactor(gateway.server, [&gateway] {
    auto r = gateway.remote.lock();
    return r && r->state() == modbus::RemoteDevice::State::Connected && r->inFlight() == 0 &&
           r->connectionsMade() == 1;
  }));
}

TEST_CASE("a gateway whose downstream was never there answers 0x0A") {
  std::uint16_t port = 0;
  {
    ServerThread probe(modbus::ServerContext::single(device(0)));  // a port that was free, now closed
    port = probe.port();
  }
  Gateway gateway(port, 1.0);
  Client client(gateway.server.port());
  CHECK(client.read(0, 1).second == -0x0A);
  CHECK(waitOnReactor(gateway.server, [&gateway] {
    auto r = gateway.remote.lock();
    return r && r->connectionsMade() == 0 && r->state() != modbus::RemoteDevice::State::Connected;
  }));
}

TEST_CASE("a request in flight when the downstream goes away is answered 0x0B") {
  auto downstreamDevice = device(7);
  auto downstream = std::make_unique<ServerThread>(modbus::ServerContext::multiple({{2, device(0)}}));
  downstream->call([&] {
    downstream->server().factory().setAsyncDevice(
        1, std::make_shared<modbus::DelayedDevice>(downstream->server().reactor(), downstreamDevice, 3.0));
  });
  Gateway gateway(downstream->port(), 4.0);
  REQUIRE(gateway.connected());
  Client client(gateway.server.port());
  const std::uint8_t read[] = {kGatewayUnit, 0x03, 0x00, 0x00, 0x00, 0x01};
  REQUIRE(modbus_send_raw_request(client.get(), read, sizeof read) > 0);
  REQUIRE(waitOnReactor(gateway.server, [&gateway] {
    auto r = gateway.remote.lock();
    return r && r->inFlight() == 1;
  }));
  downstream.reset();  // closes the link with the request unanswered
  std::uint8_t answer[MODBUS_TCP_MAX_ADU_LENGTH];
  const int n = modbus_receive_confirmation(client.get(), answer);
  REQUIRE(n == 9);
  CHECK(answer[7] == 0x83);
  CHECK(answer[8] == 0x0B);
}

TEST_CASE("the uvmodbus-server binary serves a configured remote unit next to a unit with device keys") {
  auto downstreamDevice = device(7);
  ServerThread downstream(modbus::ServerContext::single(downstreamDevice));
  char path[] = "/tmp/uvmodbus-gateway-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}], "missing_unit": "exception_0A",
    "units": {"1": {"holding_registers": {"count": 10}, "server_id": {"id": [1, 2], "data": "gw"},
                    "exception_status": "0x81"},
              "5": {"remote": {"endpoint": "tcp:127.0.0.1:)"
                      << downstream.port() << R"(", "unit": 1, "timeout": 2}}}})";
  {
    testsupport::Subprocess binary(
        {testsupport::buildDir() + "/uvmodbus-server", "--config", path, "--log-level", "info"});
    auto line = binary.waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", 10);
    REQUIRE_MESSAGE(line.has_value(), binary.output());
    const auto port = static_cast<std::uint16_t>(std::stoi((*line)[1]));
    Client client(port);
    CHECK(client.read(0, 2) == std::pair<Registers, int>{{7, 7}, 0});
    modbus_set_slave(client.get(), 1);
    std::uint8_t id[MODBUS_MAX_PDU_LENGTH] = {};
    REQUIRE(modbus_report_slave_id(client.get(), sizeof id, id) == 5);
    CHECK(std::vector<std::uint8_t>(id, id + 5) == std::vector<std::uint8_t>{1, 2, 0xFF, 'g', 'w'});
    const std::uint8_t readExceptionStatus[] = {1, 0x07};
    REQUIRE(modbus_send_raw_request(client.get(), readExceptionStatus, sizeof readExceptionStatus) > 0);
    std::uint8_t answer[MODBUS_TCP_MAX_ADU_LENGTH];
    REQUIRE(modbus_receive_confirmation(client.get(), answer) == 9);
    CHECK(answer[7] == 0x07);
    CHECK(answer[8] == 0x81);
    modbus_set_slave(client.get(), 9);
    CHECK(client.read(0, 1).second == -0x0A);  // missing_unit
    binary.signal(SIGTERM);
    CHECK(binary.wait(5) == std::optional<int>(0));
  }
  ::unlink(path);
}
