// What the /api/v1 handlers share (simulator_api_v1*.cc): the error they throw, the path and body
// readers, and the handlers of the registers and faults routes. In detail/ (not installed): it
// speaks nlohmann::json.
// Tests: tests/protocols/simulator/simulator_api_v1_test.cc
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "protocols/http/http_message.h"

namespace modbus {

class SimulatorServer;
class DeviceContext;
struct SimulatorDevice;

namespace api_v1 {

using Json = nlohmann::json;

/// Thrown by a handler; SimulatorApiV1::handle answers it as {"error": ...} with `status`.
struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

/// 200 (or `status`) with `value` as application/json.
http::Response json(const Json& value, int status = 200);
/// The body as a JSON object: 413 over SimulatorApiV1::kMaxBodyBytes, 400 not JSON, 422 not an object.
Json objectBody(const http::Request& request);
/// A whole number in [min, max] from path or query text: 400 otherwise, naming `what`.
long long wholeNumber(const std::string& text, long long min, long long max, const std::string& what);

/// The device a request's {unit} names (404 none, 400 not 0-255).
struct Unit {
  std::uint8_t id = 0;
  DeviceContext* context = nullptr;
  const SimulatorDevice* device = nullptr;
  /// SimulatorCalls' key for this device's fault: the unit id, or kEveryUnit for a single device.
  std::uint16_t faultKey = 0;
};
Unit unitParam(SimulatorServer& simulator, const http::Request& request);

/// ISO 8601 UTC with milliseconds ("2026-12-06T04:30:03.125Z") of seconds since the epoch.
std::string isoTime(double epochSeconds);
/// The wall clock now, seconds since the epoch.
double wallSeconds();

// Registers and faults (simulator_api_v1_registers.cc, simulator_api_v1_faults.cc).
http::Response getRegisters(SimulatorServer& simulator, http::Request& request);
http::Response setRegisters(SimulatorServer& simulator, http::Request& request);
http::Response listFaults(SimulatorServer& simulator, http::Request& request);
http::Response registerFault(SimulatorServer& simulator, http::Request& request);  // GET, PUT, DELETE
http::Response deviceFault(SimulatorServer& simulator, http::Request& request);    // GET, PUT, DELETE

}  // namespace api_v1
}  // namespace modbus
