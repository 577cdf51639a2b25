// "One write per read batch" (DESIGN.md, the path of one request): every frame a read brings is
// answered, in order, and all the answers leave in a single transport write. Driven through
// StringTransport, so the count of writes is exact.
#include <doctest/doctest.h>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "tests/support/reactor_harness.h"

namespace {

using namespace modbus;

struct Connection {
  std::shared_ptr<ModbusServerFactory> factory;
  std::shared_ptr<reactor::Protocol> protocol;
  std::shared_ptr<reactor::testing::StringTransport> transport;
};

Connection connect() {
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 0x0102);
  Connection c;
  c.factory = std::make_shared<ModbusServerFactory>(ServerContext::single(std::make_shared<DeviceContext>(tables)));
  c.protocol = c.factory->buildProtocol(reactor::Address{});
  c.transport = std::make_shared<reactor::testing::StringTransport>();
  c.protocol->makeConnection(c.transport);
  return c;
}

// FC3, read one register at `address`, transaction id `tid`.
std::vector<std::uint8_t> request(std::uint16_t tid, std::uint8_t address) {
  return {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3, 0, address, 0, 1};
}

}  // namespace

TEST_CASE("sixteen pipelined requests in one read are answered in order with one write") {
  auto c = connect();
  std::vector<std::uint8_t> batch;
  for (std::uint16_t tid = 0; tid < 16; ++tid) {
    auto r = request(tid, static_cast<std::uint8_t>(tid));
    batch.insert(batch.end(), r.begin(), r.end());
  }
  c.protocol->dataReceived(batch);
  CHECK(c.transport->writeCalls() == 1);
  const auto& out = c.transport->bytes();
  REQUIRE(out.size() == 16 * 11);
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint8_t* reply = out.data() + i * 11;
    CHECK(reply[1] == i);            // transaction id echoed, in order
    CHECK(reply[7] == 3);            // FC3
    CHECK(reply[8] == 2);            // byte count
    CHECK(reply[9] == 0x01);
    CHECK(reply[10] == 0x02);
  }
}

TEST_CASE("a batch that ends mid-frame is answered up to the split, and the rest when it arrives") {
  auto c = connect();
  auto first = request(1, 0);
  auto second = request(2, 1);
  std::vector<std::uint8_t> chunk(first);
  chunk.insert(chunk.end(), second.begin(), second.begin() + 5);
  c.protocol->dataReceived(chunk);
  CHECK(c.transport->writeCalls() == 1);
  CHECK(c.transport->bytes().size() == 11);
  c.protocol->dataReceived(std::span(second).subspan(5));
  CHECK(c.transport->writeCalls() == 2);
  REQUIRE(c.transport->bytes().size() == 22);
  CHECK(c.transport->bytes()[11 + 1] == 2);
}

TEST_CASE("a read with no whole frame writes nothing") {
  auto c = connect();
  auto r = request(1, 0);
  c.protocol->dataReceived(std::span(r).first(7));
  CHECK(c.transport->writeCalls() == 0);
}
