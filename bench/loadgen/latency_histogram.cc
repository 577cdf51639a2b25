// LatencyHistogram: flat 1 µs buckets up to 1 s plus an overflow bucket.
#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace bench {

LatencyHistogram::LatencyHistogram() : buckets_(kMaxMicros + 1, 0) {}

void LatencyHistogram::record(std::uint64_t nanos) noexcept {
  std::uint64_t micros = nanos / 1000;
  if (micros <= kMaxMicros) {
    ++buckets_[micros];
  } else {
    ++overflow_;
  }
  ++count_;
  sumNanos_ += static_cast<long double>(nanos);
  maxNanos_ = std::max(maxNanos_, nanos);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  overflow_ += other.overflow_;
  sumNanos_ += other.sumNanos_;
  maxNanos_ = std::max(maxNanos_, other.maxNanos_);
}

void LatencyHistogram::clear() noexcept {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = overflow_ = maxNanos_ = 0;
  sumNanos_ = 0;
}

double LatencyHistogram::meanMicros() const noexcept {
  if (count_ == 0) return 0.0;
  return static_cast<double>(sumNanos_ / static_cast<long double>(count_) / 1000.0L);
}

double LatencyHistogram::percentileMicros(double percent) const noexcept {
  if (count_ == 0) return 0.0;
  percent = std::clamp(percent, 0.0, 100.0);
  // The rank (1-based) of the sample that answers: at least `percent`% are at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return static_cast<double>(i);
  }
  return maxMicros();
}

}  // namespace bench
