// askResponseHook: the exception and length rules of response_hook.h, shared by the UDP and serial
// protocols. Tests: tests/protocols/serving/response_hook_test.cc
#include "protocols/serving/response_hook.h"

#include <algorithm>
#include <exception>

#include "reactor/log.h"

namespace modbus {

ResponsePlan askResponseHook(ResponseHook& hook, std::uint8_t unitId, std::span<const std::uint8_t> request,
                             std::span<std::uint8_t> response, std::size_t& length, const char* transport) {
  const std::size_t original = length;
  try {
    ResponsePlan plan = hook.onResponse(unitId, request, response, length);
    length = std::min(length, response.size());
    return plan;
  } catch (const std::exception& e) {
    reactor::log::error(transport, " response hook failed: ", e.what(), "; the answer goes out unchanged");
    length = original;
    return ResponsePlan{};
  }
}

}  // namespace modbus
