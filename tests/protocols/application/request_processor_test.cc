// Tests for protocols/application/request_processor.h: every function code byte for byte, every limit, every
// malformed PDU. Examples marked "spec" are the ones of the Modbus Application Protocol v1.1b3 §6.
#include "protocols/application/request_processor.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "datastore/sequential_data_block.h"
#include "datastore/sparse_data_block.h"
#include "protocols/application/pdu.h"

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

// One device with all four tables covering the whole address space.
struct Server {
  std::shared_ptr<SequentialBitBlock> coils = SequentialBitBlock::create();
  std::shared_ptr<SequentialBitBlock> discreteInputs = SequentialBitBlock::create();
  std::shared_ptr<SequentialRegisterBlock> holding = SequentialRegisterBlock::create();
  std::shared_ptr<SequentialRegisterBlock> input = SequentialRegisterBlock::create();
  std::shared_ptr<DeviceContext> device = std::make_shared<DeviceContext>(DeviceTables{
      .coils = coils, .discreteInputs = discreteInputs, .holdingRegisters = holding, .inputRegisters = input});
  RequestProcessor processor{ServerContext::single(device)};

  Bytes run(const Bytes& request, std::uint8_t unitId = 1) { return runOn(processor, request, unitId); }

  static Bytes runOn(RequestProcessor& processor, const Bytes& request, std::uint8_t unitId = 1) {
    std::array<std::uint8_t, kMaxPduSize> response{};
    const std::size_t n = processor.process(unitId, request, response);
    REQUIRE(n <= response.size());
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

Bytes exception(std::uint8_t functionCode, ExceptionCode code) {
  return {static_cast<std::uint8_t>(functionCode | 0x80), static_cast<std::uint8_t>(code)};
}

// fc, then each 16-bit field big-endian.
Bytes request(std::uint8_t functionCode, std::initializer_list<std::uint16_t> fields) {
  Bytes out{functionCode};
  for (std::uint16_t f : fields) {
    out.push_back(static_cast<std::uint8_t>(f >> 8));
    out.push_back(static_cast<std::uint8_t>(f & 0xFF));
  }
  return out;
}

// FC 15 / 16 request with the correct byte count and `data` (or an explicit byte count).
Bytes writeMultiple(std::uint8_t functionCode, std::uint16_t address, std::uint16_t quantity, const Bytes& data,
                    int byteCount = -1) {
  Bytes out = request(functionCode, {address, quantity});
  out.push_back(static_cast<std::uint8_t>(byteCount < 0 ? data.size() : static_cast<std::size_t>(byteCount)));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes readWrite(std::uint16_t readAddress, std::uint16_t readQuantity, std::uint16_t writeAddress,
                std::uint16_t writeQuantity, const Bytes& data, int byteCount = -1) {
  Bytes out = request(0x17, {readAddress, readQuantity, writeAddress, writeQuantity});
  out.push_back(static_cast<std::uint8_t>(byteCount < 0 ? data.size() : static_cast<std::size_t>(byteCount)));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes registers(std::size_t count, std::uint16_t first = 0) {
  Bytes out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto v = static_cast<std::uint16_t>(first + i);
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
  }
  return out;
}

// A holding-register block that fails on demand, to reach the execution stage.
class FaultyBlock final : public RegisterBlock {
 public:
  enum class Mode { Throw, Fail, Busy } mode = Mode::Throw;
  ExceptionCode readRegisters(std::uint16_t, std::uint16_t, std::uint8_t*) override { return act(); }
  ExceptionCode writeRegisters(std::uint16_t, std::uint16_t, const std::uint8_t*) override { return act(); }
  bool validate(std::uint16_t, std::uint16_t) const override { return true; }

 private:
  ExceptionCode act() {
    if (mode == Mode::Throw) throw std::runtime_error("hardware gone");
    return mode == Mode::Fail ? ExceptionCode::ServerDeviceFailure : ExceptionCode::ServerDeviceBusy;
  }
};

}  // namespace

// --- happy paths, byte-exact -----------------------------------------------------------------

TEST_CASE("FC1 read coils answers the spec example byte for byte") {
  Server s;
  const Bytes bits{0xCD, 0x6B, 0x05};
  REQUIRE(s.coils->writeBits(19, 19, bits.data()) == ExceptionCode::None);
  CHECK(s.run(request(0x01, {0x0013, 0x0013})) == Bytes{0x01, 0x03, 0xCD, 0x6B, 0x05});
}

TEST_CASE("FC2 read discrete inputs answers the spec example byte for byte") {
  Server s;
  const Bytes bits{0xAC, 0xDB, 0x35};
  REQUIRE(s.discreteInputs->writeBits(196, 22, bits.data()) == ExceptionCode::None);
  CHECK(s.run(request(0x02, {0x00C4, 0x0016})) == Bytes{0x02, 0x03, 0xAC, 0xDB, 0x35});
}

TEST_CASE("FC3 read holding registers answers the spec example byte for byte") {
  Server s;
  REQUIRE(s.holding->setValues(107, {0x022B, 0x0000, 0x0064}) == ExceptionCode::None);
  CHECK(s.run(request(0x03, {0x006B, 0x0003})) == Bytes{0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64});
}

TEST_CASE("FC4 read input registers answers the spec example byte for byte") {
  Server s;
  REQUIRE(s.input->setValues(8, {0x000A}) == ExceptionCode::None);
  CHECK(s.run(request(0x04, {0x0008, 0x0001})) == Bytes{0x04, 0x02, 0x00, 0x0A});
}

TEST_CASE("FC5 write single coil echoes the request and switches the coil on and off") {
  Server s;
  const Bytes on = request(0x05, {0x00AC, 0xFF00});
  CHECK(s.run(on) == on);
  CHECK(s.coils->getValues(172, 1) == std::vector<bool>{true});
  const Bytes off = request(0x05, {0x00AC, 0x0000});
  CHECK(s.run(off) == off);
  CHECK(s.coils->getValues(172, 1) == std::vector<bool>{false});
}

TEST_CASE("FC6 write single register echoes the request and stores the value") {
  Server s;
  const Bytes req = request(0x06, {0x0001, 0x0003});
  CHECK(s.run(req) == req);
  CHECK(s.holding->getValues(1, 1) == std::vector<std::uint16_t>{3});
}

TEST_CASE("FC15 write multiple coils answers the spec example and stores the bits") {
  Server s;
  CHECK(s.run(writeMultiple(0x0F, 0x0013, 0x000A, {0xCD, 0x01})) == Bytes{0x0F, 0x00, 0x13, 0x00, 0x0A});
  CHECK(s.coils->getValues(19, 11) ==
        std::vector<bool>{true, false, true, true, false, false, true, true, true, false, false});
}

TEST_CASE("FC16 write multiple registers answers the spec example and stores the values") {
  Server s;
  CHECK(s.run(writeMultiple(0x10, 0x0001, 0x0002, {0x00, 0x0A, 0x01, 0x02})) == Bytes{0x10, 0x00, 0x01, 0x00, 0x02});
  CHECK(s.holding->getValues(1, 2) == std::vector<std::uint16_t>{0x000A, 0x0102});
}

TEST_CASE("FC22 mask write register applies (current AND and) OR (or AND NOT and) and echoes") {
  Server s;
  REQUIRE(s.holding->setValues(4, {0x0012}) == ExceptionCode::None);
  const Bytes req = request(0x16, {0x0004, 0x00F2, 0x0025});
  CHECK(s.run(req) == req);
  CHECK(s.holding->getValues(4, 1) == std::vector<std::uint16_t>{0x0017});
}

TEST_CASE("FC23 read/write multiple registers answers the spec example byte for byte") {
  Server s;
  REQUIRE(s.holding->setValues(3, {0x00FE, 0x0ACD, 0x0001, 0x0003, 0x000D, 0x00FF}) == ExceptionCode::None);
  const Bytes response = s.run(readWrite(0x0003, 0x0006, 0x000E, 0x0003, {0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF}));
  CHECK(response == Bytes{0x17, 0x0C, 0x00, 0xFE, 0x0A, 0xCD, 0x00, 0x01, 0x00, 0x03, 0x00, 0x0D, 0x00, 0xFF});
  CHECK(s.holding->getValues(14, 3) == std::vector<std::uint16_t>{0xFF, 0xFF, 0xFF});
}

TEST_CASE("FC23 writes before it reads") {
  Server s;
  REQUIRE(s.holding->setValues(10, {1, 2, 3, 4}) == ExceptionCode::None);
  // write 0xAAAA, 0xBBBB at 11..12, read 10..13
  const Bytes response = s.run(readWrite(10, 4, 11, 2, {0xAA, 0xAA, 0xBB, 0xBB}));
  CHECK(response == Bytes{0x17, 0x08, 0x00, 0x01, 0xAA, 0xAA, 0xBB, 0xBB, 0x00, 0x04});
}

// --- quantity limits: 0, 1, max, max+1 ------------------------------------------------------

TEST_CASE("FC1 and FC2 accept 1..2000 bits and answer 03 for 0 and 2001") {
  Server s;
  for (std::uint8_t fc : {std::uint8_t{0x01}, std::uint8_t{0x02}}) {
    CAPTURE(fc);
    CHECK(s.run(request(fc, {0, 0})) == exception(fc, ExceptionCode::IllegalDataValue));
    CHECK(s.run(request(fc, {0, 1})) == Bytes{fc, 0x01, 0x00});
    const Bytes max = s.run(request(fc, {0, 2000}));
    CHECK(max.size() == 252);
    CHECK(max[1] == 250);
    CHECK(s.run(request(fc, {0, 2001})) == exception(fc, ExceptionCode::IllegalDataValue));
    CHECK(s.run(request(fc, {0, 0xFFFF})) == exception(fc, ExceptionCode::IllegalDataValue));
  }
}

TEST_CASE("FC3 and FC4 accept 1..125 registers and answer 03 for 0 and 126") {
  Server s;
  for (std::uint8_t fc : {std::uint8_t{0x03}, std::uint8_t{0x04}}) {
    CAPTURE(fc);
    CHECK(s.run(request(fc, {0, 0})) == exception(fc, ExceptionCode::IllegalDataValue));
    CHECK(s.run(request(fc, {0, 1})) == Bytes{fc, 0x02, 0x00, 0x00});
    const Bytes max = s.run(request(fc, {0, 125}));
    CHECK(max.size() == 252);
    CHECK(max[1] == 250);
    CHECK(s.run(request(fc, {0, 126})) == exception(fc, ExceptionCode::IllegalDataValue));
  }
}

TEST_CASE("FC15 accepts 1..1968 coils and answers 03 for 0 and 1969") {
  Server s;
  CHECK(s.run(writeMultiple(0x0F, 0, 0, {})) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x0F, 0, 0, {0x00}, 1)) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x0F, 5, 1, {0x01})) == Bytes{0x0F, 0x00, 0x05, 0x00, 0x01});
  CHECK(s.coils->getValues(5, 1) == std::vector<bool>{true});
  CHECK(s.run(writeMultiple(0x0F, 0, 1968, Bytes(246, 0xFF))) == Bytes{0x0F, 0x00, 0x00, 0x07, 0xB0});
  CHECK(s.coils->getValues(1967, 2) == std::vector<bool>{true, false});
  CHECK(s.run(writeMultiple(0x0F, 0, 1969, Bytes(247, 0x00))) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.coils->getValues(0, 1) == std::vector<bool>{true});
}

