// RequestMix: the --mix option ("3:10,16:10*2,1:100@500") parsed into request specs, and the
// weighted round-robin order the load generator cycles through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace bench {

/// One kind of request: function code, quantity, start address, and its weight in the mix.
struct RequestSpec {
  std::uint8_t function = 3;
  std::uint16_t quantity = 10;
  std::uint16_t address = 0;
  unsigned weight = 1;

  friend bool operator==(const RequestSpec&, const RequestSpec&) = default;
};

class MixError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Parses a comma-separated list of `FC:QTY[@ADDR][*WEIGHT]`. Supported function codes: 1, 2, 3,
/// 4 (reads), 5, 6 (single writes; QTY must be 1), 15, 16 (multiple writes). QTY is checked against
/// the spec's limits (2000 bits / 125 registers read, 1968 coils / 123 registers written) and
/// ADDR + QTY must not pass 65536. ADDR defaults to `defaultAddress`, WEIGHT to 1 (1..1000).
/// Throws MixError naming the bad item.
std::vector<RequestSpec> parseMix(std::string_view text, std::uint16_t defaultAddress = 0);

/// The order one cycle of the mix is sent in: smooth weighted round-robin, so "3:10*3,16:10"
/// yields indices {0, 0, 1, 0} — each index appears `weight` times, spread out rather than bunched.
std::vector<std::size_t> weightedSchedule(const std::vector<RequestSpec>& mix);

}  // namespace bench
