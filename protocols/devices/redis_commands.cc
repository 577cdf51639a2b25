// The Redis store's commands and messages (see redis_commands.h).
#include "protocols/devices/redis_commands.h"

#include <charconv>
#include <cstddef>


namespace modbus::redis_store {
namespace {

std::uint16_t be16(std::span<const std::uint8_t> pdu, std::size_t at) {
  return static_cast<std::uint16_t>((pdu[at] << 8) | pdu[at + 1]);
}

std::string decimal(std::int64_t v) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  (void)ec;
  return std::string(digits, end);
}

}  // namespace

const std::string_view kWriteScript =
    "local a = tonumber(ARGV[2]) "
    "local args = {} "
    "for i = 3, #ARGV do args[#args + 1] = a + i - 3; args[#args + 1] = ARGV[i] end "
    "redis.call('HSET', KEYS[1], unpack(args)) "
    "redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. table.concat(ARGV, ' ', 3)) "
    "return #ARGV - 2";

const std::string_view kMaskScript =
    "local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0') "
    "local a = tonumber(ARGV[3]) "
    "local v = bit.band(bit.bor(bit.band(cur, a), bit.band(tonumber(ARGV[4]), bit.bnot(a))), 65535) "
    "redis.call('HSET', KEYS[1], ARGV[2], v) "
    "redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. v) "
    "return v";

const std::string_view kReadWriteScript =
    "local w = tonumber(ARGV[4]) "
    "local args = {} "
    "for i = 5, #ARGV do args[#args + 1] = w + i - 5; args[#args + 1] = ARGV[i] end "
    "redis.call('HSET', KEYS[1], unpack(args)) "
    "redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' ' .. ARGV[4] .. ' ' .. table.concat(ARGV, ' ', 5)) "
    "local r = tonumber(ARGV[2]) "
    "local fields = {} "
    "for i = 0, tonumber(ARGV[3]) - 1 do fields[#fields + 1] = r + i end "
    "return redis.call('HMGET', KEYS[1], unpack(fields))";

const std::string_view kSeedScript =
    "local n = 0 "
    "for i = 1, #ARGV, 2 do n = n + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end "
    "return n";

std::string_view tableCode(ModbusTable table) noexcept {
  switch (table) {
    case ModbusTable::Coils: return "co";
    case ModbusTable::DiscreteInputs: return "di";
    case ModbusTable::HoldingRegisters: return "hr";
    case ModbusTable::InputRegisters: return "ir";
  }
  return "hr";
}

std::optional<ModbusTable> tableFromCode(std::string_view code) noexcept {
  for (ModbusTable t : {ModbusTable::Coils, ModbusTable::DiscreteInputs, ModbusTable::HoldingRegisters,
                        ModbusTable::InputRegisters}) {
    if (tableCode(t) == code) return t;
  }
  return std::nullopt;
}

std::string tableKey(std::string_view prefix, std::uint8_t unitId, ModbusTable table) {
  return std::string(prefix) + ":" + decimal(unitId) + ":" + std::string(tableCode(table));
}

std::string writesChannel(std::string_view prefix) { return std::string(prefix) + ":writes"; }

std::optional<DataAccess> dataAccess(std::span<const std::uint8_t> pdu) {
  if (pdu.size() < 5) return std::nullopt;
  DataAccess a;
  a.address = be16(pdu, 1);
  const std::uint16_t second = be16(pdu, 3);
  switch (pdu[0]) {
    case 1:
    case 2:
      if (pdu.size() != 5 || second < 1 || second > 2000) return std::nullopt;
      a.table = pdu[0] == 1 ? ModbusTable::Coils : ModbusTable::DiscreteInputs;
      a.count = second;
      return a;
    case 3:
    case 4:
      if (pdu.size() != 5 || second < 1 || second > 125) return std::nullopt;
      a.table = pdu[0] == 3 ? ModbusTable::HoldingRegisters : ModbusTable::InputRegisters;
      a.count = second;
      return a;
    case 5:
      if (pdu.size() != 5 || (second != 0xFF00 && second != 0x0000)) return std::nullopt;
      return DataAccess{ModbusTable::Coils, a.address, 1, true};
    case 6:
      if (pdu.size() != 5) return std::nullopt;
      return DataAccess{ModbusTable::HoldingRegisters, a.address, 1, true};
    case 15:
      if (second < 1 || second > 1968 || pdu.size() < 6 || pdu[5] != (second + 7) / 8 ||
          pdu.size() != 6u + pdu[5]) {
        return std::nullopt;
      }
      return DataAccess{ModbusTable::Coils, a.address, second, true};
    case 16:
      if (second < 1 || second > 123 || pdu.size() < 6 || pdu[5] != second * 2 || pdu.size() != 6u + pdu[5]) {
        return std::nullopt;
      }
      return DataAccess{ModbusTable::HoldingRegisters, a.address, second, true};
    default: return std::nullopt;
  }
}

