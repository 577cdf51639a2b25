// Write observers: called with the values stored after a client write to a watched range, and only then.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/application/request_processor.h"
#include "protocols/application/write_observers.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

struct Seen {
  int unit;
  ModbusTable table;
  int address;
  std::vector<std::uint16_t> values;
  friend bool operator==(const Seen&, const Seen&) = default;
};

struct Fixture {
  std::shared_ptr<DeviceContext> device = std::make_shared<DeviceContext>(
      DeviceTables{.coils = SequentialDataBlock<bool>::create(0, 100),
                   .holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 0x00F0)});
  RequestProcessor processor{ServerContext::multiple({{1, device}, {2, device}})};
  std::array<std::uint8_t, 253> response{};
  std::vector<Seen> seen;

  WriteObservers::Callback record() {
    return [this](const WriteEvent& e) {
      seen.push_back({e.unitId, e.table, e.address, std::vector<std::uint16_t>(e.values.begin(), e.values.end())});
    };
  }
  Bytes run(std::uint8_t unit, const Bytes& request) {
    std::size_t n = processor.process(unit, request, response);
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

constexpr auto kHr = ModbusTable::HoldingRegisters;

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a write observer gets the overlapping part of a multiple-register write, after it applied") {
  processor.writeObservers().subscribe(1, kHr, {10, 12}, record());
  // FC16 at 8, four registers 1..4 → addresses 8..11; 10 and 11 are watched.
  run(1, {0x10, 0, 8, 0, 4, 8, 0, 1, 0, 2, 0, 3, 0, 4});
  CHECK(seen == std::vector<Seen>{{1, kHr, 10, {3, 4}}});
}

TEST_CASE_FIXTURE(Fixture, "a mask write reports the value stored, not the masks") {
  processor.writeObservers().subscribe(std::nullopt, kHr, {0, 99}, record());
  run(1, {0x16, 0, 3, 0x00, 0xF0, 0x00, 0x05});  // (0xF0 & 0xF0) | (0x05 & ~0xF0) = 0xF5
  CHECK(seen == std::vector<Seen>{{1, kHr, 3, {0xF5}}});
}

TEST_CASE_FIXTURE(Fixture, "coil writes are reported as 0 and 1, single and multiple") {
  processor.writeObservers().subscribe(1, ModbusTable::Coils, {0, 15}, record());
  run(1, {0x05, 0, 2, 0xFF, 0x00});
  run(1, {0x0F, 0, 4, 0, 3, 1, 0b101});
  CHECK(seen == std::vector<Seen>{{1, ModbusTable::Coils, 2, {1}}, {1, ModbusTable::Coils, 4, {1, 0, 1}}});
}

TEST_CASE_FIXTURE(Fixture, "read/write multiple registers reports its write part") {
  processor.writeObservers().subscribe(1, kHr, {0, 99}, record());
  run(1, {0x17, 0, 0, 0, 1, 0, 20, 0, 1, 2, 0x12, 0x34});
  CHECK(seen == std::vector<Seen>{{1, kHr, 20, {0x1234}}});
}

TEST_CASE_FIXTURE(Fixture, "no observer is called for reads, other units, other tables, other ranges or rejected writes") {
  processor.writeObservers().subscribe(1, kHr, {10, 12}, record());
  run(1, {0x03, 0, 10, 0, 1});                     // a read
  run(2, {0x06, 0, 10, 0, 1});                     // unit 2 (same device, other unit id)
  run(1, {0x05, 0, 10, 0xFF, 0x00});               // coils
  run(1, {0x06, 0, 13, 0, 1});                     // outside the range
  CHECK(run(1, {0x06, 0, 200, 0, 1}) == Bytes{0x86, 0x02});  // rejected
  CHECK(seen.empty());
}

TEST_CASE_FIXTURE(Fixture, "an unsubscribed observer is not called again, even when it unsubscribes itself") {
  WriteObservers::SubscriptionId id = 0;
  int calls = 0;
  id = processor.writeObservers().subscribe(1, kHr, {0, 99}, [&](const WriteEvent&) {
    ++calls;
    processor.writeObservers().unsubscribe(id);
  });
  run(1, {0x06, 0, 1, 0, 1});
  run(1, {0x06, 0, 1, 0, 2});
  CHECK(calls == 1);
  CHECK(processor.writeObservers().empty());
  CHECK_FALSE(processor.writeObservers().unsubscribe(id));
}

TEST_CASE_FIXTURE(Fixture, "an observer that throws does not change the answer") {
  processor.writeObservers().subscribe(1, kHr, {0, 99}, [](const WriteEvent&) { throw std::runtime_error("x"); });
  CHECK(run(1, {0x06, 0, 1, 0, 7}) == Bytes{0x06, 0, 1, 0, 7});
  CHECK(device->holdingRegisters()->getValues(1, 1) == std::vector<std::uint16_t>{7});
}
