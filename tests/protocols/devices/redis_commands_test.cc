// The Redis store's commands and messages (redis_commands.h): what each Modbus request touches,
// the exact bytes of HMGET, EVAL and the seeding script, reply decoding and the published message.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocols/devices/redis_commands.h"
#include "protocols/redis/resp.h"
#include "reactor/bytes.h"

using namespace modbus;
using namespace modbus::redis_store;
using Bytes = std::vector<std::uint8_t>;

namespace {

/// Decodes `wire` (one reply) and runs `check` on it.
template <class Check>
void withReply(const std::string& wire, Check check) {
  redis::ReplyReader reader;
  reader.feed(reactor::asBytes(wire));
  REQUIRE(reader.next(check));
}

}  // namespace

TEST_CASE("dataAccess gives the table and range of reads and writes") {
  auto r = dataAccess(Bytes{3, 0x00, 0x0A, 0x00, 0x05});
  REQUIRE(r.has_value());
  CHECK(r->table == ModbusTable::HoldingRegisters);
  CHECK(r->address == 10);
  CHECK(r->count == 5);
  CHECK_FALSE(r->write);
  CHECK(dataAccess(Bytes{1, 0, 0, 0x07, 0xD0})->table == ModbusTable::Coils);
  CHECK(dataAccess(Bytes{2, 0, 0, 0, 1})->table == ModbusTable::DiscreteInputs);
  CHECK(dataAccess(Bytes{4, 0, 0, 0, 125})->table == ModbusTable::InputRegisters);
  auto w = dataAccess(Bytes{16, 0x01, 0x00, 0x00, 0x02, 0x04, 0, 1, 0, 2});
  REQUIRE(w.has_value());
  CHECK(w->write);
  CHECK(w->table == ModbusTable::HoldingRegisters);
  CHECK(w->address == 256);
  CHECK(w->count == 2);
  CHECK(dataAccess(Bytes{5, 0, 3, 0xFF, 0x00})->count == 1);
  CHECK(dataAccess(Bytes{6, 0, 3, 0x12, 0x34})->table == ModbusTable::HoldingRegisters);
  auto coils = dataAccess(Bytes{15, 0, 0, 0, 10, 2, 0xFF, 0x03});
  REQUIRE(coils.has_value());
  CHECK(coils->table == ModbusTable::Coils);
  CHECK(coils->count == 10);
}

TEST_CASE("dataAccess leaves malformed requests and other function codes to the unit's processor") {
  CHECK_FALSE(dataAccess(Bytes{3, 0, 0, 0, 0}).has_value());         // quantity 0
  CHECK_FALSE(dataAccess(Bytes{3, 0, 0, 0, 126}).has_value());       // more than 125 registers
  CHECK_FALSE(dataAccess(Bytes{1, 0, 0, 0x07, 0xD1}).has_value());   // more than 2000 bits
  CHECK_FALSE(dataAccess(Bytes{3, 0, 0, 0, 1, 9}).has_value());      // too long
  CHECK_FALSE(dataAccess(Bytes{3, 0, 0, 0}).has_value());            // too short
  CHECK_FALSE(dataAccess(Bytes{5, 0, 0, 0x12, 0x34}).has_value());   // not FF00 / 0000
  CHECK_FALSE(dataAccess(Bytes{16, 0, 0, 0, 2, 3, 0, 1, 0}).has_value());  // byte count disagrees
  CHECK_FALSE(dataAccess(Bytes{15, 0, 0, 0, 10, 1, 0xFF}).has_value());
  CHECK_FALSE(dataAccess(Bytes{22, 0, 0, 0xFF, 0xFF, 0, 0}).has_value());
  CHECK_FALSE(dataAccess(Bytes{8, 0, 0, 0x12, 0x34}).has_value());
}

TEST_CASE("keys and channel are named by prefix, unit and table") {
  CHECK(tableKey("plant", 7, ModbusTable::HoldingRegisters) == "plant:7:hr");
  CHECK(tableKey("plant", 255, ModbusTable::Coils) == "plant:255:co");
  CHECK(tableKey("p", 1, ModbusTable::DiscreteInputs) == "p:1:di");
  CHECK(tableKey("p", 1, ModbusTable::InputRegisters) == "p:1:ir");
  CHECK(writesChannel("plant") == "plant:writes");
  CHECK(tableFromCode("hr") == ModbusTable::HoldingRegisters);
  CHECK_FALSE(tableFromCode("xx").has_value());
}

TEST_CASE("appendRead is one HMGET of the block addresses") {
  std::string out;
  appendRead(out, "p:1:hr", 65534, 2);
  std::string expected;
  redis::appendCommand(expected, {"HMGET", "p:1:hr", "65534", "65535"});
  CHECK(out == expected);
}

TEST_CASE("decodeValues reads decimal strings, absent fields as 0, and refuses anything else") {
  std::vector<std::uint16_t> v(3);
  withReply("*3\r\n$1\r\n5\r\n$-1\r\n$5\r\n65535\r\n", [&](const redis::Reply& r) {
    CHECK(decodeValues(r, v, /*bits=*/false));
  });
  CHECK(v == std::vector<std::uint16_t>{5, 0, 65535});
  withReply("*3\r\n$1\r\n5\r\n$-1\r\n$5\r\n65536\r\n", [&](const redis::Reply& r) { CHECK_FALSE(decodeValues(r, v, false)); });
  withReply("*2\r\n$1\r\n5\r\n$1\r\n6\r\n", [&](const redis::Reply& r) { CHECK_FALSE(decodeValues(r, v, false)); });
  withReply("*3\r\n$1\r\n1\r\n$1\r\n0\r\n$1\r\n2\r\n", [&](const redis::Reply& r) { CHECK_FALSE(decodeValues(r, v, true)); });
  withReply("-ERR no\r\n", [&](const redis::Reply& r) { CHECK_FALSE(decodeValues(r, v, false)); });
  withReply("*3\r\n:1\r\n:2\r\n:3\r\n", [&](const redis::Reply& r) { CHECK_FALSE(decodeValues(r, v, false)); });
}