TEST_CASE("FC16 accepts 1..123 registers and answers 03 for 0 and 124") {
  Server s;
  CHECK(s.run(writeMultiple(0x10, 0, 0, {})) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x10, 9, 1, {0x12, 0x34})) == Bytes{0x10, 0x00, 0x09, 0x00, 0x01});
  CHECK(s.holding->getValues(9, 1) == std::vector<std::uint16_t>{0x1234});
  CHECK(s.run(writeMultiple(0x10, 0, 123, registers(123, 1))) == Bytes{0x10, 0x00, 0x00, 0x00, 0x7B});
  CHECK(s.holding->getValues(122, 1) == std::vector<std::uint16_t>{123});
  CHECK(s.run(writeMultiple(0x10, 0, 124, registers(124, 500))) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.holding->getValues(0, 1) == std::vector<std::uint16_t>{1});
}

TEST_CASE("FC23 accepts read 1..125 and write 1..121 and answers 03 outside") {
  Server s;
  const Bytes one = registers(1, 7);
  CHECK(s.run(readWrite(0, 0, 0, 1, one)) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(0, 126, 0, 1, one)) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(0, 1, 0, 0, {})) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(0, 1, 0, 122, registers(122))) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.holding->getValues(0, 1) == std::vector<std::uint16_t>{0});
  CHECK(s.run(readWrite(0, 1, 0, 1, one)) == Bytes{0x17, 0x02, 0x00, 0x07});
  const Bytes max = s.run(readWrite(0, 125, 200, 121, registers(121, 1000)));
  CHECK(max.size() == 252);
  CHECK(max[1] == 250);
  CHECK(s.holding->getValues(320, 1) == std::vector<std::uint16_t>{1120});
}

