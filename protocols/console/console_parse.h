// The console's argument parsing (words, unit ids, tables, addresses, typed values) and the
// per-transport lookups its commands share. Each parser throws ConsoleCommandError naming the word.
// Tests: tests/protocols/console/console_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/simulator/cell_types.h"

namespace modbus {

class ModbusServer;
class ModbusServerFactory;
class RequestProcessor;
class ResponseHook;

namespace console_parse {

/// The most values one read or write handles (a read of more answers in pieces).
inline constexpr std::size_t kMaxCount = 1000;

enum class Table : std::uint8_t { Coils, DiscreteInputs, HoldingRegisters, InputRegisters };

/// The words of `line`, split on spaces and tabs.
std::vector<std::string_view> split(std::string_view line);
std::uint8_t unitId(std::string_view word);
/// "coils"/"co", "discrete_inputs"/"di", "holding_registers"/"hr", "input_registers"/"ir".
Table table(std::string_view word);
std::string_view tableName(Table table);
std::uint16_t address(std::string_view word);
/// 1..kMaxCount.
std::size_t count(std::string_view word);
/// A numeric register type's name (uint16 ... float64)?
bool isTypeName(std::string_view word);
simulator::CellType valueType(std::string_view word);
/// A value of `type`, in its range (integers: whole numbers only).
long double number(std::string_view word, simulator::CellType type);
std::uint16_t registerValue(std::string_view word);
/// 0/1, true/false, on/off.
bool bit(std::string_view word);
bool onOff(std::string_view word);

/// The request processor of any server (TCP, TLS, UDP, serial), or null for another kind.
RequestProcessor* processorOf(ModbusServer& server);
/// The connection factory of a stream server (TCP, TLS), or null (UDP, serial).
std::shared_ptr<ModbusServerFactory> factoryOf(ModbusServer& server);
/// A UDP or serial server, whose response hook is the server's own (a stream server's is its factory's)?
bool hasServerResponseHook(ModbusServer& server);
/// That hook (null when none, or for another kind of server).
std::shared_ptr<ResponseHook> serverResponseHook(ModbusServer& server);
/// Replaces it; false (nothing done) for another kind of server.
bool setServerResponseHook(ModbusServer& server, std::shared_ptr<ResponseHook> hook);
/// "tcp 127.0.0.1:5020", "tls ...", "udp ...", "serial /dev/ttyUSB0": how output names a server.
std::string describeServer(ModbusServer& server);

}  // namespace console_parse
}  // namespace modbus
