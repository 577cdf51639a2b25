// The console's argument parsers and server lookups.
#include "protocols/console/console_parse.h"

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "protocols/console/console.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"

namespace modbus::console_parse {

namespace {

/// A whole number in [min, max] (decimal, or hex with 0x), else an error naming `what`.
long long integer(std::string_view word, long long min, long long max, std::string_view what) {
  long long value = 0;
  int base = 10;
  std::string_view digits = word;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value < min || value > max) {
    throw ConsoleCommandError("'" + std::string(word.substr(0, 32)) + "' is not " + std::string(what) + " (" +
                              std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return value;
}

}  // namespace

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

std::uint8_t unitId(std::string_view word) { return static_cast<std::uint8_t>(integer(word, 0, 255, "a unit id")); }

Table table(std::string_view word) {
  if (word == "coils" || word == "co") return Table::Coils;
  if (word == "discrete_inputs" || word == "di") return Table::DiscreteInputs;
  if (word == "holding_registers" || word == "hr") return Table::HoldingRegisters;
  if (word == "input_registers" || word == "ir") return Table::InputRegisters;
  throw ConsoleCommandError("'" + std::string(word.substr(0, 32)) +
                            "' is not a table (coils, discrete_inputs, holding_registers, input_registers, or "
                            "co, di, hr, ir)");
}

std::string_view tableName(Table table) {
  switch (table) {
    case Table::Coils: return "coils";
    case Table::DiscreteInputs: return "discrete_inputs";
    case Table::HoldingRegisters: return "holding_registers";
    case Table::InputRegisters: return "input_registers";
  }
  return "?";
}

std::uint16_t address(std::string_view word) {
  return static_cast<std::uint16_t>(integer(word, 0, 65535, "an address"));
}

std::size_t count(std::string_view word) {
  return static_cast<std::size_t>(integer(word, 1, static_cast<long long>(kMaxCount), "a count"));
}

bool isTypeName(std::string_view word) {
  auto type = simulator::cellTypeFromName(word);
  return type && simulator::isNumericType(*type) && *type != simulator::CellType::Bits;
}

simulator::CellType valueType(std::string_view word) {
  if (!isTypeName(word)) {
    throw ConsoleCommandError("'" + std::string(word.substr(0, 32)) +
                              "' is not a type (uint16, int16, uint32, int32, float32, uint64, int64, float64)");
  }
  return *simulator::cellTypeFromName(word);
}

long double number(std::string_view word, simulator::CellType type) {
  std::string text(word.substr(0, 64));
  char* end = nullptr;
  errno = 0;
  long double value = std::strtold(text.c_str(), &end);
  bool whole = simulator::isFloatType(type) || std::floor(value) == value;
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || !whole ||
      value < simulator::typeMin(type) || value > simulator::typeMax(type)) {
    throw ConsoleCommandError("'" + text + "' is not a " + std::string(simulator::cellTypeName(type)) + " value");
  }
  return value;
}

std::uint16_t registerValue(std::string_view word) {
  return static_cast<std::uint16_t>(integer(word, 0, 65535, "a register value"));
}

bool bit(std::string_view word) {
  if (word == "1" || word == "true" || word == "on") return true;
  if (word == "0" || word == "false" || word == "off") return false;
  throw ConsoleCommandError("'" + std::string(word.substr(0, 32)) + "' is not a bit (0, 1, true, false, on, off)");
}

bool onOff(std::string_view word) {
  if (word == "on") return true;
  if (word == "off") return false;
  throw ConsoleCommandError("'" + std::string(word.substr(0, 32)) + "' is not on or off");
}

RequestProcessor* processorOf(ModbusServer& server) {
  if (auto* s = dynamic_cast<ModbusTcpServer*>(&server)) return &s->factory().processor();
  if (auto* s = dynamic_cast<ModbusTlsServer*>(&server)) return &s->factory().processor();
  if (auto* s = dynamic_cast<ModbusUdpServer*>(&server)) return &s->processor();
  if (auto* s = dynamic_cast<ModbusSerialServer*>(&server)) return &s->processor();
  return nullptr;
}

std::shared_ptr<ModbusServerFactory> factoryOf(ModbusServer& server) {
  ModbusServerFactory* f = nullptr;
  if (auto* s = dynamic_cast<ModbusTcpServer*>(&server)) f = &s->factory();
  if (auto* s = dynamic_cast<ModbusTlsServer*>(&server)) f = &s->factory();
  if (f == nullptr) return nullptr;
  // Factories are always held by a shared_ptr (their protocols keep them alive).
  return std::static_pointer_cast<ModbusServerFactory>(f->shared_from_this());
}

bool hasServerResponseHook(ModbusServer& server) {
  return dynamic_cast<ModbusUdpServer*>(&server) != nullptr || dynamic_cast<ModbusSerialServer*>(&server) != nullptr;
}

std::shared_ptr<ResponseHook> serverResponseHook(ModbusServer& server) {
  if (auto* s = dynamic_cast<ModbusUdpServer*>(&server)) return s->options().responseHook;
  if (auto* s = dynamic_cast<ModbusSerialServer*>(&server)) return s->options().responseHook;
  return nullptr;
}

bool setServerResponseHook(ModbusServer& server, std::shared_ptr<ResponseHook> hook) {
  if (auto* s = dynamic_cast<ModbusUdpServer*>(&server)) {
    s->setResponseHook(std::move(hook));
    return true;
  }
  if (auto* s = dynamic_cast<ModbusSerialServer*>(&server)) {
    s->setResponseHook(std::move(hook));
    return true;
  }
  return false;
}

std::string describeServer(ModbusServer& server) {
  auto join = [](std::string kind, const std::vector<reactor::Address>& addresses) {
    // Two appends, not " " + toString(): g++ 12 -O3 warns (-Wrestrict, a false positive) on that.
    for (const auto& a : addresses) {
      kind += ' ';
      kind += a.toString();
    }
    return kind;
  };
  if (auto* s = dynamic_cast<ModbusTcpServer*>(&server)) return join("tcp", s->addresses());
  if (auto* s = dynamic_cast<ModbusTlsServer*>(&server)) return join("tls", s->addresses());
  if (auto* s = dynamic_cast<ModbusUdpServer*>(&server)) return join("udp", s->addresses());
  if (auto* s = dynamic_cast<ModbusSerialServer*>(&server)) {
    return std::string("serial ") + (s->isOpen() ? s->port()->getHost().toString() : std::string("(closed)"));
  }
  return "server";
}

}  // namespace modbus::console_parse
