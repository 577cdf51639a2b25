// SimulatorApiV1: routes, errors as JSON, and the devices, connections and counters routes.
// Registers and faults: simulator_api_v1_registers.cc, simulator_api_v1_faults.cc; the call stream:
// simulator_call_stream.cc.
#include "protocols/simulator/simulator_api_v1.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>

#include "datastore/control_block.h"
#include "datastore/exception_code.h"
#include "protocols/http/detail/json_body.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/serving/modbus_stream_protocol.h"
#include "protocols/simulator/detail/simulator_api_v1_detail.h"
#include "protocols/simulator/simulator_call_stream.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus {
namespace api_v1 {

http::Response json(const Json& value, int status) { return http::jsonResponse(value, status); }

Json objectBody(const http::Request& request) {
  if (request.body.size() > SimulatorApiV1::kMaxBodyBytes) {
    throw ApiError(413, "the body has " + std::to_string(request.body.size()) + " bytes; at most " +
                            std::to_string(SimulatorApiV1::kMaxBodyBytes) + " are read");
  }
  auto body = http::parseJsonBody(request);
  if (!body) throw ApiError(400, "the body is not JSON");
  if (!body->is_object()) throw ApiError(422, "the body must be a JSON object");
  return std::move(*body);
}

long long wholeNumber(const std::string& text, long long min, long long max, const std::string& what) {
  long long value = 0;
  std::size_t used = 0;
  bool ok = !text.empty() && text.size() <= 18 && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-');
  if (ok) {
    try {
      value = std::stoll(text, &used, 10);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != text.size()) throw ApiError(400, what + ": \"" + text + "\" is not a whole number");
  if (value < min || value > max) {
    throw ApiError(400, what + ": " + text + " is outside " + std::to_string(min) + "-" + std::to_string(max));
  }
  return value;
}

Unit unitParam(SimulatorServer& simulator, const http::Request& request) {
  Unit unit;
  unit.id = static_cast<std::uint8_t>(wholeNumber(std::string(request.param("unit")), 0, 255, "unit"));
  unit.context = simulator.context()->find(unit.id);
  unit.device = simulator.unitDevice(unit.id);
  if (unit.context == nullptr || unit.device == nullptr) {
    throw ApiError(404, "no device answers unit " + std::to_string(unit.id));
  }
  unit.faultKey = simulator.context()->isSingle() ? SimulatorCalls::kEveryUnit : unit.id;
  return unit;
}

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string isoTime(double epochSeconds) {
  const double whole = std::floor(epochSeconds);
  const std::time_t t = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[96];  // room for any int the format could print: g++ checks the worst case
  const int ms = std::clamp(static_cast<int>((epochSeconds - whole) * 1000.0), 0, 999);
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return text;
}

namespace {

const char* errorCode(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 422: return "unprocessable";
    case 431: return "headers_too_large";
    default: return status >= 500 ? "internal" : "error";
  }
}

Json deviceJson(SimulatorServer& simulator, std::uint8_t unitId) {
  const DeviceContext* context = simulator.context()->find(unitId);
  const SimulatorDevice* device = simulator.unitDevice(unitId);
  const simulator::SimulatorLayout& l = device->layout;
  return Json{{"unit", unitId},
              {"every_unit", simulator.context()->isSingle()},
              {"online", !context->offline()},
              {"listen_only", context->control().listenOnly()},
              {"shared_blocks", l.shared},
              {"tables",
               {{"coils", std::uint64_t{l.coilsSize()} * 16},
                {"discrete_inputs", std::uint64_t{l.discreteInputsSize()} * 16},
                {"holding_registers", l.holdingRegistersSize()},
                {"input_registers", l.inputRegistersSize()}}}};
}

Json diagnosticsJson(const ControlBlock& control) {
  auto c = [&](DiagnosticCounter which) { return control.counter(which); };
  return Json{{"bus_message", c(DiagnosticCounter::BusMessage)},
              {"bus_communication_error", c(DiagnosticCounter::BusCommunicationError)},
              {"bus_exception_error", c(DiagnosticCounter::BusExceptionError)},
              {"server_message", c(DiagnosticCounter::ServerMessage)},
              {"server_no_response", c(DiagnosticCounter::ServerNoResponse)},
              {"server_nak", c(DiagnosticCounter::ServerNak)},
              {"server_busy", c(DiagnosticCounter::ServerBusy)},
              {"bus_character_overrun", c(DiagnosticCounter::BusCharacterOverrun)}};
}

/// The open connections of every stream server the simulator runs, with the server's endpoint.
std::vector<std::pair<ModbusStreamProtocol*, std::string>> openConnections(SimulatorServer& simulator) {
  std::vector<std::pair<ModbusStreamProtocol*, std::string>> out;
  const std::string endpoint = simulator.serverEntry().entry.endpoint;
  for (const auto& server : simulator.servers()) {
    ModbusServerFactory* factory = nullptr;
    if (auto* tcp = dynamic_cast<ModbusTcpServer*>(server.get())) factory = &tcp->factory();
    if (auto* tls = dynamic_cast<ModbusTlsServer*>(server.get())) factory = &tls->factory();
    if (factory == nullptr) continue;  // UDP has no connections; a serial line is not closed from here
    for (const auto& c : factory->openConnections()) out.emplace_back(c.protocol, endpoint);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first->connectionId() < b.first->connectionId(); });
  return out;
}

}  // namespace
}  // namespace api_v1

