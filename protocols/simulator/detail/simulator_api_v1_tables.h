// The {table} and {address} of /api/v1 paths over a simulated device's store, shared by the
// registers and faults routes. In detail/ (not installed).
#pragma once

#include <cstdint>
#include <string>

#include "datastore/exception_code.h"
#include "datastore/simulator/simulator_store.h"
#include "protocols/simulator/detail/simulator_api_v1_detail.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus::api_v1 {

/// One of the four tables of a device: where it lies in the store and how it is addressed.
struct Table {
  std::string name;  ///< "coils", "discrete_inputs", "holding_registers", "input_registers"
  SimulatorTable which = SimulatorTable::HoldingRegisters;
  bool bits = false;         ///< addressed by bit, 16 to a cell
  std::uint32_t offset = 0;  ///< its first cell in the store
  std::uint32_t cells = 0;   ///< cells it spans
  /// Addresses it has: bits or registers.
  std::uint32_t size() const { return bits ? cells * 16 : cells; }
  /// The store cell holding `address`.
  std::uint32_t cellOf(std::uint32_t address) const { return offset + (bits ? address / 16 : address); }
};

/// The request's {table} (404 for another name).
Table tableParam(const http::Request& request, const SimulatorDevice& device);
/// The request's {address} (400 not a number, 404 past the table).
std::uint32_t addressParam(const http::Request& request, const Table& table);
/// null, or {"exception_code": 4, "exception": "ServerDeviceFailure"}.
Json faultJson(ExceptionCode fault);
/// The first cell of the value cell `index` belongs to; the registers the value at `first` takes.
std::uint32_t firstCellOf(const simulator::SimulatorStore& store, std::uint32_t index);
std::uint32_t widthAt(const simulator::SimulatorStore& store, std::uint32_t first);

}  // namespace modbus::api_v1
