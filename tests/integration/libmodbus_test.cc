// Integration tests: libmodbus 3.1 (a client we did not write, linked in) against our Modbus/TCP
// server, in-process (ServerThread) and as the uvmodbus-server binary.
#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/log.h"
#include "tests/support/server_thread.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using testsupport::ServerThread;

constexpr std::uint16_t kTableSize = 4000;  // room for the largest quantity of every function code

/// A connected libmodbus TCP context, freed on scope exit.
class Client {
 public:
  explicit Client(std::uint16_t port, int unitId = 1, std::uint32_t timeoutMs = 3000)
      : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    if (ctx_ == nullptr) throw std::runtime_error("modbus_new_tcp failed");
    modbus_set_response_timeout(ctx_, timeoutMs / 1000, (timeoutMs % 1000) * 1000);
    modbus_set_slave(ctx_, unitId);
    if (modbus_connect(ctx_) != 0) {
      std::string why = modbus_strerror(errno);
      modbus_free(ctx_);
      throw std::runtime_error("modbus_connect: " + why);
    }
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  modbus_t* get() const { return ctx_; }

  /// Sends `unit id + PDU` as is and returns the response PDU (the MBAP header stripped), or an
  /// empty vector when no answer came within the timeout.
  Bytes raw(const Bytes& request) {
    if (modbus_send_raw_request(ctx_, request.data(), static_cast<int>(request.size())) < 0) {
      throw std::runtime_error(std::string("modbus_send_raw_request: ") + modbus_strerror(errno));
    }
    std::uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    int n = modbus_receive_confirmation(ctx_, rsp);
    if (n < 7) return {};
    return Bytes(rsp + 7, rsp + n);
  }

 private:
  modbus_t* ctx_;
};

/// The one device of unit 1, with every table kTableSize long and known values in the first ten
/// addresses: coils 1,0,1,1,0,0,1,0,1,1 ; discrete inputs the opposite ; holding registers
/// 100..109 ; input registers 200..209.
struct Fixture {
  std::shared_ptr<modbus::ServerContext> context = testsupport::makeUnitContext(1, kTableSize);
  ServerThread server{context};
  Client client{server.port()};

  Fixture() {
    server.call([this] {
      auto* d = device();
      std::vector<bool> bits{true, false, true, true, false, false, true, false, true, true};
      d->coils()->setValues(0, bits);
      bits.flip();
      d->discreteInputs()->setValues(0, bits);
      for (std::uint16_t i = 0; i < 10; ++i) {
        d->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(100 + i)});
        d->inputRegisters()->setValues(i, {static_cast<std::uint16_t>(200 + i)});
      }
    });
  }
  modbus::DeviceContext* device() const { return context->find(1); }
  std::vector<std::uint16_t> holding(std::uint16_t address, std::uint16_t count) {
    return server.call([=, this] { return device()->holdingRegisters()->getValues(address, count); });
  }
  std::vector<bool> coils(std::uint16_t address, std::uint16_t count) {
    return server.call([=, this] { return device()->coils()->getValues(address, count); });
  }
};

std::vector<std::uint16_t> regs(std::initializer_list<int> values) {
  std::vector<std::uint16_t> out;
  for (int v : values) out.push_back(static_cast<std::uint16_t>(v));
  return out;
}

// Quiet the per-connection info lines; set before any server thread starts.
const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

}  // namespace

TEST_CASE_FIXTURE(Fixture, "libmodbus reads coils, discrete inputs, holding and input registers as stored (FC 1-4)") {
  std::uint8_t bits[10] = {};
  REQUIRE(modbus_read_bits(client.get(), 0, 10, bits) == 10);
  CHECK(Bytes(bits, bits + 10) == Bytes{1, 0, 1, 1, 0, 0, 1, 0, 1, 1});
  REQUIRE(modbus_read_input_bits(client.get(), 0, 10, bits) == 10);
  CHECK(Bytes(bits, bits + 10) == Bytes{0, 1, 0, 0, 1, 1, 0, 1, 0, 0});

  std::uint16_t words[10] = {};
  REQUIRE(modbus_read_registers(client.get(), 0, 10, words) == 10);
  CHECK(std::vector<std::uint16_t>(words, words + 10) == regs({100, 101, 102, 103, 104, 105, 106, 107, 108, 109}));
  REQUIRE(modbus_read_input_registers(client.get(), 3, 4, words) == 4);
  CHECK(std::vector<std::uint16_t>(words, words + 4) == regs({203, 204, 205, 206}));
  // Address 0 on the wire is block address 0: no hidden +1.
  REQUIRE(modbus_read_registers(client.get(), 9, 1, words) == 1);
  CHECK(words[0] == 109);
}

