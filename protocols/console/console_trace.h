// The console's `trace on`: a ResponseHook that shows each request and its answer as they pass a
// server (TCP, TLS, UDP, serial), then lets the hook that was there before (the simulator's call monitor, say)
// decide how the answer leaves. Only set while a console session traces: the request path of a
// server nobody traces stays the hook-free one.
// Tests: tests/protocols/console/console_test.cc (trace cases), tests/integration/console_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocols/serving/response_hook.h"

namespace modbus {

class ConsoleTraceHook : public ResponseHook {
 public:
  using Sink = std::function<void(std::string_view line)>;
  /// `server` names the server in each line; `next` is the hook it stands in front of (may be null).
  ConsoleTraceHook(std::string server, std::shared_ptr<ResponseHook> next, Sink sink);

  ResponsePlan onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                          std::span<std::uint8_t> response, std::size_t& length) override;
  void fillJunk(std::span<std::uint8_t> bytes) override;

  const std::shared_ptr<ResponseHook>& next() const { return next_; }

  /// "trace SERVER unit U request 03 00 0a 00 02 answer 03 04 ..." (the line the sink gets).
  static std::string formatLine(std::string_view server, std::uint8_t unitId, std::span<const std::uint8_t> request,
                                std::span<const std::uint8_t> response, const ResponsePlan& plan);

 private:
  std::string server_;
  std::shared_ptr<ResponseHook> next_;
  Sink sink_;
};

}  // namespace modbus
