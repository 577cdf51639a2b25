// Tests for bench/loadgen/latency_histogram: buckets, percentiles, overflow, merge.
#include "bench/loadgen/latency_histogram.h"

#include <doctest/doctest.h>

using bench::LatencyHistogram;

TEST_CASE("latency histogram of no samples reports zeros") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentileMicros(50) == 0.0);
  CHECK(h.maxMicros() == 0.0);
  CHECK(h.meanMicros() == 0.0);
}

TEST_CASE("latency histogram percentiles pick the bucket holding the rank") {
  LatencyHistogram h;
  for (int us = 1; us <= 100; ++us) h.record(static_cast<std::uint64_t>(us) * 1000 + 999);  // 1..100 µs
  CHECK(h.count() == 100);
  CHECK(h.percentileMicros(50) == 50.0);
  CHECK(h.percentileMicros(99) == 99.0);
  CHECK(h.percentileMicros(100) == 100.0);
  CHECK(h.percentileMicros(0) == 1.0);
  CHECK(h.maxMicros() == doctest::Approx(100.999));
  CHECK(h.meanMicros() == doctest::Approx(51.499));
}

TEST_CASE("latency histogram puts samples past one second in the overflow and keeps the exact max") {
  LatencyHistogram h;
  h.record(5'000);          // 5 µs
  h.record(3'000'000'000);  // 3 s
  CHECK(h.overflowCount() == 1);
  CHECK(h.percentileMicros(50) == 5.0);
  CHECK(h.percentileMicros(100) == doctest::Approx(3'000'000.0));
  CHECK(h.maxMicros() == doctest::Approx(3'000'000.0));
}

TEST_CASE("latency histogram merge adds counts and clear empties it") {
  LatencyHistogram a, b;
  a.record(10'000);
  b.record(20'000);
  b.record(30'000);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.percentileMicros(50) == 20.0);
  CHECK(a.maxMicros() == doctest::Approx(30.0));
  a.clear();
  CHECK(a.count() == 0);
  CHECK(a.percentileMicros(50) == 0.0);
}
