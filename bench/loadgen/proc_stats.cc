// ProcStats: parsing of /proc/PID/stat (utime, stime) and /proc/PID/status (VmRSS, VmHWM).
#include "bench/loadgen/proc_stats.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace bench {
namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

std::optional<double> parseStatCpuSeconds(std::string_view statText, long ticksPerSecond) {
  auto close = statText.rfind(')');
  if (close == std::string_view::npos || ticksPerSecond <= 0) return std::nullopt;
  // After ") " come field 3 (state) onwards; utime and stime are fields 14 and 15.
  std::string_view rest = statText.substr(close + 1);
  int field = 2;
  std::uint64_t utime = 0, stime = 0;
  bool haveU = false, haveS = false;
  std::size_t pos = 0;
  while (pos < rest.size() && !(haveU && haveS)) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    std::size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    if (end == pos) break;
    ++field;
    if (field == 14 || field == 15) {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(rest.data() + pos, rest.data() + end, v);
      if (ec != std::errc() || p != rest.data() + end) return std::nullopt;
      (field == 14 ? utime : stime) = v;
      (field == 14 ? haveU : haveS) = true;
    }
    pos = end;
  }
  if (!haveU || !haveS) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(ticksPerSecond);
}

std::optional<std::uint64_t> parseStatusKb(std::string_view statusText, std::string_view key) {
  std::size_t pos = 0;
  while (pos < statusText.size()) {
    std::size_t end = statusText.find('\n', pos);
    if (end == std::string_view::npos) end = statusText.size();
    std::string_view line = statusText.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view value = line.substr(key.size() + 1);
      std::size_t digits = value.find_first_of("0123456789");
      if (digits == std::string_view::npos) return std::nullopt;
      std::uint64_t kb = 0;
      auto [p, ec] = std::from_chars(value.data() + digits, value.data() + value.size(), kb);
      if (ec != std::errc()) return std::nullopt;
      (void)p;
      return kb;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<ProcSample> sampleProcess(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  auto stat = slurp(base + "/stat");
  auto status = slurp(base + "/status");
  if (!stat || !status) return std::nullopt;
  auto cpu = parseStatCpuSeconds(*stat, sysconf(_SC_CLK_TCK));
  auto rss = parseStatusKb(*status, "VmRSS");
  auto hwm = parseStatusKb(*status, "VmHWM");
  if (!cpu || !rss || !hwm) return std::nullopt;
  return ProcSample{*cpu, *rss, *hwm};
}

}  // namespace bench
