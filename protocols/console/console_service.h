// ConsoleService: the debug console as a twisted-style Service (reactor/service.h), for a
// MultiService / Application that runs Modbus and the console together (samples/14_application.cc).
// startService opens the console as its settings say (startConsole: the token file read or
// generated, the endpoint checked, one log line saying where it listens); stopService closes it and
// its sessions and returns a fired Deferred. Reactor thread only.
// Tests: tests/protocols/console/console_service_test.cc, tests/integration/service_command_test.cc
#pragma once

#include <memory>
#include <optional>

#include "protocols/console/console_server.h"
#include "protocols/servers/console_settings.h"
#include "reactor/address.h"
#include "reactor/defer.h"
#include "reactor/service.h"

namespace modbus {

class ConsoleService : public reactor::Service {
 public:
  /// A console on `target` (target.reactor must be set); `settings.enabled` is not looked at. Named
  /// "console" (setName may change it before it has a parent).
  ConsoleService(ConsoleSettings settings, ConsoleTarget target);
  ~ConsoleService() override;

  /// Starts listening. Throws what startConsole throws (ConsoleError, reactor::EndpointError,
  /// reactor::CannotListenError); the service then stays stopped.
  void startService() override;
  /// Stops listening and closes every session; the Deferred has fired.
  reactor::Deferred<void> stopService() override;

  /// The console once started (still there, not listening, after a stop), else null.
  ConsoleServer* server() const { return server_.get(); }
  /// Where it listens while running.
  std::optional<reactor::Address> address() const;

 private:
  ConsoleSettings settings_;
  ConsoleTarget target_;
  std::unique_ptr<ConsoleServer> server_;
};

}  // namespace modbus
