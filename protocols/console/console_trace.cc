// ConsoleTraceHook: one line per answered request, then the chained hook's plan.
#include "protocols/console/console_trace.h"

#include <utility>

namespace modbus {

namespace {

void appendHex(std::string& out, std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    out += ' ';
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
}

const char* planName(ResponsePlan::Kind kind) {
  switch (kind) {
    case ResponsePlan::Kind::Send: return "";
    case ResponsePlan::Kind::Silence: return " (silenced)";
    case ResponsePlan::Kind::Junk: return " (replaced by junk)";
    case ResponsePlan::Kind::Split: return " (split)";
    case ResponsePlan::Kind::Delay: return " (delayed)";
  }
  return "";
}

}  // namespace

ConsoleTraceHook::ConsoleTraceHook(std::string server, std::shared_ptr<ResponseHook> next, Sink sink)
    : server_(std::move(server)), next_(std::move(next)), sink_(std::move(sink)) {}

ResponsePlan ConsoleTraceHook::onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                          std::span<std::uint8_t> response, std::size_t& length) {
  ResponsePlan plan;
  // The hook behind us first: the line then shows the answer as it really leaves.
  if (next_) plan = next_->onResponse(unitId, request, response, length);
  if (sink_) sink_(formatLine(server_, unitId, request, response.first(length), plan));
  return plan;
}

void ConsoleTraceHook::fillJunk(std::span<std::uint8_t> bytes) {
  // Only a plan of the hook behind us asks for junk.
  if (next_) next_->fillJunk(bytes);
}

std::string ConsoleTraceHook::formatLine(std::string_view server, std::uint8_t unitId,
                                         std::span<const std::uint8_t> request, std::span<const std::uint8_t> response,
                                         const ResponsePlan& plan) {
  std::string line = "trace ";
  line += server;
  line += " unit " + std::to_string(unitId) + " request";
  appendHex(line, request);
  if (response.empty() || plan.kind == ResponsePlan::Kind::Silence) {
    line += " answer none";
  } else {
    line += " answer";
    appendHex(line, response);
  }
  line += planName(plan.kind);
  return line;
}

}  // namespace modbus
