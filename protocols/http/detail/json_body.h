// JSON request and response bodies with nlohmann-json. In detail/ (not installed): the installed
// headers do not include nlohmann, which the package does not provide to its consumers.
// Tests: tests/protocols/http/router_test.cc
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "protocols/http/http_message.h"

namespace http {

/// 200 (or `status`) with `value` as "application/json".
inline Response jsonResponse(const nlohmann::json& value, int status = 200) {
  // Invalid UTF-8 in a string is replaced rather than thrown about.
  return Response::text(status, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json");
}

/// The request's body as JSON, or nullopt when it is not JSON (answer 400 then).
inline std::optional<nlohmann::json> parseJsonBody(const Request& request) {
  auto value = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

/// {"error": message} with `status`.
inline Response jsonError(int status, const std::string& message) {
  return jsonResponse(nlohmann::json{{"error", message}}, status);
}

}  // namespace http
