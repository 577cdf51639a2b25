// Start*Server on a reactor the program runs itself (pymodbus 1.x's defer_reactor_run=True): the
// program starts its LoopingCall, calls StartTcpServer(..., reactor, deferReactorRun) and runs the
// reactor; the server lives until the reactor has shut down.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/looping_call.h"
#include "tests/support/reactor_harness.h"

using namespace modbus;
using namespace reactor::testing;

TEST_CASE("StartTcpServer with deferReactorRun serves on the program's reactor next to its LoopingCall") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  auto block = SequentialDataBlock<std::uint16_t>::create(0, 10, 0);
  DeviceTables tables;
  tables.holdingRegisters = block;
  auto context = ServerContext::single(std::make_shared<DeviceContext>(tables));
  // pymodbus's updating server: a LoopingCall that writes register 0 (here: once, at start).
  int ticks = 0;
  reactor::LoopingCall updater(r, [&] {
    ++ticks;
    const std::uint8_t value[2] = {0x12, static_cast<std::uint8_t>(0x30 + ticks)};
    block->writeRegisters(0, 1, value);
  });
  updater.start(3600.0);  // now=true: the first call is made here
  std::weak_ptr<ModbusTcpServer> server = StartTcpServer(context, "tcp:0:interface=127.0.0.1", r, deferReactorRun);
  REQUIRE_FALSE(server.expired());  // the reactor keeps it: the program may drop the result
  REQUIRE(server.lock()->addresses().size() == 1);
  const std::uint16_t port = server.lock()->addresses()[0].port;
  std::string reply;
  std::thread client([&] {
    BlockingClient c("127.0.0.1", port);
    const std::uint8_t read[] = {0, 9, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
    c.sendAll(std::string(reinterpret_cast<const char*>(read), sizeof read));
    reply = c.readUntilEof(nullptr, 11);
    r.callFromThread([&] {
      updater.stop();
      r.stop();
    });
  });
  CHECK(runReactor(r, 10.0));
  client.join();
  REQUIRE(reply.size() == 11);
  CHECK(static_cast<std::uint8_t>(reply[9]) == 0x12);
  CHECK(static_cast<std::uint8_t>(reply[10]) == 0x31);
  CHECK(ticks == 1);
  CHECK(server.expired());  // released once the reactor shut down
}

TEST_CASE("StartUdpServer with deferReactorRun listens at once, and ServerStop leaves the program's reactor running") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10, 0);
  auto context = ServerContext::single(std::make_shared<DeviceContext>(tables));
  std::weak_ptr<ModbusUdpServer> server = StartUdpServer(context, "udp:0:interface=127.0.0.1", r, deferReactorRun);
  REQUIRE_FALSE(server.expired());
  CHECK(server.lock()->addresses().size() == 1);
  CHECK(runningServerCount() >= 1);
  bool stillRunning = false;
  // The program observes the shutdown; the library itself leaves the reactor alone.
  server.lock()->onShutdown = [&] {
    r.callLater(0.0, [&] {
      try {
        r.stop();  // throws ReactorNotRunning if something else had stopped it
        stillRunning = true;
      } catch (const reactor::ReactorNotRunning&) {
      }
    });
  };
  r.callWhenRunning([] { ServerStop(); });
  CHECK(runReactor(r, 10.0));
  CHECK(stillRunning);
  CHECK(server.expired());
}

TEST_CASE("a server started with deferReactorRun on a reactor that never runs is released cleanly") {
  LoopCleanCheck clean;
  std::weak_ptr<ModbusTcpServer> server;
  {
    reactor::Reactor r;
    DeviceTables tables;
    tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10, 0);
    server = StartTcpServer(ServerContext::single(std::make_shared<DeviceContext>(tables)),
                            "tcp:0:interface=127.0.0.1", r, deferReactorRun);
    CHECK_FALSE(server.expired());
  }
  CHECK(server.expired());
}