void appendRead(std::string& out, std::string_view key, std::uint16_t blockAddress, std::uint16_t count) {
  redis::CommandWriter w(out, 2u + count);
  w.arg("HMGET");
  w.arg(key);
  for (std::uint32_t i = 0; i < count; ++i) w.arg(static_cast<std::int64_t>(blockAddress + i));
}

bool decodeValues(const redis::Reply& reply, std::span<std::uint16_t> out, bool bits) {
  if (reply.type() != redis::Reply::Type::Array || reply.size() != out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    redis::Reply e = reply.element(i);
    if (e.type() == redis::Reply::Type::Nil) {
      out[i] = 0;
      continue;
    }
    if (e.type() != redis::Reply::Type::String) return false;
    auto v = redis::parseInteger(e.string(), 0, bits ? 1 : 65535);
    if (!v) return false;
    out[i] = static_cast<std::uint16_t>(*v);
  }
  return true;
}

namespace {

/// "U hr": the head of a published message.
std::string_view messageHead(char (&head)[8], std::uint8_t unitId, ModbusTable table) {
  auto [end, ec] = std::to_chars(head, head + 4, static_cast<unsigned>(unitId));
  (void)ec;
  *end++ = ' ';
  *end++ = tableCode(table)[0];
  *end++ = tableCode(table)[1];
  return std::string_view(head, static_cast<std::size_t>(end - head));
}

}  // namespace

void appendMask(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                std::uint16_t blockAddress, std::uint16_t andMask, std::uint16_t orMask) {
  redis::CommandWriter w(out, 9);
  char head[8];
  w.arg("EVAL");
  w.arg(kMaskScript);
  w.arg(std::int64_t{2});
  w.arg(key);
  w.arg(channel);
  w.arg(messageHead(head, unitId, ModbusTable::HoldingRegisters));
  w.arg(static_cast<std::int64_t>(blockAddress));
  w.arg(static_cast<std::int64_t>(andMask));
  w.arg(static_cast<std::int64_t>(orMask));
}

void appendReadWrite(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                     std::uint16_t readBlockAddress, std::uint16_t readCount, std::uint16_t writeBlockAddress,
                     std::span<const std::uint16_t> values) {
  redis::CommandWriter w(out, 9u + values.size());
  char head[8];
  w.arg("EVAL");
  w.arg(kReadWriteScript);
  w.arg(std::int64_t{2});
  w.arg(key);
  w.arg(channel);
  w.arg(messageHead(head, unitId, ModbusTable::HoldingRegisters));
  w.arg(static_cast<std::int64_t>(readBlockAddress));
  w.arg(static_cast<std::int64_t>(readCount));
  w.arg(static_cast<std::int64_t>(writeBlockAddress));
  for (std::uint16_t v : values) w.arg(static_cast<std::int64_t>(v));
}

std::optional<ReadWriteAccess> readWriteAccess(std::span<const std::uint8_t> pdu) {
  if (pdu.size() < 10 || pdu[0] != 23) return std::nullopt;
  ReadWriteAccess a{be16(pdu, 1), be16(pdu, 3), be16(pdu, 5), be16(pdu, 7)};
  if (a.readCount < 1 || a.readCount > 125 || a.writeCount < 1 || a.writeCount > 121 ||
      pdu[9] != a.writeCount * 2 || pdu.size() != 10u + pdu[9]) {
    return std::nullopt;
  }
  return a;
}