using api_v1::ApiError;
using api_v1::Json;

http::Response apiV1Error(int status, std::string_view message) {
  return http::jsonResponse(Json{{"error", {{"code", api_v1::errorCode(status)}, {"message", std::string(message)}}}},
                            status);
}

SimulatorApiV1::SimulatorApiV1(SimulatorServer& simulator)
    : simulator_(simulator), stream_(std::make_unique<CallStream>(simulator.calls())) {
  SimulatorServer& sim = simulator_;
  route("GET", "", [](http::Request&) {
    return api_v1::json(Json{{"version", "v1"}, {"openapi", "/api/v1/openapi.json"}});
  });
  route("GET", "/openapi.json", [](http::Request&) {
    return http::Response::text(200, std::string(simulatorOpenApiDocument()), "application/json");
  });

  // --- devices ---
  route("GET", "/devices", [&sim](http::Request&) {
    Json devices = Json::array();
    for (std::uint8_t unit : sim.unitIds()) devices.push_back(api_v1::deviceJson(sim, unit));
    return api_v1::json(Json{{"devices", std::move(devices)}});
  });
  route("GET", "/devices/{unit}", [&sim](http::Request& r) {
    return api_v1::json(api_v1::deviceJson(sim, api_v1::unitParam(sim, r).id));
  });
  route("PUT", "/devices/{unit}", [&sim](http::Request& r) {
    const api_v1::Unit unit = api_v1::unitParam(sim, r);
    const Json body = api_v1::objectBody(r);
    auto online = body.find("online");
    if (online == body.end() || !online->is_boolean()) throw ApiError(422, "online: true or false is required");
    sim.setOffline(unit.id, !online->get<bool>());
    return api_v1::json(api_v1::deviceJson(sim, unit.id));
  });

  // --- registers and faults ---
  route("GET", "/devices/{unit}/registers/{table}/{address}", [&sim](http::Request& r) { return api_v1::getRegisters(sim, r); });
  route("PUT", "/devices/{unit}/registers/{table}/{address}", [&sim](http::Request& r) { return api_v1::setRegisters(sim, r); });
  route("GET", "/devices/{unit}/faults", [&sim](http::Request& r) { return api_v1::listFaults(sim, r); });
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    route(method, "/devices/{unit}/faults/{table}/{address}", [&sim](http::Request& r) { return api_v1::registerFault(sim, r); });
    route(method, "/devices/{unit}/fault", [&sim](http::Request& r) { return api_v1::deviceFault(sim, r); });
  }

  // --- connections ---
  route("GET", "/connections", [&sim](http::Request&) {
    const double now = sim.reactor().seconds(), wall = api_v1::wallSeconds();
    Json list = Json::array();
    for (const auto& [p, endpoint] : api_v1::openConnections(sim)) {
      const double age = std::max(0.0, now - p->connectedAt());
      list.push_back(Json{{"id", p->connectionId()},
                          {"peer", p->transport().getPeer().toString()},
                          {"since", api_v1::isoTime(wall - age)},
                          {"age_seconds", std::round(age * 1000.0) / 1000.0},
                          {"requests", p->requestCount()},
                          {"server", endpoint}});
    }
    return api_v1::json(Json{{"connections", std::move(list)}});
  });
  route("DELETE", "/connections/{id}", [&sim](http::Request& r) {
    const auto id = static_cast<std::uint64_t>(
        api_v1::wholeNumber(std::string(r.param("id")), 1, 999999999999999999LL, "id"));
    for (const auto& [p, endpoint] : api_v1::openConnections(sim)) {
      if (p->connectionId() != id) continue;
      const std::string peer = p->transport().getPeer().toString();
      p->transport().loseConnection();  // after what is already on its way to the client
      return api_v1::json(Json{{"closed", id}, {"peer", peer}});
    }
    throw ApiError(404, "no open connection has id " + std::to_string(id));
  });

  // --- counters ---
  route("GET", "/counters", [&sim](http::Request&) {
    SimulatorCalls& calls = sim.calls();
    Json functions = Json::array();
    for (unsigned fc = 1; fc < 256; ++fc) {
      const auto n = calls.requestCount(static_cast<std::uint8_t>(fc));
      if (n != 0) functions.push_back(Json{{"code", fc}, {"name", functionCodeSnakeName(static_cast<std::uint8_t>(fc))}, {"count", n}});
    }
    Json exceptions = Json::array();
    for (unsigned code = 1; code < 256; ++code) {
      const auto n = calls.exceptionCount(static_cast<std::uint8_t>(code));
      if (n != 0) exceptions.push_back(Json{{"code", code}, {"name", exceptionCodeName(static_cast<ExceptionCode>(code))}, {"count", n}});
    }
    Json devices = Json::array();
    for (std::uint8_t unit : sim.unitIds()) {
      const ControlBlock& control = sim.context()->find(unit)->control();
      devices.push_back(Json{{"unit", unit},
                             {"diagnostics", api_v1::diagnosticsJson(control)},
                             {"event_counter", control.eventCounter()},
                             {"diagnostic_register", control.diagnosticRegister()},
                             {"listen_only", control.listenOnly()}});
    }
    return api_v1::json(Json{{"requests_total", calls.totalRequests()},
                             {"connections_total", calls.connectionsSeen()},
                             {"function_codes", std::move(functions)},
                             {"exceptions", std::move(exceptions)},
                             {"devices", std::move(devices)}});
  });

  // --- the call stream ---
  route("GET", "/calls/stream", [this](http::Request& r) {
    CallStreamFilter filter;
    if (auto unit = r.queryParam("unit")) filter.unit = static_cast<std::uint8_t>(api_v1::wholeNumber(*unit, 0, 255, "unit"));
    if (auto fc = r.queryParam("function_code")) {
      filter.functionCode = static_cast<std::uint8_t>(api_v1::wholeNumber(*fc, 1, 255, "function_code"));
    }
    if (auto start = r.queryParam("address_start")) {
      filter.addressStart = static_cast<std::uint32_t>(api_v1::wholeNumber(*start, 0, 65535, "address_start"));
      filter.byAddress = true;
    }
    if (auto stop = r.queryParam("address_stop")) {
      filter.addressStop = static_cast<std::uint32_t>(api_v1::wholeNumber(*stop, 0, 65535, "address_stop"));
      filter.byAddress = true;
    }
    if (filter.addressStart > filter.addressStop) throw ApiError(400, "address_start is after address_stop");
    CallStream* stream = stream_.get();
    http::Response response = http::Response::events([stream, filter](std::shared_ptr<http::EventStream> events) {
      stream->subscribe(std::move(events), filter);
    });
    response.headers.set("Cache-Control", "no-cache");
    return response;
  });
}

