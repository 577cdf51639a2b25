// Builds against the installed headers and libraries: serves one register on a free port, reads it
// back over TCP with our own reactor's connectTCP, and exits 0 when the answer is right.
#include "reactor/reactor.h"
#include <cstdio>
#include <memory>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"

namespace {

class ReadOnce final : public reactor::Protocol {
 public:
  ReadOnce(reactor::Reactor& r, int& result) : reactor_(r), result_(result) {}
  void connectionMade() override {
    const std::uint8_t request[] = {0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
    transport().write(request);
  }
  void dataReceived(reactor::ByteView data) override {
    // 00 01 00 00 00 05 01 03 02 12 34
    result_ = (data.size() == 11 && data[9] == 0x12 && data[10] == 0x34) ? 0 : 1;
    reactor_.stop();
  }

 private:
  reactor::Reactor& reactor_;
  int& result_;
};

}  // namespace

int main() {
  reactor::Reactor r;
  modbus::DeviceTables tables;
  tables.holdingRegisters = modbus::SequentialDataBlock<std::uint16_t>::create(0, 10, 0x1234);
  modbus::ModbusTcpServer server(r, modbus::ServerContext::single(std::make_shared<modbus::DeviceContext>(tables)));
  auto addr = server.listen("tcp:0:interface=127.0.0.1");
  int result = 2;
  auto factory = std::make_shared<reactor::ClientFactory>();
  factory->protocol = [&] { return std::make_shared<ReadOnce>(r, result); };
  r.connectTCP("127.0.0.1", addr.port, factory);
  r.callLater(10.0, [&r] { r.stop(); });
  r.run(false);
  std::printf("consumer: %s\n", result == 0 ? "ok" : "failed");
  return result;
}
