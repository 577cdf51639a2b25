// Console token files: read with a permission check, or generated.
#include "protocols/console/console_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace modbus {

namespace {

std::string octalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

/// Closes a descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string readConsoleToken(const std::string& path) {
  // O_NOFOLLOW: the mode checked is the file's own, not a symlink's target chosen by someone else.
  Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.fd < 0) throw ConsoleError("console token file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw ConsoleError("console token file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ConsoleError("console token file " + path + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    throw ConsoleError("console token file " + path + " has mode " + octalMode(st.st_mode) +
                       ": it must not be readable or writable by group or others (chmod 600 " + path + ")");
  }
  std::string text;
  std::array<char, 512> chunk{};
  // A token is one short line; a bound keeps a mistaken path (a huge file) from being read whole.
  while (text.size() < 4096) {
    ssize_t n = ::read(f.fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConsoleError("console token file " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  std::string token = text.substr(0, text.find('\n'));
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (token.empty()) throw ConsoleError("console token file " + path + " holds no token (its first line is empty)");
  return token;
}

std::string createConsoleTokenFile(std::string& token) {
  std::array<unsigned char, 32> random{};
  std::size_t got = 0;
  while (got < random.size()) {
    ssize_t n = ::getrandom(random.data() + got, random.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConsoleError(std::string("console token: getrandom: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  token.clear();
  for (unsigned char b : random) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string base = runtime != nullptr && *runtime != '\0' ? runtime : "/tmp";
  std::string dir = base + "/uvmodbus-console-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {  // mkdtemp makes it 0700
    throw ConsoleError("console token: cannot make a directory under " + base + ": " + std::strerror(errno));
  }
  std::string path = dir + "/token";
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (f.fd < 0) throw ConsoleError("console token file " + path + ": " + std::strerror(errno));
  std::string line = token + "\n";
  if (::write(f.fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw ConsoleError("console token file " + path + ": cannot write it: " + std::strerror(errno));
  }
  return path;
}

bool consoleTokenMatches(std::string_view expected, std::string_view given) noexcept {
  // Every byte of the longer string is looked at whatever the first difference: the time says
  // nothing about how much of a guess was right.
  std::size_t n = expected.size() > given.size() ? expected.size() : given.size();
  unsigned diff = expected.size() == given.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char a = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    unsigned char b = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0 && !expected.empty();
}

}  // namespace modbus