TEST_CASE_FIXTURE(Fixture, "libmodbus writes a single coil and a single register into the datastore (FC 5, 6)") {
  REQUIRE(modbus_write_bit(client.get(), 1, 1) == 1);
  REQUIRE(modbus_write_bit(client.get(), 0, 0) == 1);
  REQUIRE(modbus_write_register(client.get(), 5, 0xBEEF) == 1);
  CHECK(coils(0, 3) == std::vector<bool>{false, true, true});
  CHECK(holding(4, 3) == regs({104, 0xBEEF, 106}));
  std::uint16_t word = 0;
  REQUIRE(modbus_read_registers(client.get(), 5, 1, &word) == 1);
  CHECK(word == 0xBEEF);
}

TEST_CASE_FIXTURE(Fixture, "libmodbus writes multiple coils and registers into the datastore (FC 15, 16)") {
  const std::uint8_t bits[11] = {1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1};
  REQUIRE(modbus_write_bits(client.get(), 20, 11, bits) == 11);
  CHECK(coils(20, 11) == std::vector<bool>{true, true, false, true, false, true, false, true, true, false, true});
  CHECK(coils(31, 1) == std::vector<bool>{false});  // the padding bits wrote nothing

  const std::uint16_t words[3] = {1, 0x8000, 0xFFFF};
  REQUIRE(modbus_write_registers(client.get(), 100, 3, words) == 3);
  CHECK(holding(99, 5) == regs({0, 1, 0x8000, 0xFFFF, 0}));
}

TEST_CASE_FIXTURE(Fixture, "libmodbus mask-writes a register as (current AND and) OR (or AND NOT and) (FC 22)") {
  server.call([this] { device()->holdingRegisters()->setValues(7, {0x0012}); });
  // The specification's own example: 0x12 with AND 0xF2, OR 0x25 gives 0x17.
  REQUIRE(modbus_mask_write_register(client.get(), 7, 0x00F2, 0x0025) == 1);
  CHECK(holding(7, 1) == regs({0x0017}));
  CHECK(holding(6, 1) == regs({106}));
  CHECK(holding(8, 1) == regs({108}));
}

TEST_CASE_FIXTURE(Fixture, "libmodbus write-and-read writes before it reads (FC 23)") {
  const std::uint16_t in[2] = {7000, 7001};
  std::uint16_t out[4] = {};
  REQUIRE(modbus_write_and_read_registers(client.get(), 2, 2, in, 1, 4, out) == 4);
  CHECK(std::vector<std::uint16_t>(out, out + 4) == regs({101, 7000, 7001, 104}));
  CHECK(holding(0, 5) == regs({100, 101, 7000, 7001, 104}));
}

TEST_CASE_FIXTURE(Fixture, "libmodbus serves the largest quantity of every function code") {
  std::vector<std::uint8_t> bits(MODBUS_MAX_READ_BITS);
  CHECK(modbus_read_bits(client.get(), 0, MODBUS_MAX_READ_BITS, bits.data()) == 2000);
  CHECK(bits[0] == 1);
  CHECK(bits[1999] == 0);
  CHECK(modbus_read_input_bits(client.get(), kTableSize - 2000, 2000, bits.data()) == 2000);

  std::vector<std::uint16_t> words(MODBUS_MAX_READ_REGISTERS);
  CHECK(modbus_read_registers(client.get(), 0, 125, words.data()) == 125);
  CHECK(words[9] == 109);
  CHECK(modbus_read_input_registers(client.get(), kTableSize - 125, 125, words.data()) == 125);

  std::vector<std::uint8_t> on(MODBUS_MAX_WRITE_BITS, 1);
  CHECK(modbus_write_bits(client.get(), 2000, 1968, on.data()) == 1968);
  auto written = coils(1999, 1970);
  CHECK_FALSE(written.front());
  CHECK(std::count(written.begin(), written.end(), true) == 1968);
  CHECK_FALSE(written.back());

  std::vector<std::uint16_t> values(MODBUS_MAX_WRITE_REGISTERS);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint16_t>(1000 + i);
  CHECK(modbus_write_registers(client.get(), 1000, 123, values.data()) == 123);
  CHECK(holding(1000, 123) == values);

  std::vector<std::uint16_t> read(125);
  CHECK(modbus_write_and_read_registers(client.get(), 2000, 121, values.data(), 1000, 125, read.data()) == 125);
  CHECK(read[122] == 1122);
  CHECK(holding(2120, 1) == regs({1120}));
}

