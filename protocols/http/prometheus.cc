// Prometheus's text exposition format: escaping, numbers, families, samples, histograms.
#include "protocols/http/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace http::prometheus {

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest digits that read back the same value, in Go's %g layout (what client_golang writes
  // for le="..."): plain decimals unless the exponent is below -4 ("5e-05"), and, to keep counts and
  // sums readable, up to 1e21 rather than Go's 1e6.
  char buffer[64];
  auto r = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  if (r.ec != std::errc()) return "NaN";
  const std::string scientific(buffer, r.ptr);
  const int exponent = std::atoi(scientific.c_str() + scientific.find('e') + 1);
  if (exponent < -4 || exponent >= 21) return scientific;
  r = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  if (r.ec != std::errc()) return scientific;
  return std::string(buffer, r.ptr);
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::writeLabels(std::span<const Label> labels, const Label* extra) {
  if (labels.empty() && extra == nullptr) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.name;
    out_ += "=\"";
    out_ += escapeLabelValue(l.value);
    out_ += '"';
  };
  for (const Label& l : labels) one(l);
  if (extra != nullptr) one(*extra);
  out_ += '}';
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, std::uint64_t value) {
  out_ += name;
  writeLabels(labels, nullptr);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  out_ += name;
  writeLabels(labels, nullptr);
  out_ += ' ';
  out_ += formatValue(value);
  out_ += '\n';
}

void TextWriter::histogram(std::string_view name, std::span<const Label> labels, std::span<const double> bounds,
                           std::span<const std::uint64_t> counts, double sum) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    if (i < counts.size()) cumulative += counts[i];
    const std::string le = i < bounds.size() ? formatValue(bounds[i]) : "+Inf";
    const Label extra{"le", le};
    out_ += bucket;
    writeLabels(labels, &extra);
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace http::prometheus
