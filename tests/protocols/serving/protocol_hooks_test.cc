// The execute and send hooks of ModbusTcpProtocol / ModbusUdpProtocol (pymodbus 1.x's _execute and
// _send): a subclass observes and changes a request and its answer, over real loopback sockets.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <span>
#include <stdexcept>
#include <utility>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/framer_type.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_tcp_protocol.h"
#include "protocols/serving/modbus_udp_protocol.h"
#include "reactor/datagram_protocol.h"
#include "tests/support/reactor_harness.h"

namespace {

using namespace modbus;
using namespace reactor::testing;

std::shared_ptr<ServerContext> registersCounting() {
  // Register i holds 1000 + i.
  DeviceTables tables;
  std::vector<std::uint16_t> values;
  for (std::uint16_t i = 0; i < 100; ++i) values.push_back(static_cast<std::uint16_t>(1000 + i));
  tables.holdingRegisters = std::make_shared<SequentialDataBlock<std::uint16_t>>(0, std::move(values));
  return ServerContext::single(std::make_shared<DeviceContext>(tables));
}

/// Records what passes, reads register 50 whatever register was asked for, and marks each answer's
/// last byte: a porting user's _execute/_send override.
class HookedTcpProtocol : public ModbusTcpProtocol {
 public:
  using ModbusTcpProtocol::ModbusTcpProtocol;
  std::vector<std::vector<std::uint8_t>> requests;
  std::vector<std::vector<std::uint8_t>> answers;
  std::vector<std::uint16_t> transactions;

 protected:
  Answer execute(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response) override {
    requests.emplace_back(request.begin(), request.end());
    std::array<std::uint8_t, 5> changed{};
    std::copy_n(request.begin(), 5, changed.begin());
    changed[1] = 0;
    changed[2] = 50;  // the address: 50 instead of what was asked
    return ModbusTcpProtocol::execute(unitId, changed, response);
  }
  void send(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length) override {
    answers.emplace_back(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(length));
    transactions.push_back(header.transactionId);
    response[length - 1] = 0xEE;
  }
};

class HookedFactory : public ModbusServerFactory {
 public:
  using ModbusServerFactory::ModbusServerFactory;
  std::vector<std::shared_ptr<HookedTcpProtocol>> built;

 protected:
  std::shared_ptr<ModbusTcpProtocol> makeProtocol() override {
    auto p = std::make_shared<HookedTcpProtocol>(makeFramer(FramerType::Socket));
    built.push_back(p);
    return p;
  }
};

std::string readRequest(std::uint16_t tid, std::uint8_t address) {
  const std::uint8_t bytes[] = {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3,
                                0, address, 0, 1};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

/// Throws from execute for function code 6 (write single register).
class ThrowingTcpProtocol : public ModbusTcpProtocol {
 public:
  using ModbusTcpProtocol::ModbusTcpProtocol;

 protected:
  Answer execute(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response) override {
    if (request[0] == 6) throw std::runtime_error("writes are off");
    return ModbusTcpProtocol::execute(unitId, request, response);
  }
};

}  // namespace

TEST_CASE("a ModbusTcpProtocol subclass's execute and send hooks see and change requests and answers over TCP") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  auto factory = std::make_shared<HookedFactory>(registersCounting());
  auto port = r.listenTCP(0, factory, 50, "127.0.0.1");
  const std::uint16_t portNumber = port->getHost().port;
  std::string reply;
  std::thread client([&] {
    BlockingClient c("127.0.0.1", portNumber);
    c.sendAll(readRequest(7, 3));
    reply = c.readUntilEof(nullptr, 11);
    r.callFromThread([&] { r.stop(); });
  });
  CHECK(runReactor(r, 10.0));
  client.join();
  REQUIRE(reply.size() == 11);
  CHECK(static_cast<std::uint8_t>(reply[1]) == 7);  // the transaction id
  CHECK(static_cast<std::uint8_t>(reply[7]) == 3);
  // Register 50 holds 1050 = 0x041A; send() replaced the last byte.
  CHECK(static_cast<std::uint8_t>(reply[9]) == 0x04);
  CHECK(static_cast<std::uint8_t>(reply[10]) == 0xEE);
  REQUIRE(factory->built.size() == 1);
  const auto& p = *factory->built[0];
  REQUIRE(p.requests.size() == 1);
  CHECK(p.requests[0] == std::vector<std::uint8_t>{3, 0, 3, 0, 1});  // what the client asked
  REQUIRE(p.answers.size() == 1);
  CHECK(p.answers[0] == std::vector<std::uint8_t>{3, 2, 0x04, 0x1A});  // before send() changed it
  CHECK(p.transactions == std::vector<std::uint16_t>{7});
  // The protocol holds its factory: the factory's list of protocols would otherwise be a cycle.
  factory->built.clear();
}

