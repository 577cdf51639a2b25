// CallStream: filters, the event's JSON, and the subscriber list (see the header's rules).
#include "protocols/simulator/simulator_call_stream.h"

#include <algorithm>
#include <utility>

#include "protocols/simulator/detail/simulator_api_v1_detail.h"

namespace modbus {

bool CallStreamFilter::passes(std::uint8_t unitId, std::span<const std::uint8_t> request) const {
  if (request.empty()) return false;
  if (unit && *unit != unitId) return false;
  if (functionCode && *functionCode != request[0]) return false;
  if (!byAddress) return true;
  const auto range = requestRange(request);
  if (!range) return false;
  const std::uint32_t first = range->first, last = range->first + std::max<std::uint32_t>(range->second, 1) - 1;
  return first <= addressStop && last >= addressStart;
}

std::string callEventJson(double epochSeconds, std::uint8_t unitId, std::span<const std::uint8_t> request,
                          std::span<const std::uint8_t> response, const ResponsePlan& plan) {
  using api_v1::Json;
  Json event{{"time", api_v1::isoTime(epochSeconds)},
             {"unit", unitId},
             {"function_code", request[0]},
             {"function", functionCodeSnakeName(request[0])},
             {"address", nullptr},
             {"count", nullptr},
             {"request", {{"hex", hexBytes(request)}, {"decoded", decodePdu(false, request)}}},
             {"response", nullptr}};
  if (auto range = requestRange(request)) {
    event["address"] = range->first;
    event["count"] = range->second;
  }
  const char* delivery = "normal";
  switch (plan.kind) {
    case ResponsePlan::Kind::Send: break;
    case ResponsePlan::Kind::Silence: delivery = "silence"; break;
    case ResponsePlan::Kind::Junk: delivery = "junk"; break;
    case ResponsePlan::Kind::Split: delivery = "split"; break;
    case ResponsePlan::Kind::Delay: delivery = "delay"; break;
  }
  if (response.empty() && plan.kind == ResponsePlan::Kind::Send) delivery = "silence";  // nothing was to be sent
  event["delivery"] = delivery;
  if (plan.kind == ResponsePlan::Kind::Junk) event["junk_bytes"] = plan.junkBytes;
  if (plan.kind == ResponsePlan::Kind::Split || plan.kind == ResponsePlan::Kind::Delay) event["delay"] = plan.delay;
  if (!response.empty() && plan.kind != ResponsePlan::Kind::Silence && plan.kind != ResponsePlan::Kind::Junk) {
    event["response"] = Json{{"hex", hexBytes(response)}, {"decoded", decodePdu(true, response)}};
  }
  return event.dump(-1, ' ', false, Json::error_handler_t::replace);
}

CallStream::CallStream(SimulatorCalls& calls) : calls_(calls), self_(std::make_shared<CallStream*>(this)) {}

CallStream::~CallStream() {
  if (calls_.tap() == this) calls_.setTap(nullptr);
  for (Subscriber& s : subscribers_) s.stream->close();
}

void CallStream::subscribe(std::shared_ptr<http::EventStream> stream, CallStreamFilter filter) {
  if (!stream || stream->closed()) return;
  std::weak_ptr<CallStream*> self = self_;
  stream->onClose([self] {
    if (auto s = self.lock()) {
      if (!(*s)->dispatching_) (*s)->prune();
    }
  });
  if (!stream->comment("subscribed")) return;
  subscribers_.push_back(Subscriber{std::move(stream), filter});
  calls_.setTap(this);
}

void CallStream::onCall(std::uint8_t unitId, std::span<const std::uint8_t> request,
                        std::span<const std::uint8_t> response, const ResponsePlan& plan) {
  std::string text;  // formatted for the first client that takes the call, then shared
  dispatching_ = true;
  for (std::size_t i = 0; i < subscribers_.size(); ++i) {
    Subscriber& s = subscribers_[i];
    if (s.stream->closed() || !s.filter.passes(unitId, request)) continue;
    if (text.empty()) text = callEventJson(api_v1::wallSeconds(), unitId, request, response, plan);
    s.stream->send(text, "call");  // false: it was cut off or has gone; pruned below
  }
  dispatching_ = false;
  prune();
}

void CallStream::prune() {
  std::erase_if(subscribers_, [](const Subscriber& s) { return s.stream->closed(); });
  if (subscribers_.empty() && calls_.tap() == this) calls_.setTap(nullptr);
}

}  // namespace modbus
