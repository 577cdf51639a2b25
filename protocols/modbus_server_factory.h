// Port of pymodbus's ModbusServerFactory (server/async.py): one per listening server, holding the
// datastore, the request processor and the options across every connection.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_set>

#include "datastore/server_context.h"
#include "protocols/request_processor.h"
#include "protocols/server_options.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class ModbusTcpProtocol;

class ModbusServerFactory : public reactor::ServerFactory {
 public:
  ModbusServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options = {});

  /// A ModbusTcpProtocol, or nullptr (refused) when maxConnections are open.
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address& addr) override;

  RequestProcessor& processor() { return processor_; }
  ServerContext& context() { return *context_; }
  const std::shared_ptr<ServerContext>& contextPtr() const { return context_; }
  const ServerOptions& options() const { return options_; }

  std::size_t connectionCount() const { return connections_.size(); }
  /// loseConnection on every open connection (the server is shutting down).
  void loseAllConnections();

  /// The clock idle timeouts use (the server's reactor); without one, idleTimeout is not enforced.
  void setClock(reactor::IReactorTime* clock) { clock_ = clock; }
  reactor::IReactorTime* clock() const { return clock_; }

  // Called by the protocols.
  void connectionOpened(ModbusTcpProtocol* p) { connections_.insert(p); }
  void connectionClosed(ModbusTcpProtocol* p) { connections_.erase(p); }

 protected:
  /// The protocol for one connection; servers with their own protocol subclass override it.
  virtual std::shared_ptr<ModbusTcpProtocol> makeProtocol();

 private:
  std::shared_ptr<ServerContext> context_;
  ServerOptions options_;
  RequestProcessor processor_;
  std::unordered_set<ModbusTcpProtocol*> connections_;
  reactor::IReactorTime* clock_ = nullptr;
};

}  // namespace modbus
