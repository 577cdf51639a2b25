// ProcStats: another process's CPU time and memory, read from /proc/PID/stat and /proc/PID/status.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <sys/types.h>

namespace bench {

/// One snapshot of a process.
struct ProcSample {
  double cpuSeconds = 0;      ///< utime + stime, all threads
  std::uint64_t rssKb = 0;    ///< VmRSS: resident now
  std::uint64_t hwmKb = 0;    ///< VmHWM: peak resident so far
};

/// Reads /proc/PID/stat and /proc/PID/status; nullopt when the process is gone or unreadable.
std::optional<ProcSample> sampleProcess(pid_t pid);

/// utime + stime in seconds from the text of /proc/PID/stat (the command name may hold spaces and
/// parentheses: fields are counted after the last ')'). nullopt when malformed.
std::optional<double> parseStatCpuSeconds(std::string_view statText, long ticksPerSecond);
/// The kB value of `key` ("VmRSS", "VmHWM") in the text of /proc/PID/status; nullopt if absent.
std::optional<std::uint64_t> parseStatusKb(std::string_view statusText, std::string_view key);

}  // namespace bench
