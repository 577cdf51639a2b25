// The debug console's token: read from a file only its owner can read, or generated into a new
// such file (Start*Server's console=true without a token file). The first line a console client
// sends is compared with it in constant time.
// Rules: a token file readable or writable by group or others is refused, naming the file and its
// mode (an ssh-style check: a token others can read protects nothing); an empty token is refused;
// a generated token is 32 random bytes (getrandom) as 64 hex digits.
// Tests: tests/protocols/console/console_token_test.cc
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace modbus {

/// The console cannot start: a token file that is missing, empty or too open; an endpoint that is
/// not loopback or unix:. what() names the file or the endpoint.
class ConsoleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The token in `path` (its first line, without the line end). Throws ConsoleError when the file
/// cannot be read, is not a regular file, has any group or other permission bit, or holds no token.
std::string readConsoleToken(const std::string& path);

/// A new random token written to a new file (mode 0600) in a new directory (mode 0700) under
/// $XDG_RUNTIME_DIR, or /tmp when unset: returns the file's path and sets `token`.
/// Throws ConsoleError when no directory or file can be made.
std::string createConsoleTokenFile(std::string& token);

/// `given` equals `expected`, compared in time that depends on their lengths only.
bool consoleTokenMatches(std::string_view expected, std::string_view given) noexcept;

}  // namespace modbus