TEST_CASE("appendWrite is one EVAL of the write script with the table, channel and values") {
  std::string out;
  const std::uint16_t values[] = {100, 200};
  appendWrite(out, "p:3:hr", "p:writes", 3, ModbusTable::HoldingRegisters, 40, values);
  std::string expected;
  redis::appendCommand(expected, {"EVAL", kWriteScript, "2", "p:3:hr", "p:writes", "3 hr", "40", "100", "200"});
  CHECK(out == expected);
}

TEST_CASE("parseWriteMessage reads what the write script publishes, and nothing else") {
  auto m = parseWriteMessage("3 hr 40 100 200");
  REQUIRE(m.has_value());
  CHECK(m->unitId == 3);
  CHECK(m->table == ModbusTable::HoldingRegisters);
  CHECK(m->address == 40);
  CHECK(m->values == std::vector<std::uint16_t>{100, 200});
  auto c = parseWriteMessage("1 co 0 1 0 1");
  REQUIRE(c.has_value());
  CHECK(c->values == std::vector<std::uint16_t>{1, 0, 1});
  CHECK_FALSE(parseWriteMessage("").has_value());
  CHECK_FALSE(parseWriteMessage("1 hr 40").has_value());           // no values
  CHECK_FALSE(parseWriteMessage("1 ir 40 1").has_value());         // clients do not write input registers
  CHECK_FALSE(parseWriteMessage("1 co 0 2").has_value());          // a coil is 0 or 1
  CHECK_FALSE(parseWriteMessage("1 hr 65535 1 2").has_value());    // passes the last address
  CHECK_FALSE(parseWriteMessage("256 hr 0 1").has_value());
  CHECK_FALSE(parseWriteMessage("1 hr 0 70000").has_value());
  CHECK_FALSE(parseWriteMessage("1  hr 0 1").has_value());
}

TEST_CASE("writeRequestPdu rebuilds an FC 15 or FC 16 request for the write observers") {
  const std::uint16_t regs[] = {0x1234, 0x0001};
  CHECK(writeRequestPdu(ModbusTable::HoldingRegisters, 0x0102, regs) ==
        Bytes{16, 0x01, 0x02, 0x00, 0x02, 0x04, 0x12, 0x34, 0x00, 0x01});
  const std::uint16_t bits[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  CHECK(writeRequestPdu(ModbusTable::Coils, 5, bits) == Bytes{15, 0x00, 0x05, 0x00, 0x09, 0x02, 0x0D, 0x01});
  CHECK(writeRequestPdu(ModbusTable::HoldingRegisters, 0, {}).empty());
}

TEST_CASE("appendSeed is one EVAL of the HSETNX script over field/value pairs") {
  std::string out;
  const std::pair<std::uint16_t, std::uint16_t> pairs[] = {{0, 11}, {1, 12}};
  appendSeed(out, "p:1:hr", pairs);
  std::string expected;
  redis::appendCommand(expected, {"EVAL", kSeedScript, "1", "p:1:hr", "0", "11", "1", "12"});
  CHECK(out == expected);
}

TEST_CASE("appendMask and appendReadWrite are one EVAL each, with their script") {
  std::string out;
  appendMask(out, "p:1:hr", "p:writes", 1, 4, 0xF2F2, 0x0025);
  std::string expected;
  redis::appendCommand(expected, {"EVAL", kMaskScript, "2", "p:1:hr", "p:writes", "1 hr", "4", "62194", "37"});
  CHECK(out == expected);
  out.clear();
  expected.clear();
  const std::uint16_t values[] = {7, 8};
  appendReadWrite(out, "p:1:hr", "p:writes", 1, 10, 3, 20, values);
  redis::appendCommand(expected,
                       {"EVAL", kReadWriteScript, "2", "p:1:hr", "p:writes", "1 hr", "10", "3", "20", "7", "8"});
  CHECK(out == expected);
}

TEST_CASE("readWriteAccess gives both ranges of a well-formed FC 23 only") {
  auto a = readWriteAccess(Bytes{23, 0, 3, 0, 6, 0, 14, 0, 2, 4, 0, 0xFF, 0, 0xFF});
  REQUIRE(a.has_value());
  CHECK(a->readAddress == 3);
  CHECK(a->readCount == 6);
  CHECK(a->writeAddress == 14);
  CHECK(a->writeCount == 2);
  CHECK_FALSE(readWriteAccess(Bytes{23, 0, 3, 0, 0, 0, 14, 0, 1, 2, 0, 1}).has_value());     // read 0
  CHECK_FALSE(readWriteAccess(Bytes{23, 0, 3, 0, 126, 0, 14, 0, 1, 2, 0, 1}).has_value());   // read 126
  CHECK_FALSE(readWriteAccess(Bytes{23, 0, 3, 0, 1, 0, 14, 0, 122, 244}).has_value());       // write 122
  CHECK_FALSE(readWriteAccess(Bytes{23, 0, 3, 0, 1, 0, 14, 0, 1, 4, 0, 1}).has_value());     // byte count
  CHECK_FALSE(readWriteAccess(Bytes{23, 0, 3, 0, 1, 0, 14, 0, 1, 2, 0}).has_value());        // short
  CHECK_FALSE(readWriteAccess(Bytes{16, 0, 3, 0, 1, 0, 14, 0, 1, 2, 0, 1}).has_value());
}
