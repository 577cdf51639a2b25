// Prometheus's text exposition format (version 0.0.4), written by hand: HELP and TYPE lines, samples
// with labels, and histograms as cumulative _bucket{le=...} series with _sum and _count. Knows no
// Modbus (protocols/servers/server_metrics.h says what a Modbus server exposes) and does no I/O.
// Rules kept (https://prometheus.io/docs/instrumenting/exposition_formats/):
// - every family is announced once, HELP then TYPE, before its samples;
// - label values escape backslash, double quote and line feed; HELP text escapes backslash and line feed;
// - integers are written as integers; other values in the shortest form that reads back the same,
//   with +Inf, -Inf and NaN spelled as Prometheus spells them;
// - a histogram's buckets are cumulative, end with le="+Inf", and that bucket equals _count.
// Tests: tests/protocols/http/prometheus_test.cc
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace http::prometheus {

/// The Content-Type of a scrape's answer.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Label {
  std::string_view name;
  std::string_view value;
};

/// `value` with \ " and line feed escaped, for a label value.
std::string escapeLabelValue(std::string_view value);
/// `text` with \ and line feed escaped, for a HELP line.
std::string escapeHelp(std::string_view text);
/// "42", "0.25", "5e-05", "+Inf", "-Inf", "NaN".
std::string formatValue(double value);

class TextWriter {
 public:
  /// "# HELP name help" and "# TYPE name type" (counter, gauge, histogram, untyped).
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// "name{a="x",b="y"} value"; no braces without labels.
  void sample(std::string_view name, std::span<const Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  /// The samples of one histogram (its family announced already): `counts` holds bounds.size() + 1
  /// per-bucket counts (the last one above every bound), written cumulatively; `sum` in the
  /// histogram's unit.
  void histogram(std::string_view name, std::span<const Label> labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, double sum);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void writeLabels(std::span<const Label> labels, const Label* extra);
  std::string out_;
};

}  // namespace http::prometheus