// --- byte counts and PDU lengths -------------------------------------------------------------

TEST_CASE("FC15 answers 03 when the byte count is not ceil(quantity/8) or the PDU length disagrees") {
  Server s;
  CHECK(s.run(writeMultiple(0x0F, 0, 10, {0xFF, 0xFF, 0xFF})) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x0F, 0, 10, {0xFF})) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x0F, 0, 10, {0xFF}, 2)) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x0F, 0, 10, {0xFF, 0xFF, 0xFF}, 2)) == exception(0x0F, ExceptionCode::IllegalDataValue));
  CHECK(s.coils->getValues(0, 10) == std::vector<bool>(10, false));
}

TEST_CASE("FC16 answers 03 when the byte count is not 2*quantity or the PDU length disagrees") {
  Server s;
  CHECK(s.run(writeMultiple(0x10, 0, 2, registers(3, 1))) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x10, 0, 2, registers(1, 1))) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x10, 0, 2, registers(1, 1), 4)) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x10, 0, 2, registers(3, 1), 4)) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.holding->getValues(0, 2) == std::vector<std::uint16_t>{0, 0});
}

TEST_CASE("FC23 answers 03 when the write byte count is not 2*write quantity or the PDU length disagrees") {
  Server s;
  CHECK(s.run(readWrite(0, 1, 0, 2, registers(3, 1))) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(0, 1, 0, 2, registers(1, 1), 4)) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(0, 1, 0, 2, registers(3, 1), 4)) == exception(0x17, ExceptionCode::IllegalDataValue));
  CHECK(s.holding->getValues(0, 2) == std::vector<std::uint16_t>{0, 0});
}