TEST_CASE_FIXTURE(Fixture, "a range past the end of a table is exception 02 (EMBXILADD) for every function code") {
  std::uint8_t bits[2];
  std::uint16_t words[2] = {1, 2};
  const int last = kTableSize - 1;
  CHECK(modbus_read_bits(client.get(), last, 1, bits) == 1);  // the last address is served
  CHECK(modbus_read_bits(client.get(), last, 2, bits) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_read_input_bits(client.get(), kTableSize, 1, bits) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_read_registers(client.get(), last, 2, words) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_read_input_registers(client.get(), 0xFFFF, 1, words) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_bit(client.get(), kTableSize, 1) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_register(client.get(), kTableSize, 1) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_bits(client.get(), last, 2, bits) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_registers(client.get(), last, 2, words) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_mask_write_register(client.get(), kTableSize, 0, 0xFFFF) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_and_read_registers(client.get(), 0, 1, words, last, 2, words) == -1);
  CHECK(errno == EMBXILADD);

  // The exact bytes: function code | 0x80, then 02.
  CHECK(client.raw({1, 0x03, 0x0F, 0xA0, 0x00, 0x01}) == Bytes{0x83, 0x02});
  CHECK(client.raw({1, 0x16, 0x0F, 0xA0, 0xFF, 0xFF, 0x00, 0x00}) == Bytes{0x96, 0x02});
}

