// ConsoleService: startConsole in startService, stopListening in stopService.
#include "protocols/console/console_service.h"

#include <stdexcept>
#include <utility>

#include "protocols/console/console_start.h"

namespace modbus {

ConsoleService::ConsoleService(ConsoleSettings settings, ConsoleTarget target)
    : Service("console"), settings_(std::move(settings)), target_(std::move(target)) {
  if (target_.reactor == nullptr) throw std::invalid_argument("ConsoleService: the target has no reactor");
}

ConsoleService::~ConsoleService() = default;

void ConsoleService::startService() {
  if (running()) return;
  server_.reset();  // a console of an earlier run (stopped): no session of it is running a command now
  server_ = startConsole(settings_, target_);
  Service::startService();
}

std::optional<reactor::Address> ConsoleService::address() const {
  return running() && server_ ? server_->address() : std::nullopt;
}

reactor::Deferred<void> ConsoleService::stopService() {
  if (server_) {
    server_->stopListening();
    // Kept until the next start or the service's end: a session's own command (shutdown) may be the
    // reason we stop, and its console is still on the stack below us.
  }
  return Service::stopService();
}

}  // namespace modbus
