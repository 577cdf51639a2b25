// The helpers of the JSON configuration (see config_json.h).
#include "protocols/config/detail/config_json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

namespace modbus::config {

using Json = nlohmann::json;

std::string joinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string describeType(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::number_float: return "a fractional number";
    default: return "a number";
  }
}

std::optional<std::int64_t> parseIntText(std::string_view text, bool allowDecimal) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  } else if (!allowDecimal || text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size() ||
      value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}


void fail(const std::string& path, const std::string& problem) {
  throw ConfigError((path.empty() ? std::string("configuration") : path) + ": " + problem);
}

void expectObject(const nlohmann::json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!j.is_object()) fail(path, "expected an object, got " + describeType(j));
  if (allowed.size() == 0) return;
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (known) continue;
    std::string list;
    for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
    fail(joinPath(path, key), "unknown key (expected one of: " + list + ")");
  }
}

std::int64_t integer(const nlohmann::json& j, const std::string& path, std::int64_t min, std::int64_t max,
                     const std::string& what) {
  std::optional<std::int64_t> value;
  std::string shown = j.dump();
  if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    value = max < 0 || u > static_cast<std::uint64_t>(max) ? std::nullopt : std::optional<std::int64_t>(u);
  } else if (j.is_number_integer()) {
    value = j.get<std::int64_t>();
  } else if (j.is_string()) {
    shown = j.get<std::string>();
    value = parseIntText(shown, /*allowDecimal=*/false);
    if (!value) fail(path, "\"" + shown + "\" is not a number (write numbers without quotes, or hex as \"0x…\")");
  } else if (j.is_number_float()) {
    fail(path, shown + " is not a whole number");
  } else {
    fail(path, "expected " + what + " (" + std::to_string(min) + ".." + std::to_string(max) + "), got " + describeType(j));
  }
  if (!value || *value < min || *value > max) {
    fail(path, shown + " is not " + what + " (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return *value;
}

std::string readConfigFile(const std::string& path) {
  auto refuse = [&path](const std::string& problem) { throw ConfigError(path + ": " + problem); };
  const std::string tooLong = "is longer than " + std::to_string(kMaxConfigFileBytes >> 20) +
                              " MiB, the most a configuration file may be";
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) refuse(std::string("cannot read: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) refuse(std::string("cannot read: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) refuse("is a directory, not a configuration file");
  if (!S_ISREG(st.st_mode)) refuse("is not a regular file (a FIFO, a device or a socket); give a JSON file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxConfigFileBytes) refuse(tooLong);
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t used = 0;
  // Reads until end of file, one byte past the cap at most: the file may grow while we read.
  for (;;) {
    if (used == text.size()) text.resize(std::min(kMaxConfigFileBytes + 1, std::max<std::size_t>(4096, 2 * used)));
    ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse(std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > kMaxConfigFileBytes) refuse(tooLong);
  }
  text.resize(used);
  return text;
}

nlohmann::json parseJson(std::string_view text) {
  struct Frame {
    std::string path;
    bool isArray;
    std::size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto pathOfNewValue = [&stack]() -> std::string {
    if (stack.empty()) return {};
    const Frame& top = stack.back();
    return top.isArray ? top.path + "[" + std::to_string(top.index) + "]" : joinPath(top.path, top.key);
  };
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        // Checked as each level opens, so that 100 000 '[' cost microseconds, not a path each.
        if (stack.size() == kMaxJsonDepth) {
          std::string path = pathOfNewValue();
          throw ConfigError((path.empty() ? std::string("configuration") : path) + ": nested deeper than " +
                            std::to_string(kMaxJsonDepth) + " levels");
        }
        stack.push_back(Frame{pathOfNewValue(), event == Json::parse_event_t::array_start, 0, {}, {}});
        break;
      case Json::parse_event_t::key: {
        Frame& top = stack.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          throw ConfigError(joinPath(top.path, top.key) + ": duplicate key (each key may appear once)");
        }
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack.pop_back();
        if (!stack.empty() && stack.back().isArray) ++stack.back().index;
        break;
      case Json::parse_event_t::value:
        if (!stack.empty() && stack.back().isArray) ++stack.back().index;
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::out_of_range& e) {
    // A number beyond a double ("1e999"): nlohmann reports it as out_of_range, not parse_error.
    std::string what = e.what();
    auto at = what.find("number overflow");
    throw ConfigError("invalid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ...".
    std::string what = e.what();
    auto at = what.find("parse error");
    throw ConfigError("invalid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
}

}  // namespace modbus::config
