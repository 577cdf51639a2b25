// The debug console listening: an endpoint string (serverFromString), which must be a loopback
// "tcp:"/"tcp6:" address or a "unix:" socket, a token, and a Console on a ConsoleTarget.
// Rules:
// - checkConsoleEndpoint() refuses, at configuration time, any endpoint that could be reached from
//   another machine: a tcp: without interface= (every address), a non-loopback interface, udp:,
//   tls:, serial:. "unix:PATH" passes (its mode is the unix: endpoint's, 0600 by default).
// - The token is read once, when the server is built (ConsoleError names the file).
// Tests: tests/protocols/console/console_service_test.cc, tests/integration/console_test.cc
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/console/console.h"
#include "protocols/console/console_protocol.h"
#include "protocols/console/console_token.h"
#include "reactor/address.h"
#include "reactor/interfaces.h"

namespace reactor {
class Reactor;
}

namespace modbus {

/// Throws reactor::EndpointError unless `endpoint` is a unix: socket or a tcp:/tcp6: endpoint on a
/// loopback interface (127.0.0.0/8, ::1), saying why.
void checkConsoleEndpoint(std::string_view endpoint);

class ConsoleServer {
 public:
  /// A console on `target` that accepts `token`. `target.reactor` must be set.
  ConsoleServer(ConsoleTarget target, std::string token, ConsoleOptions options = {});
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  /// Listens on `endpoint` (checkConsoleEndpoint first) and returns the bound address. Throws
  /// reactor::EndpointError or reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  /// Stops listening and closes every session.
  void stopListening();
  /// Where it listens, or nullopt when it does not.
  std::optional<reactor::Address> address() const;

  Console& console() { return *console_; }
  ConsoleFactory& factory() { return *factory_; }

 private:
  reactor::Reactor& reactor_;
  std::unique_ptr<Console> console_;
  std::shared_ptr<ConsoleFactory> factory_;
  std::shared_ptr<reactor::IListeningPort> port_;
};

}  // namespace modbus