TEST_CASE_FIXTURE(Fixture, "a write rejected with exception 02 changes nothing") {
  const int last = kTableSize - 1;
  const std::uint16_t words[3] = {1, 2, 3};
  const std::uint8_t bits[3] = {1, 1, 1};
  server.call([this, last] {
    device()->holdingRegisters()->setValues(static_cast<std::uint16_t>(last - 1), {11, 12});
  });
  CHECK(modbus_write_registers(client.get(), last - 1, 3, words) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(modbus_write_bits(client.get(), last - 1, 3, bits) == -1);
  CHECK(errno == EMBXILADD);
  // FC 23 whose read range is bad must not apply its (valid) write either.
  std::uint16_t read[2] = {};
  CHECK(modbus_write_and_read_registers(client.get(), last - 1, 2, words, last, 2, read) == -1);
  CHECK(errno == EMBXILADD);
  CHECK(holding(static_cast<std::uint16_t>(last - 1), 2) == regs({11, 12}));
  CHECK(coils(static_cast<std::uint16_t>(last - 1), 2) == std::vector<bool>{false, false});
}

TEST_CASE_FIXTURE(Fixture, "one past each quantity limit, and quantity 0, is exception 03 (raw requests)") {
  // FC 1 / 2: 2001 bits.
  CHECK(client.raw({1, 0x01, 0x00, 0x00, 0x07, 0xD1}) == Bytes{0x81, 0x03});
  CHECK(client.raw({1, 0x02, 0x00, 0x00, 0x07, 0xD1}) == Bytes{0x82, 0x03});
  CHECK(client.raw({1, 0x01, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x81, 0x03});
  // FC 3 / 4: 126 registers.
  CHECK(client.raw({1, 0x03, 0x00, 0x00, 0x00, 0x7E}) == Bytes{0x83, 0x03});
  CHECK(client.raw({1, 0x04, 0x00, 0x00, 0x00, 0x7E}) == Bytes{0x84, 0x03});
  CHECK(client.raw({1, 0x04, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x84, 0x03});
  // Quantity is checked before the address: a bad quantity at a bad address is still 03.
  CHECK(client.raw({1, 0x03, 0xFF, 0xFF, 0x00, 0x7E}) == Bytes{0x83, 0x03});

  // FC 15: 1969 coils with their 247 data bytes (the largest PDU, 253 bytes).
  Bytes fc15{1, 0x0F, 0x00, 0x00, 0x07, 0xB1, 247};
  fc15.resize(fc15.size() + 247, 0xFF);
  CHECK(client.raw(fc15) == Bytes{0x8F, 0x03});
  CHECK(client.raw({1, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x8F, 0x03});
  // FC 16: 124 registers (their 248 bytes cannot fit a PDU, so the byte count disagrees too).
  Bytes fc16{1, 0x10, 0x00, 0x00, 0x00, 0x7C, 246};
  fc16.resize(fc16.size() + 246, 0xAB);
  CHECK(client.raw(fc16) == Bytes{0x90, 0x03});
  CHECK(client.raw({1, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x90, 0x03});
  // FC 23: read 126, or write 122, or write 0.
  CHECK(client.raw({1, 0x17, 0x00, 0x00, 0x00, 0x7E, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x01}) == Bytes{0x97, 0x03});
  Bytes fc23{1, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x7A, 242};
  fc23.resize(fc23.size() + 242, 0x01);
  CHECK(client.raw(fc23) == Bytes{0x97, 0x03});
  CHECK(client.raw({1, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x97, 0x03});

  // None of the rejected writes reached the datastore.
  CHECK(holding(0, 3) == regs({100, 101, 102}));
  CHECK(coils(0, 3) == std::vector<bool>{true, false, true});
}

TEST_CASE_FIXTURE(Fixture,
                  "a malformed write (bad coil value, byte count or PDU length) is exception 03 and changes nothing") {
  // FC 5 accepts only 0xFF00 and 0x0000.
  CHECK(client.raw({1, 0x05, 0x00, 0x01, 0x00, 0x01}) == Bytes{0x85, 0x03});
  CHECK(client.raw({1, 0x05, 0x00, 0x01, 0xFF, 0xFF}) == Bytes{0x85, 0x03});
  // FC 15: byte count 1 for 9 coils.
  CHECK(client.raw({1, 0x0F, 0x00, 0x00, 0x00, 0x09, 0x01, 0xFF}) == Bytes{0x8F, 0x03});
  // FC 16: byte count 4 for 1 register; byte count 4 but only 2 bytes follow.
  CHECK(client.raw({1, 0x10, 0x00, 0x00, 0x00, 0x01, 0x04, 0x12, 0x34, 0x56, 0x78}) == Bytes{0x90, 0x03});
  CHECK(client.raw({1, 0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x12, 0x34}) == Bytes{0x90, 0x03});
  // FC 6 and FC 22 one byte short; FC 3 one byte long.
  CHECK(client.raw({1, 0x06, 0x00, 0x00, 0x12}) == Bytes{0x86, 0x03});
  CHECK(client.raw({1, 0x16, 0x00, 0x00, 0xFF, 0xFF, 0x00}) == Bytes{0x96, 0x03});
  CHECK(client.raw({1, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00}) == Bytes{0x83, 0x03});

  CHECK(coils(0, 2) == std::vector<bool>{true, false});
  CHECK(holding(0, 2) == regs({100, 101}));
  // The connection still serves well-formed requests.
  std::uint16_t word = 0;
  CHECK(modbus_read_registers(client.get(), 1, 1, &word) == 1);
  CHECK(word == 101);
}

TEST_CASE_FIXTURE(Fixture, "an unknown function code is exception 01 (EMBXILFUN)") {
  CHECK(client.raw({1, 0x41, 0x00, 0x00}) == Bytes{0xC1, 0x01});
  CHECK(client.raw({1, 0x64}) == Bytes{0xE4, 0x01});
  CHECK(client.raw({1, 0x7F}) == Bytes{0xFF, 0x01});
  // A code the application removed is unknown too, and libmodbus reports it as EMBXILFUN.
  server.call([this] { server.server().factory().processor().registerFunction(0x16, {}); });
  CHECK(modbus_mask_write_register(client.get(), 0, 0, 0xFFFF) == -1);
  CHECK(errno == EMBXILFUN);
  CHECK(holding(0, 1) == regs({100}));
  std::uint16_t word = 0;
  CHECK(modbus_read_registers(client.get(), 0, 1, &word) == 1);
  CHECK(word == 100);
}

TEST_CASE("a unit id with no device is exception 0x0B (EMBXGTAR) from libmodbus's view") {
  auto context = testsupport::makeUnitContext(1, 100);
  ServerThread server(context);
  Client other(server.port(), /*unitId=*/2);
  std::uint16_t word = 0;
  CHECK(modbus_read_registers(other.get(), 0, 1, &word) == -1);
  CHECK(errno == EMBXGTAR);
  CHECK(modbus_write_register(other.get(), 0, 5) == -1);
  CHECK(errno == EMBXGTAR);
  CHECK(other.raw({2, 0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x07}) == Bytes{0x90, 0x0B});
  CHECK(other.raw({9, 0x41}) == Bytes{0xC1, 0x0B});  // the unit is checked before the function code
  modbus_set_slave(other.get(), 1);
  CHECK(modbus_read_registers(other.get(), 0, 1, &word) == 1);
  CHECK(word == 0);  // unit 2's write did not land on unit 1
}

TEST_CASE("with ignoreMissingSlaves a unit id with no device gets no answer and the connection goes on") {
  auto context = testsupport::makeUnitContext(1, 100);
  ServerThread server(context, modbus::ServerOptions{.ignoreMissingSlaves = true});
  Client other(server.port(), /*unitId=*/2, /*timeoutMs=*/300);
  std::uint16_t word = 0;
  CHECK(modbus_read_registers(other.get(), 0, 1, &word) == -1);
  CHECK(errno == ETIMEDOUT);
  modbus_set_slave(other.get(), 1);
  server.call([&] { context->find(1)->holdingRegisters()->setValues(0, {4242}); });
  CHECK(modbus_read_registers(other.get(), 0, 1, &word) == 1);
  CHECK(word == 4242);
}

TEST_CASE("libmodbus reads and writes the uvmodbus-server binary, which exits 0 on SIGTERM") {
  testsupport::ServerProcess binary({11, 22, 33}, 1000);
  {
    Client client(binary.port());
    std::uint16_t words[4] = {};
    REQUIRE(modbus_read_registers(client.get(), 0, 4, words) == 4);
    CHECK(std::vector<std::uint16_t>(words, words + 4) == regs({11, 22, 33, 0}));
    const std::uint16_t values[3] = {0xA, 0xB, 0xC};
    REQUIRE(modbus_write_registers(client.get(), 997, 3, values) == 3);
    REQUIRE(modbus_write_register(client.get(), 1, 2222) == 1);
    REQUIRE(modbus_mask_write_register(client.get(), 2, 0xFFF0, 0x0004) == 1);  // 33 = 0x21 → 0x24
    REQUIRE(modbus_read_registers(client.get(), 0, 3, words) == 3);
    CHECK(std::vector<std::uint16_t>(words, words + 3) == regs({11, 2222, 0x24}));
    REQUIRE(modbus_read_registers(client.get(), 997, 3, words) == 3);
    CHECK(std::vector<std::uint16_t>(words, words + 3) == regs({0xA, 0xB, 0xC}));

    const std::uint8_t on[3] = {1, 0, 1};
    std::uint8_t bits[3] = {};
    REQUIRE(modbus_write_bits(client.get(), 5, 3, on) == 3);
    REQUIRE(modbus_write_bit(client.get(), 6, 1) == 1);
    REQUIRE(modbus_read_bits(client.get(), 5, 3, bits) == 3);
    CHECK(Bytes(bits, bits + 3) == Bytes{1, 1, 1});
    REQUIRE(modbus_read_input_bits(client.get(), 998, 2, bits) == 2);
    CHECK(Bytes(bits, bits + 2) == Bytes{0, 0});
    REQUIRE(modbus_read_input_registers(client.get(), 0, 2, words) == 2);
    CHECK(std::vector<std::uint16_t>(words, words + 2) == regs({0, 0}));

    CHECK(modbus_read_registers(client.get(), 999, 2, words) == -1);
    CHECK(errno == EMBXILADD);
    CHECK(modbus_write_and_read_registers(client.get(), 0, 1, values, 1000, 1, words) == -1);
    CHECK(errno == EMBXILADD);
    CHECK(client.raw({1, 0x03, 0x00, 0x00, 0x00, 0x7E}) == Bytes{0x83, 0x03});
    CHECK(client.raw({1, 0x41}) == Bytes{0xC1, 0x01});
    CHECK(client.raw({2, 0x03, 0x00, 0x00, 0x00, 0x01}) == Bytes{0x83, 0x0B});
    REQUIRE(modbus_read_registers(client.get(), 0, 1, words) == 1);
    CHECK(words[0] == 11);  // the rejected FC 23 wrote nothing
  }
  CHECK(binary.terminate() == 0);
}
