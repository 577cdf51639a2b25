// Prometheus's text exposition format (protocols/http/prometheus.h), byte by byte.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>

#include "protocols/http/prometheus.h"

using namespace http::prometheus;

TEST_CASE("prometheus: label values escape backslash, double quote and line feed, HELP text backslash and line feed") {
  CHECK(escapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escapeLabelValue("tcp:127.0.0.1:502") == "tcp:127.0.0.1:502");
  CHECK(escapeHelp("say \"x\"\\y\nz") == "say \"x\"\\\\y\\nz");
}

TEST_CASE("prometheus: values are integers as integers, others in their shortest exact form, infinities and NaN spelled out") {
  CHECK(formatValue(42) == "42");
  CHECK(formatValue(0.25) == "0.25");
  CHECK(formatValue(0.00005) == "5e-05");
  CHECK(formatValue(1.5e-3) == "0.0015");
  CHECK(formatValue(0.0001) == "0.0001");  // Go's %g: plain down to an exponent of -4
  CHECK(formatValue(-2.5) == "-2.5");
  CHECK(formatValue(1e21) == "1e+21");
  CHECK(formatValue(123456789.0) == "123456789");
  CHECK(formatValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(formatValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(formatValue(std::nan("")) == "NaN");
}

TEST_CASE("prometheus: a family is HELP then TYPE, then its samples with labels in the order given") {
  TextWriter out;
  out.family("modbus_requests_total", "counter", "Requests\nby code.");
  out.sample("modbus_requests_total", {{"server", "tcp:1"}, {"function_code", "3"}}, std::uint64_t{18446744073709551615u});
  out.sample("modbus_requests_total", {}, std::uint64_t{0});
  const std::array<Label, 1> one{{{"q", "a\"b"}}};
  out.sample("up", one, 0.5);
  CHECK(out.text() ==
        "# HELP modbus_requests_total Requests\\nby code.\n"
        "# TYPE modbus_requests_total counter\n"
        "modbus_requests_total{server=\"tcp:1\",function_code=\"3\"} 18446744073709551615\n"
        "modbus_requests_total 0\n"
        "up{q=\"a\\\"b\"} 0.5\n");
}

TEST_CASE("prometheus: a histogram's buckets are cumulative, end at +Inf, and _count equals the +Inf bucket") {
  TextWriter out;
  const std::array<Label, 1> labels{{{"server", "s"}}};
  const std::array<double, 2> bounds{0.1, 1};
  const std::array<std::uint64_t, 3> counts{1, 2, 3};
  out.histogram("lat_seconds", labels, bounds, counts, 4.5);
  CHECK(out.text() ==
        "lat_seconds_bucket{server=\"s\",le=\"0.1\"} 1\n"
        "lat_seconds_bucket{server=\"s\",le=\"1\"} 3\n"
        "lat_seconds_bucket{server=\"s\",le=\"+Inf\"} 6\n"
        "lat_seconds_sum{server=\"s\"} 4.5\n"
        "lat_seconds_count{server=\"s\"} 6\n");
  CHECK(out.take().size() > 0);
  CHECK(out.text().empty());
}
