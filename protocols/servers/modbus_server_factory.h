// Port of pymodbus's ModbusServerFactory (server/async.py): one per listening server, holding the
// datastore, the request processor and the options across every connection.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>

#include "datastore/server_context.h"
#include "protocols/application/request_processor.h"
#include "protocols/servers/server_options.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class ModbusStreamProtocol;
using ModbusTcpProtocol = ModbusStreamProtocol;  // the name in serving/modbus_stream_protocol.h

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

  /// Adds a custom function code (see protocols/application/custom_function.h) to this server; connections
  /// opened afterwards frame it (RTU over TCP) by its length rules. Throws std::invalid_argument.
  void registerCustomFunction(std::shared_ptr<CustomFunction> function) {
    processor_.registerCustomFunction(std::move(function));
  }
  /// Makes `unitId` answered by an asynchronous device (a RemoteDevice, a DelayedDevice, your own);
  /// null removes it. See protocols/devices/async_device.h.
  void setAsyncDevice(std::uint8_t unitId, std::shared_ptr<AsyncDevice> device) {
    processor_.setAsyncDevice(unitId, std::move(device));
  }
  /// Calls `callback` after client writes to the range (see WriteObservers::subscribe).
  WriteObservers::SubscriptionId subscribeWrites(std::optional<std::uint8_t> unitId, ModbusTable table,
                                                 AddressRange range, WriteObservers::Callback callback) {
    return processor_.writeObservers().subscribe(unitId, table, range, std::move(callback));
  }
  bool unsubscribeWrites(WriteObservers::SubscriptionId id) { return processor_.writeObservers().unsubscribe(id); }
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
