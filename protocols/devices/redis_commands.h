// What the Redis store sends and receives, as pure functions (no I/O): the key of each table, the
// data a Modbus request touches, the HMGET of a read and its reply, the write script (one atomic
// HSET of every register of the request plus the PUBLISH the write observers of every process
// hear), the message it publishes, and the seeding script (HSETNX: only where a key is absent).
//
// Layout in Redis, for prefix P and unit U:
//   hash  P:U:co / P:U:di / P:U:hr / P:U:ir   field = block address (decimal), value = decimal
//   channel P:writes                            message "U co|hr ADDRESS V1 V2 ..." (block address)
// Tests: tests/protocols/devices/redis_commands_test.cc
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/application/roles.h"
#include "protocols/redis/resp.h"

namespace modbus::redis_store {

/// "co", "di", "hr", "ir".
std::string_view tableCode(ModbusTable table) noexcept;
std::optional<ModbusTable> tableFromCode(std::string_view code) noexcept;
/// "P:U:hr".
std::string tableKey(std::string_view prefix, std::uint8_t unitId, ModbusTable table);
/// "P:writes".
std::string writesChannel(std::string_view prefix);

/// The data a well-formed request of FC 1, 2, 3, 4 (reads) or 5, 6, 15, 16 (writes) touches, in
/// wire addresses. Other codes and malformed PDUs (wrong length, quantity out of the spec's range,
/// byte count that disagrees) give nullopt: the device's own processor answers those.
struct DataAccess {
  ModbusTable table = ModbusTable::HoldingRegisters;
  std::uint16_t address = 0;
  std::uint16_t count = 0;
  bool write = false;
};
std::optional<DataAccess> dataAccess(std::span<const std::uint8_t> request);

/// HMGET key a a+1 ... a+count-1.
void appendRead(std::string& out, std::string_view key, std::uint16_t blockAddress, std::uint16_t count);
/// HMGET's reply as values: an absent field reads 0. False when the reply is not an array of
/// `out.size()` decimal strings (or nils) in 0..65535 (0..1 when `bits`).
bool decodeValues(const redis::Reply& reply, std::span<std::uint16_t> out, bool bits);

/// The Lua script of a write: KEYS = {table hash, channel}, ARGV = {"U co|hr", address, values...}.
extern const std::string_view kWriteScript;
void appendWrite(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                 ModbusTable table, std::uint16_t blockAddress, std::span<const std::uint16_t> values);

/// FC 22 (mask write register): one script reads the register, applies the masks, stores and
/// publishes the result and returns it. KEYS = {hash, channel}, ARGV = {"U hr", address, and, or}.
extern const std::string_view kMaskScript;
void appendMask(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                std::uint16_t blockAddress, std::uint16_t andMask, std::uint16_t orMask);

/// FC 23 (read/write multiple registers), as the spec orders it: the write, then the read, in one
/// script. KEYS = {hash, channel}, ARGV = {"U hr", read address, read count, write address, values...};
/// returns what HMGET returns for the read range.
extern const std::string_view kReadWriteScript;
void appendReadWrite(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                     std::uint16_t readBlockAddress, std::uint16_t readCount, std::uint16_t writeBlockAddress,
                     std::span<const std::uint16_t> values);

/// The two ranges of a well-formed FC 23 request (wire addresses); nullopt for anything else.
struct ReadWriteAccess {
  std::uint16_t readAddress = 0;
  std::uint16_t readCount = 0;
  std::uint16_t writeAddress = 0;
  std::uint16_t writeCount = 0;
};
std::optional<ReadWriteAccess> readWriteAccess(std::span<const std::uint8_t> request);

/// A published write.
struct WriteMessage {
  std::uint8_t unitId = 0;
  ModbusTable table = ModbusTable::HoldingRegisters;
  std::uint16_t address = 0;  ///< block address of values[0]
  std::vector<std::uint16_t> values;
};
/// nullopt for a payload that is not a write message (the channel is shared: never trust it).
std::optional<WriteMessage> parseWriteMessage(std::string_view payload);

/// The request PDU (FC 15 for coils, FC 16 for registers) of a write of `values` at wire address
/// `address`: what the write observers are told. Empty when the values cannot be one request.
std::vector<std::uint8_t> writeRequestPdu(ModbusTable table, std::uint16_t address,
                                          std::span<const std::uint16_t> values);

/// The Lua script that seeds: KEYS = {table hash}, ARGV = {field, value, field, value, ...};
/// HSETNX each pair, returns how many were absent.
extern const std::string_view kSeedScript;
void appendSeed(std::string& out, std::string_view key,
                std::span<const std::pair<std::uint16_t, std::uint16_t>> fieldValues);

}  // namespace modbus::redis_store