TEST_CASE("FC5 answers 03 for any value other than 0xFF00 and 0x0000 and leaves the coil alone") {
  Server s;
  for (std::uint16_t value : {0x1234, 0x00FF, 0xFFFF, 0x0001, 0xFF01}) {
    CAPTURE(value);
    CHECK(s.run(request(0x05, {0x0010, value})) == exception(0x05, ExceptionCode::IllegalDataValue));
  }
  CHECK(s.coils->getValues(16, 1) == std::vector<bool>{false});
}

TEST_CASE("truncated PDUs of every function code answer 03, never crash") {
  Server s;
  const std::vector<Bytes> valid{
      request(0x01, {0, 1}),
      request(0x02, {0, 1}),
      request(0x03, {0, 1}),
      request(0x04, {0, 1}),
      request(0x05, {0, 0xFF00}),
      request(0x06, {0, 1}),
      writeMultiple(0x0F, 0, 9, {0xFF, 0x01}),
      writeMultiple(0x10, 0, 2, registers(2, 1)),
      request(0x16, {0, 0xFFFF, 0}),
      readWrite(0, 2, 0, 2, registers(2, 1)),
  };
  for (const Bytes& full : valid) {
    const std::uint8_t fc = full[0];
    CAPTURE(fc);
    CHECK(s.run(full).size() > 2);  // the complete PDU is answered normally
    for (std::size_t length = 1; length < full.size(); ++length) {
      CAPTURE(length);
      CHECK(s.run(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(length))) ==
            exception(fc, ExceptionCode::IllegalDataValue));
    }
    Bytes longer = full;
    longer.push_back(0x00);
    CHECK(s.run(longer) == exception(fc, ExceptionCode::IllegalDataValue));
  }
  CHECK(s.holding->getValues(0, 2) == std::vector<std::uint16_t>{1, 2});  // only the complete PDUs wrote
}

// --- address range, order of checks, all-or-nothing ------------------------------------------

