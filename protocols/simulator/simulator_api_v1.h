// SimulatorApiV1: the simulator's versioned JSON API, /api/v1/..., on the same reactor and
// datastore as the Modbus servers. docs/openapi.json is its contract (served at
// GET /api/v1/openapi.json, embedded at build time); docs/simulator.md "/api/v1" shows it with curl.
// Routes (see routes() for the list the OpenAPI test checks):
//   devices      GET /devices, GET|PUT /devices/{unit}            list, online/offline
//   registers    GET|PUT /devices/{unit}/registers/{table}/{address}   typed get (?count=N), typed set
//   faults       GET /devices/{unit}/faults; GET|PUT|DELETE /devices/{unit}/faults/{table}/{address}
//                GET|PUT|DELETE /devices/{unit}/fault             (per register / per device)
//   connections  GET /connections, DELETE /connections/{id}
//   counters     GET /counters                                   per FC, per exception, FC 8 per device
//   calls        GET /calls/stream                               Server-Sent Events, one per call
// Rules:
// - Every answer is JSON (but the event stream); every error is {"error": {"code", "message"}}
//   with its status: 400 malformed (path parameter, query, JSON), 404 no such unit, table,
//   address or connection, 405 with Allow, 409 the register layout forbids it (an address inside
//   a value, an undefined cell), 413 a body over kMaxBodyBytes, 422 well-formed but not acceptable
//   (a value outside its type, an unknown response kind), 500 never expected. Nothing throws out.
// - Typed set writes the value as its cell's type and word/byte order say (a float32 is set as a
//   float); it writes read-only cells too (an operator's tool, as pymodbus's Set); all or nothing.
// - Faults act on the next request: a register fault (an exception code) on every access to it,
//   a device fault (exception, no answer, junk, delay, split; pymodbus's simulation shapes) on
//   every request to that unit from the stream servers.
// - The call stream taps SimulatorCalls only while a client listens: with none, the Modbus path
//   formats and allocates nothing for it. A client that stops reading is cut off at the HTTP
//   server's maxBufferedOutput; Modbus never waits for it.
// - The bearer token is SimulatorHttp's (its 401 is JSON here too). Reactor thread only.
// Tests: tests/protocols/simulator/simulator_api_v1_test.cc (in process),
//        tests/integration/simulator_api_v1_test.cc (curl, urllib, pymodbus, libmodbus; OpenAPI check)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/http/http_server.h"
#include "protocols/http/router.h"

namespace modbus {

class SimulatorServer;
class CallStream;

class SimulatorApiV1 {
 public:
  /// The largest request body the API reads (413 beyond it).
  static constexpr std::size_t kMaxBodyBytes = 64 * 1024;

  /// `simulator` must outlive this. Hooks the call monitor (SimulatorServer::calls()): construct
  /// before runForever, as SimulatorHttp does.
  explicit SimulatorApiV1(SimulatorServer& simulator);
  ~SimulatorApiV1();
  SimulatorApiV1(const SimulatorApiV1&) = delete;
  SimulatorApiV1& operator=(const SimulatorApiV1&) = delete;

  /// Answers one request whose path starts with /api/v1 (never throws).
  http::Response handle(http::Request& request);
  /// handle() as a Handler; this object must outlive the server.
  http::Handler handler();

  /// Every route: method and full path pattern ("GET", "/api/v1/devices/{unit}").
  const std::vector<std::pair<std::string, std::string>>& routes() const { return routes_; }
  /// Clients listening to /api/v1/calls/stream.
  std::size_t streamSubscribers() const;

 private:
  void route(const char* method, const std::string& pattern, http::Handler handler);

  SimulatorServer& simulator_;
  std::unique_ptr<CallStream> stream_;
  http::Router router_;
  std::vector<std::pair<std::string, std::string>> routes_;
};

/// {"error": {"code": "not_found", "message": message}} with `status`.
http::Response apiV1Error(int status, std::string_view message);

/// docs/openapi.json as built into the program.
std::string_view simulatorOpenApiDocument();

}  // namespace modbus
