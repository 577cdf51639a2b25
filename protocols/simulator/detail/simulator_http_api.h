// The simulator's four pymodbus views as JSON in, JSON out: what POST /restapi/<view> answers and
// what GET /api/<view> renders as HTML (the page's query parameters are the same fields). In detail/
// (not installed): it speaks nlohmann::json.
// Rules (pymodbus's shapes, docs/simulator.md "HTTP"):
// - Every answer has "result": "ok", or "result": "error" with "error" (the message) and nothing
//   else of the view; row values are strings, as pymodbus sends them.
// - Numbers are accepted as JSON numbers or as strings ("16"), flags as true/false, "on", "1"
//   (a checked HTML checkbox), so the page's query and a script's JSON share one reader.
// - "range_stop" and "range_end" are the same field (pymodbus's code reads the first, its
//   documentation the second).
// Tests: tests/protocols/simulator/simulator_http_test.cc
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace modbus {

class SimulatorServer;
class LogRing;

namespace simulator_http {

using Json = nlohmann::json;

/// Thrown for a missing or malformed field; becomes {"result": "error", "error": message}.
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The views. `params` is a JSON object of the request's fields.
Json registersView(SimulatorServer& simulator, const Json& params);
Json callsView(SimulatorServer& simulator, const Json& params);
Json logView(LogRing* log, const Json& params);
Json serverView(SimulatorServer& simulator, const Json& params);

/// The HTML page of a view (simulator_http_pages.cc): its forms filled from `params`, then
/// `result` (what the view answered) as tables. `refresh` > 0 adds a <meta refresh> of that many seconds.
std::string renderPage(const std::string& view, const Json& params, const Json& result, int refresh);
/// The start page: links to the four views.
std::string renderIndex();
/// `text` with &, <, >, " and ' escaped for HTML.
std::string escapeHtml(std::string_view text);

/// {"result": "error", "error": message}
Json errorResult(const std::string& message);

// Field readers (FieldError naming the field for a value of the wrong kind).
std::optional<long long> intField(const Json& params, const char* name);
std::optional<double> numberField(const Json& params, const char* name);
bool flagField(const Json& params, const char* name);
std::optional<std::string> stringField(const Json& params, const char* name);

}  // namespace simulator_http
}  // namespace modbus