TEST_CASE("address + quantity beyond 65536 answers 02 for every function code, never wraps") {
  Server s;
  CHECK(s.run(request(0x01, {65535, 2})) == exception(0x01, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(request(0x02, {64000, 2000})) == exception(0x02, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(request(0x03, {65500, 100})) == exception(0x03, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(request(0x04, {65535, 2})) == exception(0x04, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(writeMultiple(0x0F, 65535, 2, {0x03})) == exception(0x0F, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(writeMultiple(0x10, 65535, 2, registers(2, 9))) == exception(0x10, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(readWrite(65535, 2, 0, 1, registers(1, 9))) == exception(0x17, ExceptionCode::IllegalDataAddress));
  CHECK(s.run(readWrite(0, 1, 65535, 2, registers(2, 9))) == exception(0x17, ExceptionCode::IllegalDataAddress));
  CHECK(s.coils->getValues(0, 1) == std::vector<bool>{false});
  CHECK(s.holding->getValues(0, 1) == std::vector<std::uint16_t>{0});
  CHECK(s.holding->getValues(65535, 1) == std::vector<std::uint16_t>{0});
}

TEST_CASE("the last address 65535 is reachable with quantity 1") {
  Server s;
  REQUIRE(s.holding->setValues(65535, {0xCAFE}) == ExceptionCode::None);
  CHECK(s.run(request(0x03, {65535, 1})) == Bytes{0x03, 0x02, 0xCA, 0xFE});
  CHECK(s.run(request(0x05, {65535, 0xFF00})) == request(0x05, {65535, 0xFF00}));
  CHECK(s.run(request(0x01, {65535, 1})) == Bytes{0x01, 0x01, 0x01});
}

TEST_CASE("quantity is checked before the address") {
  Server s;
  CHECK(s.run(request(0x03, {65535, 126})) == exception(0x03, ExceptionCode::IllegalDataValue));
  CHECK(s.run(request(0x01, {65535, 0})) == exception(0x01, ExceptionCode::IllegalDataValue));
  CHECK(s.run(writeMultiple(0x10, 65535, 124, registers(124))) == exception(0x10, ExceptionCode::IllegalDataValue));
  CHECK(s.run(request(0x05, {65535, 0x1234})) == exception(0x05, ExceptionCode::IllegalDataValue));
  CHECK(s.run(readWrite(65535, 126, 65535, 1, registers(1))) == exception(0x17, ExceptionCode::IllegalDataValue));
}

TEST_CASE("a write rejected for its address changes nothing") {
  auto holding = std::make_shared<SequentialRegisterBlock>(0, std::vector<std::uint16_t>(10, 7));
  auto coils = std::make_shared<SequentialBitBlock>(0, std::vector<bool>(10, false));
  auto device = std::make_shared<DeviceContext>(DeviceTables{.coils = coils, .holdingRegisters = holding});
  RequestProcessor processor(ServerContext::single(device));
  CHECK(Server::runOn(processor, writeMultiple(0x10, 8, 5, registers(5, 1))) ==
        exception(0x10, ExceptionCode::IllegalDataAddress));
  CHECK(holding->getValues(0, 10) == std::vector<std::uint16_t>(10, 7));
  CHECK(Server::runOn(processor, writeMultiple(0x0F, 5, 8, {0xFF})) ==
        exception(0x0F, ExceptionCode::IllegalDataAddress));
  CHECK(coils->getValues(0, 10) == std::vector<bool>(10, false));
  CHECK(Server::runOn(processor, request(0x06, {10, 1})) == exception(0x06, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x16, {10, 0, 0xFFFF})) == exception(0x16, ExceptionCode::IllegalDataAddress));
}

TEST_CASE("FC23 with a valid write and an invalid read applies nothing") {
  auto holding = std::make_shared<SequentialRegisterBlock>(0, std::vector<std::uint16_t>(10, 7));
  RequestProcessor processor(ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = holding})));
  CHECK(Server::runOn(processor, readWrite(8, 3, 0, 2, registers(2, 1))) ==
        exception(0x17, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, readWrite(0, 3, 9, 2, registers(2, 1))) ==
        exception(0x17, ExceptionCode::IllegalDataAddress));
  CHECK(holding->getValues(0, 10) == std::vector<std::uint16_t>(10, 7));
}

// --- sparse blocks, missing tables, units, offsets -------------------------------------------

TEST_CASE("sparse blocks answer only their defined addresses") {
  auto holding = std::make_shared<SparseRegisterBlock>(std::map<std::uint16_t, std::uint16_t>{{10, 0x0102}, {11, 0x0304}, {13, 5}});
  auto coils = std::make_shared<SparseBitBlock>(std::map<std::uint16_t, bool>{{0, true}, {1, true}});
  RequestProcessor processor(
      ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{.coils = coils, .holdingRegisters = holding})));
  CHECK(Server::runOn(processor, request(0x03, {10, 2})) == Bytes{0x03, 0x04, 0x01, 0x02, 0x03, 0x04});
  CHECK(Server::runOn(processor, request(0x03, {10, 4})) == exception(0x03, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x06, {12, 9})) == exception(0x06, ExceptionCode::IllegalDataAddress));
  CHECK_FALSE(holding->isDefined(12));
  CHECK(Server::runOn(processor, writeMultiple(0x10, 11, 3, registers(3, 1))) ==
        exception(0x10, ExceptionCode::IllegalDataAddress));
  CHECK(holding->getValues(11, 1) == std::vector<std::uint16_t>{0x0304});
  CHECK(Server::runOn(processor, request(0x01, {0, 2})) == Bytes{0x01, 0x01, 0x03});
  CHECK(Server::runOn(processor, request(0x05, {2, 0xFF00})) == exception(0x05, ExceptionCode::IllegalDataAddress));
}