void appendWrite(std::string& out, std::string_view key, std::string_view channel, std::uint8_t unitId,
                 ModbusTable table, std::uint16_t blockAddress, std::span<const std::uint16_t> values) {
  redis::CommandWriter w(out, 7u + values.size());
  w.arg("EVAL");
  w.arg(kWriteScript);
  w.arg(std::int64_t{2});
  w.arg(key);
  w.arg(channel);
  char head[8];
  w.arg(messageHead(head, unitId, table));
  w.arg(static_cast<std::int64_t>(blockAddress));
  for (std::uint16_t v : values) w.arg(static_cast<std::int64_t>(v));
}

std::optional<WriteMessage> parseWriteMessage(std::string_view payload) {
  std::vector<std::string_view> words;
  while (!payload.empty()) {
    const std::size_t space = payload.find(' ');
    words.push_back(payload.substr(0, space));
    if (space == std::string_view::npos) break;
    payload.remove_prefix(space + 1);
  }
  if (words.size() < 4) return std::nullopt;
  WriteMessage m;
  auto unit = redis::parseInteger(words[0], 0, 255);
  auto table = tableFromCode(words[1]);
  auto address = redis::parseInteger(words[2], 0, 65535);
  if (!unit || !table || !address) return std::nullopt;
  if (*table != ModbusTable::Coils && *table != ModbusTable::HoldingRegisters) return std::nullopt;
  const bool bits = *table == ModbusTable::Coils;
  const std::size_t count = words.size() - 3;
  if (count > (bits ? 1968u : 123u) || static_cast<std::size_t>(*address) + count > 65536) return std::nullopt;
  m.unitId = static_cast<std::uint8_t>(*unit);
  m.table = *table;
  m.address = static_cast<std::uint16_t>(*address);
  for (std::size_t i = 3; i < words.size(); ++i) {
    auto v = redis::parseInteger(words[i], 0, bits ? 1 : 65535);
    if (!v) return std::nullopt;
    m.values.push_back(static_cast<std::uint16_t>(*v));
  }
  return m;
}

std::vector<std::uint8_t> writeRequestPdu(ModbusTable table, std::uint16_t address,
                                          std::span<const std::uint16_t> values) {
  const bool bits = table == ModbusTable::Coils;
  if (values.empty() || values.size() > (bits ? 1968u : 123u)) return {};
  const auto count = static_cast<std::uint16_t>(values.size());
  std::vector<std::uint8_t> pdu{bits ? std::uint8_t{15} : std::uint8_t{16}, static_cast<std::uint8_t>(address >> 8),
                                static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(count >> 8),
                                static_cast<std::uint8_t>(count)};
  if (bits) {
    pdu.push_back(static_cast<std::uint8_t>((count + 7) / 8));
    pdu.resize(pdu.size() + (count + 7) / 8, 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] != 0) pdu[6 + i / 8] = static_cast<std::uint8_t>(pdu[6 + i / 8] | (1u << (i % 8)));
    }
  } else {
    pdu.push_back(static_cast<std::uint8_t>(count * 2));
    for (std::uint16_t v : values) {
      pdu.push_back(static_cast<std::uint8_t>(v >> 8));
      pdu.push_back(static_cast<std::uint8_t>(v));
    }
  }
  return pdu;
}

void appendSeed(std::string& out, std::string_view key,
                std::span<const std::pair<std::uint16_t, std::uint16_t>> fieldValues) {
  redis::CommandWriter w(out, 4u + 2 * fieldValues.size());
  w.arg("EVAL");
  w.arg(kSeedScript);
  w.arg(std::int64_t{1});
  w.arg(key);
  for (const auto& [field, value] : fieldValues) {
    w.arg(static_cast<std::int64_t>(field));
    w.arg(static_cast<std::int64_t>(value));
  }
}

}  // namespace modbus::redis_store
