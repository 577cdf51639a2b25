// Console: the command table, execute(), and the commands on the datastore (units, read, write,
// counters, diagnostics, listen-only), plus help and quit.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "datastore/control_block.h"
#include "datastore/device_context.h"
#include "datastore/server_context.h"
#include "datastore/simulator/cell_types.h"
#include "protocols/console/console.h"
#include "protocols/application/request_processor.h"
#include "protocols/console/console_parse.h"
#include "reactor/log.h"

namespace modbus {

using console_parse::Table;

const std::vector<Console::Command>& Console::commands() {
  static const std::vector<Command> table = {
      {"help", "help", "this list", &Console::help},
      {"units", "units", "the units and their tables", &Console::units},
      {"read", "read UNIT TABLE ADDRESS [COUNT] [TYPE]",
       "values, one 'ADDRESS VALUE' line each; TABLE coils|discrete_inputs|holding_registers|input_registers "
       "(co|di|hr|ir); TYPE uint16|int16|uint32|int32|float32|uint64|int64|float64 (registers)",
       &Console::read},
      {"write", "write UNIT TABLE ADDRESS [TYPE] VALUE...",
       "sets values from ADDRESS on (coils: 0/1; registers: 0..65535, or values of TYPE)", &Console::write},
      {"counters", "counters [UNIT]", "the diagnostic counters FC 8 reports (every unit without UNIT)",
       &Console::counters},
      {"diagnostics", "diagnostics UNIT", "diagnostic register, listen-only, event log, exception status",
       &Console::diagnostics},
      {"listen-only", "listen-only UNIT on|off", "silence a unit (FC 8/04) or bring it back", &Console::listenOnly},
      {"connections", "connections [close ID]", "open connections with ids and peers, or close one",
       &Console::connections},
      {"trace", "trace on|off", "show requests and answers of every server as they pass", &Console::trace},
      {"stats", "stats", "servers, addresses, connections and their counts", &Console::stats},
      {"reload", "reload", "re-read the TLS servers' certificate, key and CA files", &Console::reload},
      {"shutdown", "shutdown", "stop every server and the reactor", &Console::shutdown},
      {"quit", "quit", "end this session", &Console::quit},
  };
  return table;
}

void Console::execute(std::string_view line, ConsoleSession& session) {
  Args args = console_parse::split(line);
  if (args.empty()) return;
  std::string_view name = args.front();
  args.erase(args.begin());
  for (const Command& c : commands()) {
    if (c.name != name) continue;
    try {
      (this->*c.run)(args, session);
      session.sendLine("ok");
    } catch (const ConsoleCommandError& e) {
      session.sendLine(std::string("error: ") + e.what() + " (usage: " + std::string(c.usage) + ")");
    } catch (const std::exception& e) {
      session.sendLine(std::string("error: ") + e.what());
    }
    return;
  }
  std::string shown(name.substr(0, 64));
  session.sendLine("error: unknown command '" + shown + "' (type help)");
}

void Console::help(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("help takes no arguments");
  for (const Command& c : commands()) session.sendLine(std::string(c.usage) + "  -- " + std::string(c.summary));
}

void Console::quit(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("quit takes no arguments");
  session.sendLine("bye");
  session.close();
}

namespace {

DeviceContext& deviceOf(ServerContext* context, std::string_view unitText) {
  std::uint8_t unit = console_parse::unitId(unitText);
  DeviceContext* device = context == nullptr ? nullptr : context->find(unit);
  if (device == nullptr) {
    throw ConsoleCommandError("no unit " + std::to_string(unit) + " in the datastore (see units)");
  }
  return *device;
}

std::string tableList(const DeviceContext& d) {
  std::string out;
  auto add = [&out](bool present, const char* name) {
    if (present) out += out.empty() ? name : std::string(", ") + name;
  };
  add(d.coils() != nullptr, "coils");
  add(d.discreteInputs() != nullptr, "discrete_inputs");
  add(d.holdingRegisters() != nullptr, "holding_registers");
  add(d.inputRegisters() != nullptr, "input_registers");
  return out.empty() ? "no tables" : out;
}

std::string unitLine(std::string_view label, const DeviceContext& d) {
  std::string line = std::string(label) + ": " + tableList(d);
  if (d.addressOffset() != 0) line += "; address offset " + std::to_string(d.addressOffset());
  if (d.control().listenOnly()) line += "; listen-only";
  if (d.offline()) line += "; offline";
  return line;
}

/// The block address of [address, address + count) of `device`, or an error naming the range.
std::uint16_t blockAddressOf(const DeviceContext& device, std::uint16_t address, std::size_t count) {
  auto a = count <= 65536 - static_cast<std::size_t>(address)
               ? device.blockAddress(address, static_cast<std::uint16_t>(count))
               : std::nullopt;
  if (!a) throw ConsoleCommandError("addresses " + std::to_string(address) + "+" + std::to_string(count) +
                                    " leave 0..65535");
  return *a;
}

std::string rangeError(std::string_view table, std::uint16_t address, std::size_t count) {
  return std::string(table) + " " + std::to_string(address) + ".." + std::to_string(address + count - 1) +
         " is not in the unit's block";
}

std::string formatNumber(simulator::CellType type, long double value) {
  if (simulator::isFloatType(type)) {
    char text[64];
    std::snprintf(text, sizeof text, type == simulator::CellType::Float32 ? "%.9Lg" : "%.17Lg", value);
    return text;
  }
  // Integers are exact in long double (64-bit mantissa): print them as integers.
  if (value < 0) return std::to_string(static_cast<long long>(value));
  return std::to_string(static_cast<unsigned long long>(value));
}

}  // namespace

void Console::units(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("units takes no arguments");
  if (target_.context == nullptr) {
    session.sendLine("no datastore");
    return;
  }
  if (target_.context->isSingle()) {
    session.sendLine(unitLine("every unit id (single device)", *target_.context->find(0)));
  } else {
    for (std::uint8_t id : target_.context->unitIds()) {
      session.sendLine(unitLine("unit " + std::to_string(id), *target_.context->find(id)));
    }
  }
  // Units answered by an asynchronous device (a gateway, Redis) are not in the datastore.
  for (unsigned id = 0; id <= 255; ++id) {
    for (ModbusServer* server : servers()) {
      RequestProcessor* p = console_parse::processorOf(*server);
      if (p != nullptr && p->asyncDeviceFor(static_cast<std::uint8_t>(id)) != nullptr) {
        session.sendLine("unit " + std::to_string(id) + ": asynchronous device (gateway or Redis; not readable here)");
        break;
      }
    }
  }
}

void Console::read(const Args& args, ConsoleSession& session) {
  if (args.size() < 3 || args.size() > 5) throw ConsoleCommandError("wrong number of arguments");
  DeviceContext& device = deviceOf(target_.context, args[0]);
  Table table = console_parse::table(args[1]);
  std::uint16_t address = console_parse::address(args[2]);
  std::size_t count = 1;
  std::optional<simulator::CellType> type;
  std::size_t next = 3;
  if (next < args.size() && !console_parse::isTypeName(args[next])) count = console_parse::count(args[next++]);
  if (next < args.size()) type = console_parse::valueType(args[next++]);
  if (next != args.size()) throw ConsoleCommandError("'" + std::string(args[next]) + "' is not a count or a type");
  const std::string_view name = console_parse::tableName(table);

  if (table == Table::Coils || table == Table::DiscreteInputs) {
    if (type) throw ConsoleCommandError("a type applies to registers, not to " + std::string(name));
    BitBlock* block = table == Table::Coils ? device.coils() : device.discreteInputs();
    if (block == nullptr) throw ConsoleCommandError("the unit has no " + std::string(name));
    std::uint16_t at = blockAddressOf(device, address, count);
    auto values = std::make_unique<bool[]>(count);
    if (block->getValues(at, std::span<bool>(values.get(), count)) != ExceptionCode::None) {
      throw ConsoleCommandError(rangeError(name, address, count));
    }
    for (std::size_t i = 0; i < count; ++i) {
      session.sendLine(std::to_string(address + i) + " " + (values[i] ? "1" : "0"));
    }
    return;
  }
  RegisterBlock* block = table == Table::HoldingRegisters ? device.holdingRegisters() : device.inputRegisters();
  if (block == nullptr) throw ConsoleCommandError("the unit has no " + std::string(name));
  const unsigned width = type ? simulator::registerWidth(*type) : 1;
  const std::size_t registers = count * width;
  std::uint16_t at = blockAddressOf(device, address, registers);
  std::vector<std::uint16_t> values(registers);
  if (block->getValues(at, std::span<std::uint16_t>(values)) != ExceptionCode::None) {
    throw ConsoleCommandError(rangeError(name, address, registers));
  }
  for (std::size_t i = 0; i < count; ++i) {
    std::string value = type ? formatNumber(*type, simulator::decodeNumber(*type, {}, &values[i * width]))
                             : std::to_string(values[i]);
    session.sendLine(std::to_string(address + i * width) + " " + value);
  }
}

void Console::write(const Args& args, ConsoleSession& session) {
  if (args.size() < 4) throw ConsoleCommandError("wrong number of arguments");
  DeviceContext& device = deviceOf(target_.context, args[0]);
  Table table = console_parse::table(args[1]);
  std::uint16_t address = console_parse::address(args[2]);
  std::size_t first = 3;
  std::optional<simulator::CellType> type;
  if (console_parse::isTypeName(args[3])) type = console_parse::valueType(args[first++]);
  const std::size_t count = args.size() - first;
  if (count == 0) throw ConsoleCommandError("no value to write");
  if (count > console_parse::kMaxCount) {
    throw ConsoleCommandError("at most " + std::to_string(console_parse::kMaxCount) + " values at once");
  }
  const std::string_view name = console_parse::tableName(table);

  if (table == Table::Coils || table == Table::DiscreteInputs) {
    if (type) throw ConsoleCommandError("a type applies to registers, not to " + std::string(name));
    BitBlock* block = table == Table::Coils ? device.coils() : device.discreteInputs();
    if (block == nullptr) throw ConsoleCommandError("the unit has no " + std::string(name));
    auto values = std::make_unique<bool[]>(count);
    for (std::size_t i = 0; i < count; ++i) values[i] = console_parse::bit(args[first + i]);
    std::uint16_t at = blockAddressOf(device, address, count);
    if (block->setValues(at, std::span<const bool>(values.get(), count)) != ExceptionCode::None) {
      throw ConsoleCommandError(rangeError(name, address, count));
    }
  } else {
    RegisterBlock* block = table == Table::HoldingRegisters ? device.holdingRegisters() : device.inputRegisters();
    if (block == nullptr) throw ConsoleCommandError("the unit has no " + std::string(name));
    const unsigned width = type ? simulator::registerWidth(*type) : 1;
    std::vector<std::uint16_t> values(count * width);
    for (std::size_t i = 0; i < count; ++i) {
      if (type) {
        simulator::encodeNumber(*type, {}, console_parse::number(args[first + i], *type), &values[i * width]);
      } else {
        values[i] = console_parse::registerValue(args[first + i]);
      }
    }
    std::uint16_t at = blockAddressOf(device, address, values.size());
    if (block->setValues(at, std::span<const std::uint16_t>(values)) != ExceptionCode::None) {
      throw ConsoleCommandError(rangeError(name, address, values.size()));
    }
  }
  reactor::log::info("console: unit ", std::string(args[0]), " ", std::string(name), " ", address, ": ", count,
                     " value(s) written");
  session.sendLine("wrote " + std::to_string(count) + " value(s) from " + std::to_string(address));
}

void Console::counters(const Args& args, ConsoleSession& session) {
  if (args.size() > 1) throw ConsoleCommandError("wrong number of arguments");
  static constexpr const char* kNames[ControlBlock::kCounterCount] = {
      "bus_message",     "bus_communication_error", "bus_exception_error", "server_message",
      "server_no_response", "server_nak",           "server_busy",         "bus_character_overrun"};
  auto show = [&session](std::string_view label, const DeviceContext& d) {
    std::string line = std::string(label) + ":";
    for (std::size_t i = 0; i < ControlBlock::kCounterCount; ++i) {
      line += std::string(" ") + kNames[i] + "=" +
              std::to_string(d.control().counter(static_cast<DiagnosticCounter>(i)));
    }
    line += " event_counter=" + std::to_string(d.control().eventCounter());
    session.sendLine(line);
  };
  if (!args.empty()) {
    show("unit " + std::to_string(console_parse::unitId(args[0])), deviceOf(target_.context, args[0]));
    return;
  }
  if (target_.context == nullptr) return;
  if (target_.context->isSingle()) {
    show("every unit id", *target_.context->find(0));
    return;
  }
  for (std::uint8_t id : target_.context->unitIds()) show("unit " + std::to_string(id), *target_.context->find(id));
}

void Console::diagnostics(const Args& args, ConsoleSession& session) {
  if (args.size() != 1) throw ConsoleCommandError("wrong number of arguments");
  const ControlBlock& c = deviceOf(target_.context, args[0]).control();
  char reg[8];
  std::snprintf(reg, sizeof reg, "0x%04x", c.diagnosticRegister());
  session.sendLine(std::string("diagnostic_register ") + reg);
  session.sendLine(std::string("listen_only ") + (c.listenOnly() ? "on" : "off"));
  session.sendLine(std::string("busy ") + (c.busy() ? "yes" : "no"));
  session.sendLine("exception_status " + std::to_string(c.exceptionStatus()));
  session.sendLine("ascii_delimiter " + std::to_string(c.asciiDelimiter()));
  std::string events = "event_log " + std::to_string(c.eventCount()) + " event(s):";
  char hex[4];
  for (std::uint8_t e : c.events()) {
    std::snprintf(hex, sizeof hex, " %02x", e);
    events += hex;
  }
  session.sendLine(events);
}

void Console::listenOnly(const Args& args, ConsoleSession& session) {
  if (args.size() != 2) throw ConsoleCommandError("wrong number of arguments");
  DeviceContext& device = deviceOf(target_.context, args[0]);
  bool on = console_parse::onOff(args[1]);
  // On: as FC 8/04 does (the event log says so). Off: the application's door, without FC 8/01's
  // clearing of the counters, so what was counted stays visible.
  if (on) {
    device.control().forceListenOnly();
  } else {
    device.control().setListenOnly(false);
  }
  reactor::log::info("console: unit ", std::string(args[0]), " listen-only ", on ? "on" : "off");
  session.sendLine("unit " + std::string(args[0]) + " listen-only " + (on ? "on" : "off"));
}

}  // namespace modbus