TEST_CASE("a mutable sparse block accepts FC23 writes to new addresses") {
  auto holding = std::make_shared<SparseRegisterBlock>(std::map<std::uint16_t, std::uint16_t>{{0, 1}}, true);
  RequestProcessor processor(ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = holding})));
  CHECK(Server::runOn(processor, readWrite(0, 1, 50, 1, registers(1, 9))) == Bytes{0x17, 0x02, 0x00, 0x01});
  CHECK(holding->getValues(50, 1) == std::vector<std::uint16_t>{9});
}

TEST_CASE("a table left out answers 02 to every function code that uses it") {
  auto device = std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = SequentialRegisterBlock::create()});
  RequestProcessor processor(ServerContext::single(device));
  CHECK(Server::runOn(processor, request(0x01, {0, 1})) == exception(0x01, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x02, {0, 1})) == exception(0x02, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x04, {0, 1})) == exception(0x04, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x05, {0, 0})) == exception(0x05, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, writeMultiple(0x0F, 0, 1, {0x01})) == exception(0x0F, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x03, {0, 1})) == Bytes{0x03, 0x02, 0x00, 0x00});

  RequestProcessor bare(ServerContext::single(std::make_shared<DeviceContext>()));
  CHECK(Server::runOn(bare, request(0x03, {0, 1})) == exception(0x03, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(bare, request(0x06, {0, 1})) == exception(0x06, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(bare, writeMultiple(0x10, 0, 1, registers(1))) == exception(0x10, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(bare, request(0x16, {0, 0, 0})) == exception(0x16, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(bare, readWrite(0, 1, 0, 1, registers(1))) == exception(0x17, ExceptionCode::IllegalDataAddress));
}

TEST_CASE("a missing unit answers 0x0B, or nothing with ignoreMissingSlaves") {
  auto holding = SequentialRegisterBlock::create(0, 10, 0x4242);
  auto context = ServerContext::multiple({{1, std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = holding})}});
  RequestProcessor answering(context);
  CHECK(Server::runOn(answering, request(0x03, {0, 1}), 1) == Bytes{0x03, 0x02, 0x42, 0x42});
  CHECK(Server::runOn(answering, request(0x03, {0, 1}), 2) ==
        exception(0x03, ExceptionCode::GatewayTargetDeviceFailedToRespond));
  CHECK(Server::runOn(answering, request(0x07, {}), 2) ==
        exception(0x07, ExceptionCode::GatewayTargetDeviceFailedToRespond));

  RequestProcessor silent(context, ProcessorOptions{.ignoreMissingSlaves = true});
  CHECK(silent.options().ignoreMissingSlaves);
  CHECK(Server::runOn(silent, request(0x03, {0, 1}), 2).empty());
  CHECK(Server::runOn(silent, request(0x03, {0, 1}), 1) == Bytes{0x03, 0x02, 0x42, 0x42});
}

TEST_CASE("a single context answers every unit id, broadcast 0 included") {
  Server s;
  CHECK(s.run(request(0x03, {0, 1}), 0) == Bytes{0x03, 0x02, 0x00, 0x00});
  CHECK(s.run(request(0x03, {0, 1}), 247) == Bytes{0x03, 0x02, 0x00, 0x00});
  CHECK(s.run(request(0x03, {0, 1}), 255) == Bytes{0x03, 0x02, 0x00, 0x00});
}

TEST_CASE("address offset 1 maps wire address N to block address N+1 as pymodbus did") {
  auto holding = std::make_shared<SequentialRegisterBlock>(0, std::vector<std::uint16_t>{100, 101, 102, 103});
  auto device = std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = holding}, 1);
  RequestProcessor processor(ServerContext::single(device));
  CHECK(Server::runOn(processor, request(0x03, {0, 3})) == Bytes{0x03, 0x06, 0x00, 0x65, 0x00, 0x66, 0x00, 0x67});
  CHECK(Server::runOn(processor, request(0x03, {3, 1})) == exception(0x03, ExceptionCode::IllegalDataAddress));
  CHECK(Server::runOn(processor, request(0x06, {2, 0x0999})) == request(0x06, {2, 0x0999}));
  CHECK(holding->getValues(3, 1) == std::vector<std::uint16_t>{0x0999});
  CHECK(Server::runOn(processor, request(0x06, {65535, 1})) == exception(0x06, ExceptionCode::IllegalDataAddress));
}

