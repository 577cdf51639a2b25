// LatencyHistogram: 1 µs buckets up to 1 s (HDR-like, but flat), for the load generator's latencies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

/// Counts latencies in 1 µs buckets from 0 to kMaxMicros; anything longer lands in one overflow
/// bucket (its exact value still updates max()). Allocated once (4 MB); record() never allocates.
class LatencyHistogram {
 public:
  static constexpr std::uint64_t kMaxMicros = 1'000'000;  ///< the last exact bucket is 1 s

  LatencyHistogram();

  /// Adds one sample of `nanos` nanoseconds (rounded down to whole microseconds).
  void record(std::uint64_t nanos) noexcept;
  /// Adds every sample of `other`.
  void merge(const LatencyHistogram& other) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Samples longer than kMaxMicros.
  std::uint64_t overflowCount() const noexcept { return overflow_; }
  /// Largest sample in µs (exact, even past 1 s); 0 when empty.
  double maxMicros() const noexcept { return static_cast<double>(maxNanos_) / 1000.0; }
  /// Mean in µs; 0 when empty.
  double meanMicros() const noexcept;
  /// The smallest bucket value v (µs) such that at least `percent`% of samples are <= v.
  /// percent in [0, 100]. When the rank falls into the overflow bucket, returns maxMicros().
  /// 0 when empty.
  double percentileMicros(double percent) const noexcept;

 private:
  std::vector<std::uint32_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t overflow_ = 0;
  std::uint64_t maxNanos_ = 0;
  long double sumNanos_ = 0;
};

}  // namespace bench
