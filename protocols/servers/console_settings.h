// What a Start*Server helper's `console=true` asks for (pymodbus 1.x's StartTcpServer(console=True)):
// plain data, read by runUntilShutdown (start_server.h), which opens the debug console of
// protocols/console/ next to the server. Safe by default: loopback or a unix: socket only, and a token.
// Tests: tests/integration/console_test.cc
#pragma once

#include <string>

namespace modbus {

struct ConsoleSettings {
  /// Open the debug console next to the server (off by default).
  bool enabled = false;
  /// Where it listens: a loopback "tcp:"/"tcp6:" endpoint or a "unix:" socket; anything else is
  /// refused. Port 0 picks a free port; the bound address is logged.
  std::string endpoint = "tcp:0:interface=127.0.0.1";
  /// A file holding the token (mode 0600 or stricter). Empty: a random token is written to a new
  /// 0600 file in a new 0700 directory under $XDG_RUNTIME_DIR (else /tmp), and its path logged.
  std::string tokenFile;
};

}  // namespace modbus
