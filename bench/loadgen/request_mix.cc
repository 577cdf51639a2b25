// RequestMix: parsing of --mix and the smooth weighted round-robin schedule.
#include "bench/loadgen/request_mix.h"

#include <charconv>
#include <string>

namespace bench {
namespace {

unsigned long parseNumber(std::string_view item, std::string_view field, const char* what, unsigned long max) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size() || value > max) {
    throw MixError("bad " + std::string(what) + " in mix item '" + std::string(item) + "'");
  }
  return value;
}

unsigned maxQuantity(std::uint8_t function) {
  switch (function) {
    case 1:
    case 2: return 2000;
    case 3:
    case 4: return 125;
    case 5:
    case 6: return 1;
    case 15: return 1968;
    case 16: return 123;
    default: return 0;
  }
}

RequestSpec parseItem(std::string_view item, std::uint16_t defaultAddress) {
  RequestSpec spec;
  spec.address = defaultAddress;
  std::string_view rest = item;
  if (auto star = rest.find('*'); star != std::string_view::npos) {
    spec.weight = static_cast<unsigned>(parseNumber(item, rest.substr(star + 1), "weight", 1000));
    if (spec.weight == 0) throw MixError("weight 0 in mix item '" + std::string(item) + "'");
    rest = rest.substr(0, star);
  }
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    spec.address = static_cast<std::uint16_t>(parseNumber(item, rest.substr(at + 1), "address", 65535));
    rest = rest.substr(0, at);
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) throw MixError("mix item '" + std::string(item) + "' is not FC:QTY");
  spec.function = static_cast<std::uint8_t>(parseNumber(item, rest.substr(0, colon), "function code", 255));
  unsigned max = maxQuantity(spec.function);
  if (max == 0) throw MixError("unsupported function code in mix item '" + std::string(item) + "'");
  spec.quantity = static_cast<std::uint16_t>(parseNumber(item, rest.substr(colon + 1), "quantity", 65535));
  if (spec.quantity == 0 || spec.quantity > max) {
    throw MixError("quantity out of range (1.." + std::to_string(max) + ") in mix item '" + std::string(item) + "'");
  }
  if (static_cast<unsigned>(spec.address) + spec.quantity > 65536u) {
    throw MixError("address + quantity past 65536 in mix item '" + std::string(item) + "'");
  }
  return spec;
}

}  // namespace

std::vector<RequestSpec> parseMix(std::string_view text, std::uint16_t defaultAddress) {
  std::vector<RequestSpec> mix;
  while (true) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) throw MixError("empty item in mix");
    mix.push_back(parseItem(item, defaultAddress));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return mix;
}

std::vector<std::size_t> weightedSchedule(const std::vector<RequestSpec>& mix) {
  // nginx's smooth weighted round-robin: each step every entry gains its weight, the richest is
  // picked and pays the total back.
  long total = 0;
  for (const auto& s : mix) total += s.weight;
  std::vector<long> current(mix.size(), 0);
  std::vector<std::size_t> order;
  order.reserve(static_cast<std::size_t>(total));
  for (long step = 0; step < total; ++step) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < mix.size(); ++i) {
      current[i] += mix[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    order.push_back(best);
  }
  return order;
}

}  // namespace bench