// --- function codes, custom handlers, failures -----------------------------------------------

TEST_CASE("an unknown function code answers 01 with the high bit set") {
  Server s;
  CHECK(s.run({0x09}) == exception(0x09, ExceptionCode::IllegalFunction));  // not a public code
  CHECK(s.run({0x29, 0x00}) == exception(0x29, ExceptionCode::IllegalFunction));
  CHECK(s.run({0x2B, 0x0D, 0x00}) == exception(0x2B, ExceptionCode::IllegalFunction));  // CANopen MEI
  CHECK(s.run({0x00, 0x01}) == exception(0x00, ExceptionCode::IllegalFunction));
  CHECK(s.run({0x7F}) == exception(0x7F, ExceptionCode::IllegalFunction));
  CHECK(s.run({0x83, 0x00}) == Bytes{0x83, 0x01});
  CHECK(s.run({0xFF}) == Bytes{0xFF, 0x01});
}

TEST_CASE("an empty PDU answers 0x80 0x01") {
  Server s;
  CHECK(s.run({}) == Bytes{0x80, 0x01});
}

TEST_CASE("registerFunction adds a custom code, replaces a built-in and removes with an empty handler") {
  Server s;
  int calls = 0;
  s.processor.registerFunction(0x41, [&calls](DeviceContext& device, std::span<const std::uint8_t> req,
                                              std::span<std::uint8_t> resp) -> std::size_t {
    ++calls;
    CHECK(device.holdingRegisters() != nullptr);
    resp[0] = req[0];
    resp[1] = static_cast<std::uint8_t>(req.size());
    return 2;
  });
  CHECK(s.processor.hasFunction(0x41));
  CHECK(s.run({0x41, 0xAA, 0xBB}) == Bytes{0x41, 0x03});
  CHECK(calls == 1);

  s.processor.registerFunction(0x03, [](DeviceContext&, std::span<const std::uint8_t>, std::span<std::uint8_t> resp) {
    return exceptionResponse(0x03, ExceptionCode::Acknowledge, resp);
  });
  CHECK(s.run(request(0x03, {0, 1})) == exception(0x03, ExceptionCode::Acknowledge));

  s.processor.registerFunction(0x03, nullptr);
  CHECK_FALSE(s.processor.hasFunction(0x03));
  CHECK(s.run(request(0x03, {0, 1})) == exception(0x03, ExceptionCode::IllegalFunction));

  CHECK_THROWS_AS(s.processor.registerFunction(0x00, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(s.processor.registerFunction(0x80, nullptr), std::invalid_argument);
  CHECK_FALSE(s.processor.hasFunction(0x80));
}

TEST_CASE("a handler that throws or overreports its length answers 04") {
  Server s;
  s.processor.registerFunction(0x42, [](DeviceContext&, std::span<const std::uint8_t>, std::span<std::uint8_t>)
                                         -> std::size_t { throw std::logic_error("bug"); });
  CHECK(s.run({0x42}) == exception(0x42, ExceptionCode::ServerDeviceFailure));
  s.processor.registerFunction(0x43, [](DeviceContext&, std::span<const std::uint8_t>, std::span<std::uint8_t> resp) {
    return resp.size() + 1;
  });
  CHECK(s.run({0x43}) == exception(0x43, ExceptionCode::ServerDeviceFailure));
  s.processor.registerFunction(0x44, [](DeviceContext&, std::span<const std::uint8_t>, std::span<std::uint8_t>) {
    return std::size_t{0};
  });
  CHECK(s.run({0x44}).empty());
}

TEST_CASE("a block that throws or fails answers 04, and other block codes pass through") {
  auto block = std::make_shared<FaultyBlock>();
  RequestProcessor processor(ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = block})));
  const std::vector<Bytes> requests{request(0x03, {0, 1}), request(0x06, {0, 1}), writeMultiple(0x10, 0, 1, registers(1)),
                                    request(0x16, {0, 0, 0}), readWrite(0, 1, 0, 1, registers(1))};
  for (auto mode : {FaultyBlock::Mode::Throw, FaultyBlock::Mode::Fail}) {
    block->mode = mode;
    for (const Bytes& req : requests) {
      CAPTURE(req[0]);
      CHECK(Server::runOn(processor, req) == exception(req[0], ExceptionCode::ServerDeviceFailure));
    }
  }
  block->mode = FaultyBlock::Mode::Busy;
  CHECK(Server::runOn(processor, request(0x03, {0, 1})) == exception(0x03, ExceptionCode::ServerDeviceBusy));
  // quantity and address checks still come first
  CHECK(Server::runOn(processor, request(0x03, {0, 0})) == exception(0x03, ExceptionCode::IllegalDataValue));
  CHECK(Server::runOn(processor, request(0x03, {65535, 2})) == exception(0x03, ExceptionCode::IllegalDataAddress));
}

