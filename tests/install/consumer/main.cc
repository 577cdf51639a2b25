// Builds against the installed headers and libraries: serves one register on a free port, reads it
// back over TCP with our own reactor's connectTCP, runs a Deferred chain and a coroutine awaiting
// deferLater on the reactor, a deferToThread, and a LineReceiver echo over loopback (connected through
// clientFromString's endpoint and the Deferred its connect returns), drives a protocol
// over the installed StringTransport, and exits 0 when every answer is right.
#include "reactor/reactor.h"
#include <cstdio>
#include <string>
#include <memory>
#include <string_view>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/basic.h"
#include "reactor/defer.h"
#include "reactor/endpoints.h"
#include "reactor/testing.h"
#include "reactor/threads.h"

namespace {

class ReadOnce final : public reactor::Protocol {
 public:
  ReadOnce(reactor::Reactor& r, int& result, int& pending) : reactor_(r), result_(result), pending_(pending) {}
  void connectionMade() override {
    const std::uint8_t request[] = {0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
    transport().write(request);
  }
  void dataReceived(reactor::ByteView data) override {
    // 00 01 00 00 00 05 01 03 02 12 34
    result_ = (data.size() == 11 && data[9] == 0x12 && data[10] == 0x34) ? 0 : 1;
    if (--pending_ == 0) reactor_.stop();
  }

 private:
  reactor::Reactor& reactor_;
  int& result_;
  int& pending_;
};

/// Echoes each line back, upper-cased.
class ShoutBack final : public reactor::LineReceiver {
 public:
  void lineReceived(std::string_view line) override {
    std::string out(line);
    for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    sendLine(out);
  }
};

/// Sends one line and records the line that comes back.
class SayHello final : public reactor::LineReceiver {
 public:
  SayHello(reactor::Reactor& r, std::string& got, int& pending) : reactor_(r), got_(got), pending_(pending) {}
  void connectionMade() override { sendLine("hello"); }
  void lineReceived(std::string_view line) override {
    got_ = line;
    transport().loseConnection();
    if (--pending_ == 0) reactor_.stop();
  }

 private:
  reactor::Reactor& reactor_;
  std::string& got_;
  int& pending_;
};

/// inlineCallbacks' counterpart: waits for the reactor's clock, then for `d`.
reactor::Deferred<int> addLater(reactor::Reactor& r, reactor::Deferred<int> d) {
  int first = co_await reactor::deferLater(r, 0.01, [] { return 40; });
  int second = co_await d;
  co_return first + second;
}

/// A protocol unit test the way a consumer writes one: the installed StringTransport, no sockets.
bool stringTransportWorks() {
  class Upper final : public reactor::Protocol {
   public:
    void dataReceived(reactor::ByteView data) override {
      std::string text(reactor::asText(data));
      for (char& c : text) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      transport().write(reactor::asBytes(text));
    }
  };
  auto protocol = std::make_shared<Upper>();
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  protocol->makeConnection(transport);
  protocol->dataReceived(reactor::asBytes("modbus"));
  transport->reportConnectionLost(*protocol);
  return transport->value() == "MODBUS" && !protocol->connected();
}

}  // namespace

int main() {
  if (!stringTransportWorks()) {
    std::printf("consumer: StringTransport failed\n");
    return 4;
  }
  reactor::Reactor r;
  modbus::DeviceTables tables;
  tables.holdingRegisters = modbus::SequentialDataBlock<std::uint16_t>::create(0, 10, 0x1234);
  modbus::ModbusTcpServer server(r, modbus::ServerContext::single(std::make_shared<modbus::DeviceContext>(tables)));
  auto addr = server.listen("tcp:0:interface=127.0.0.1");
  int result = 2;
  int pending = 4;  // the Modbus read, the Deferred chain, the thread and the line
  auto factory = std::make_shared<reactor::ClientFactory>();
  factory->protocol = [&] { return std::make_shared<ReadOnce>(r, result, pending); };
  r.connectTCP("127.0.0.1", addr.port, factory);
  reactor::Deferred<int> two;
  std::string chained;
  addLater(r, two)
      .addCallback([](int x) { return std::to_string(x); })
      .addCallback([&](std::string s) {
        chained = s;
        if (--pending == 0) r.stop();
      });
  r.callLater(0.0, [two]() mutable { two.callback(2); });
  int fromThread = 0;
  reactor::deferToThread(r, [] { return 21; }).addCallback([&](int x) {
    fromThread = x * 2;
    if (--pending == 0) r.stop();
  });
  auto lineServer = std::make_shared<reactor::ServerFactory>();
  lineServer->protocol = [] { return std::make_shared<ShoutBack>(); };
  auto linePort = r.listenTCP(0, lineServer, 50, "127.0.0.1");
  std::string line;
  auto lineClient = std::make_shared<reactor::Factory>();
  lineClient->protocol = [&] { return std::make_shared<SayHello>(r, line, pending); };
  auto endpoint = reactor::clientFromString(r, "tcp:127.0.0.1:" + std::to_string(linePort->getHost().port));
  bool lineConnected = false;
  endpoint->connect(lineClient).addCallback([&](std::shared_ptr<reactor::Protocol> p) {
    lineConnected = dynamic_cast<SayHello*>(p.get()) != nullptr;
  });
  r.callLater(10.0, [&r] { r.stop(); });
  r.run(false);
  if (chained != "42") result = 3;
  if (fromThread != 42) result = 4;
  if (line != "HELLO" || !lineConnected) result = 5;
  std::printf("consumer: %s\n", result == 0 ? "ok" : "failed");
  return result;
}
