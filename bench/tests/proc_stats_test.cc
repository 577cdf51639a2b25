// Tests for bench/loadgen/proc_stats: /proc/PID/stat and /proc/PID/status parsing.
#include "bench/loadgen/proc_stats.h"

#include <doctest/doctest.h>
#include <unistd.h>

TEST_CASE("stat parsing counts fields after the last parenthesis of the command name") {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  std::string_view stat = "42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 5 1000 200";
  auto cpu = bench::parseStatCpuSeconds(stat, 100);
  REQUIRE(cpu.has_value());
  CHECK(*cpu == doctest::Approx(4.0));
  CHECK_FALSE(bench::parseStatCpuSeconds("42 (x) S 1 2", 100).has_value());
  CHECK_FALSE(bench::parseStatCpuSeconds("garbage", 100).has_value());
}

TEST_CASE("status parsing reads the kB value of a key") {
  std::string_view status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1632 kB\nVmRSS:\t    1500 kB\n";
  CHECK(bench::parseStatusKb(status, "VmHWM").value_or(0) == 1632u);
  CHECK(bench::parseStatusKb(status, "VmRSS").value_or(0) == 1500u);
  CHECK_FALSE(bench::parseStatusKb(status, "VmSwap").has_value());
  CHECK_FALSE(bench::parseStatusKb(status, "Vm").has_value());
}

TEST_CASE("sampling this process gives a resident size and a peak at least as large") {
  auto sample = bench::sampleProcess(getpid());
  REQUIRE(sample.has_value());
  CHECK(sample->rssKb > 0);
  CHECK(sample->hwmKb >= sample->rssKb);
  CHECK(sample->cpuSeconds >= 0.0);
  CHECK_FALSE(bench::sampleProcess(0x7FFFFFF0).has_value());
}