TEST_CASE("a response buffer too small for the answer gets 04, and one under 2 bytes gets nothing") {
  Server s;
  std::array<std::uint8_t, 10> small{};
  CHECK(s.processor.process(1, request(0x03, {0, 5}), small) == 2);
  CHECK(small[0] == 0x83);
  CHECK(small[1] == 0x04);
  CHECK(s.processor.process(1, request(0x03, {0, 4}), small) == 10);
  std::array<std::uint8_t, 1> tiny{};
  CHECK(s.processor.process(1, request(0x03, {0, 1}), tiny) == 0);
  CHECK(exceptionResponse(0x03, ExceptionCode::IllegalDataAddress, tiny) == 0);
  std::array<std::uint8_t, 4> write{};
  CHECK(s.processor.process(1, request(0x06, {0, 0x5555}), write) == 2);
  CHECK(write[0] == 0x86);
  CHECK(s.holding->getValues(0, 1) == std::vector<std::uint16_t>{0});  // nothing executed
}

TEST_CASE("exceptionResponse writes fc|0x80 and the code") {
  std::array<std::uint8_t, 2> out{};
  CHECK(exceptionResponse(0x10, ExceptionCode::GatewayPathUnavailable, out) == 2);
  CHECK(out == std::array<std::uint8_t, 2>{0x90, 0x0A});
}

TEST_CASE("the processor refuses a null context and exposes the one it holds") {
  CHECK_THROWS_AS(RequestProcessor(nullptr), std::invalid_argument);
  auto context = ServerContext::single(std::make_shared<DeviceContext>());
  RequestProcessor processor(context);
  CHECK(&processor.context() == context.get());
}

TEST_CASE("random PDUs always get a well-formed answer of at most 253 bytes") {
  Server s;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 260);
  const std::array<std::uint8_t, 11> codes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0F, 0x10, 0x16, 0x17, 0x08};
  int answered = 0;
  int exceptions = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes req(static_cast<std::size_t>(length(rng)));
    for (auto& b : req) b = static_cast<std::uint8_t>(byte(rng));
    if (!req.empty() && (i % 2 == 0)) req[0] = codes[static_cast<std::size_t>(i / 2) % codes.size()];
    const Bytes response = s.run(req, static_cast<std::uint8_t>(byte(rng)));
    REQUIRE(response.size() >= 2);
    REQUIRE(response.size() <= kMaxPduSize);
    ++answered;
    if (response[0] & 0x80) {
      ++exceptions;
      REQUIRE(response.size() == 2);
      REQUIRE(response[0] == ((req.empty() ? 0 : req[0]) | 0x80));
      REQUIRE(response[1] >= 1);
      REQUIRE(response[1] <= 4);
    } else {
      REQUIRE(response[0] == req[0]);
    }
  }
  CHECK(answered == 20000);
  CHECK(exceptions > 0);
  CHECK(exceptions < answered);
}

}  // namespace modbus