SimulatorApiV1::~SimulatorApiV1() = default;

void SimulatorApiV1::route(const char* method, const std::string& pattern, http::Handler handler) {
  const std::string full = "/api/v1" + pattern;
  router_.add(method, full, std::move(handler));
  routes_.emplace_back(method, full);
}

std::size_t SimulatorApiV1::streamSubscribers() const { return stream_->subscribers(); }

http::Response SimulatorApiV1::handle(http::Request& request) {
  http::Response response;
  try {
    response = router_.handle(request);
  } catch (const ApiError& e) {
    return apiV1Error(e.status, e.what());
  } catch (const std::exception& e) {
    return apiV1Error(500, std::string("internal error: ") + e.what());
  }
  // The router's own refusals (404, 405 with Allow, 400 for a bad path) come as plain text.
  const auto type = response.headers.get("Content-Type");
  if (response.status >= 400 && !(type && type->rfind("application/json", 0) == 0)) {
    http::Response error = apiV1Error(
        response.status, response.status == 404 ? "no route " + request.method + " " + request.path
                                                 : std::string(http::statusReason(response.status)));
    if (auto allow = response.headers.get("Allow")) error.headers.set("Allow", std::string(*allow));
    return error;
  }
  return response;
}

http::Handler SimulatorApiV1::handler() {
  return [this](http::Request& request) { return handle(request); };
}

}  // namespace modbus
