// LogRing: the kept log lines (see the header).
#include "protocols/simulator/log_ring.h"

#include <chrono>
#include <ctime>

namespace modbus {

std::string isoTime(double unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return stamp;
}

LogRing::~LogRing() {
  if (installed_) reactor::log::setSink(std::move(previous_));
}

void LogRing::install(reactor::log::Sink next) {
  previous_ = next;
  installed_ = true;
  reactor::log::setSink([this, next = std::move(next)](reactor::log::Level level, std::string_view text) {
    add(level, text);
    if (next) {
      next(level, text);
    } else {
      reactor::log::writeToStderr(level, text);
    }
  });
}

void LogRing::add(reactor::log::Level level, std::string_view text) {
  LogLine line;
  line.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  line.level = level;
  line.text.assign(text.substr(0, kMaxLineBytes));
  std::lock_guard lock(mutex_);
  line.number = next_++;
  lines_.push_back(std::move(line));
  while (lines_.size() > capacity_) lines_.pop_front();
}

std::vector<LogLine> LogRing::newestFirst() const {
  std::lock_guard lock(mutex_);
  return std::vector<LogLine>(lines_.rbegin(), lines_.rend());
}

std::string LogRing::download() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const LogLine& line : lines_) {
    out += isoTime(line.time);
    out += ' ';
    std::string level = reactor::log::toString(line.level);
    level.resize(8, ' ');
    out += level;
    out += line.text;
    out += '\n';
  }
  return out;
}

void LogRing::clear() {
  std::lock_guard lock(mutex_);
  lines_.clear();
}

std::size_t LogRing::size() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

}  // namespace modbus