TEST_CASE("an execute hook that throws is answered with exception 04 and the connection carries on") {
  LoopCleanCheck clean;
  LogCapture logs;
  reactor::Reactor r;
  class Factory : public ModbusServerFactory {
   public:
    using ModbusServerFactory::ModbusServerFactory;

   protected:
    std::shared_ptr<ModbusTcpProtocol> makeProtocol() override {
      return std::make_shared<ThrowingTcpProtocol>(makeFramer(FramerType::Socket));
    }
  };
  auto factory = std::make_shared<Factory>(registersCounting());
  auto port = r.listenTCP(0, factory, 50, "127.0.0.1");
  const std::uint16_t portNumber = port->getHost().port;
  std::string reply;
  std::thread client([&] {
    BlockingClient c("127.0.0.1", portNumber);
    const std::uint8_t write[] = {0, 1, 0, 0, 0, 6, 1, 6, 0, 3, 0, 9};
    c.sendAll(std::string(reinterpret_cast<const char*>(write), sizeof write));
    c.sendAll(readRequest(2, 3));
    reply = c.readUntilEof(nullptr, 9 + 11);
    r.callFromThread([&] { r.stop(); });
  });
  CHECK(runReactor(r, 10.0));
  client.join();
  REQUIRE(reply.size() == 20);
  CHECK(static_cast<std::uint8_t>(reply[7]) == 0x86);  // exception answer to FC6
  CHECK(static_cast<std::uint8_t>(reply[8]) == 0x04);
  CHECK(static_cast<std::uint8_t>(reply[9 + 10]) == 0xEB);  // register 3 = 1003 = 0x03EB, unchanged
  CHECK(logs.count("writes are off") == 1);
}

namespace {

/// Silences reads of register 0 and doubles the low byte of other answers, for UDP.
class HookedUdpProtocol : public ModbusUdpProtocol {
 public:
  using ModbusUdpProtocol::ModbusUdpProtocol;
  int executed = 0;
  std::vector<std::string> peers;

 protected:
  Answer execute(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response) override {
    ++executed;
    return ModbusUdpProtocol::execute(unitId, request, response);
  }
  void send(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length,
            const reactor::Address& addr) override {
    (void)header;
    peers.push_back(addr.host);
    if (response[0] == 3 && response[3] == 0xE8) {  // register 0 (1000 = 0x03E8): silenced
      length = 0;
      return;
    }
    response[length - 1] = static_cast<std::uint8_t>(response[length - 1] * 2);
  }
};

class UdpClient : public reactor::DatagramProtocol {
 public:
  std::vector<std::string> replies;
  std::function<void()> onReply;
  void datagramReceived(reactor::ByteView d, const reactor::Address&) override {
    replies.emplace_back(reinterpret_cast<const char*>(d.data()), d.size());
    if (onReply) onReply();
  }
};

}  // namespace

TEST_CASE("a ModbusUdpProtocol subclass's execute and send hooks see every request and may silence an answer") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  auto server = std::make_shared<HookedUdpProtocol>(std::make_shared<RequestProcessor>(registersCounting()));
  auto serverPort = r.listenUDP(0, server, "127.0.0.1");
  auto client = std::make_shared<UdpClient>();
  auto clientPort = r.listenUDP(0, client, "127.0.0.1");
  const reactor::Address to = serverPort->getHost();
  client->onReply = [&] { r.stop(); };
  r.callWhenRunning([&] {
    // Register 0 first (silenced), then register 1: one reply, for the second.
    for (auto [tid, address] : {std::pair<std::uint16_t, std::uint8_t>{1, 0}, {2, 1}}) {
      std::string req = readRequest(tid, address);
      client->transport().write(reactor::asBytes(req), to);
    }
  });
  CHECK(runReactor(r, 10.0));
  CHECK(server->executed == 2);
  REQUIRE(client->replies.size() == 1);
  const std::string& reply = client->replies[0];
  REQUIRE(reply.size() == 11);
  CHECK(static_cast<std::uint8_t>(reply[1]) == 2);
  CHECK(static_cast<std::uint8_t>(reply[10]) == static_cast<std::uint8_t>(0xE9 * 2));  // 1001 = 0x03E9
  CHECK(server->peers == std::vector<std::string>{"127.0.0.1", "127.0.0.1"});
  clientPort->stopListening();
  serverPort->stopListening();
}
