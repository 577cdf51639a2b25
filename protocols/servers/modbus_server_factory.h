// Port of pymodbus's ModbusServerFactory (server/async.py): one per listening server, holding the
// datastore, the request processor and the options across every connection. It also keeps the
// connection bounds of ServerOptions: per peer address, in total (evicting the stalest connection
// to make room for a newcomer), and counts every refusal, close and pause in its ConnectionLog.
// Tests: tests/protocols/servers/modbus_server_factory_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/application/request_processor.h"
#include "protocols/servers/server_options.h"
#include "protocols/serving/connection_log.h"
#include "protocols/serving/serving_metrics.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class ModbusStreamProtocol;
using ModbusTcpProtocol = ModbusStreamProtocol;  // the name in serving/modbus_stream_protocol.h

class ModbusServerFactory : public reactor::ServerFactory {
 public:
  ModbusServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options = {});

  /// A ModbusTcpProtocol, or nullptr (refused) when `addr`'s host has maxConnectionsPerPeer open.
  /// With maxConnections open, the stalest connection is aborted to make room (refused only when
  /// maxConnections is 0).
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address& addr) override;

  RequestProcessor& processor() { return processor_; }
  ServerContext& context() { return *context_; }
  const std::shared_ptr<ServerContext>& contextPtr() const { return context_; }
  const ServerOptions& options() const { return options_; }

  std::size_t connectionCount() const { return connections_.size(); }
  /// Open connections from `host` (an IP literal).
  std::size_t connectionCountFrom(const std::string& host) const;
  /// Counts (and rate-limited log lines) of connects, disconnects, refusals, closes and pauses.
  ConnectionLog& connectionLog() { return log_; }
  const ConnectionLog& connectionLog() const { return log_; }
  /// What this server's connections have served (serving_metrics.h); one of its own until a server
  /// shares its own with it (ModbusTcpServer, ModbusTlsServer). Connections made later count there.
  ServingMetrics& metrics() { return *metrics_; }
  const std::shared_ptr<ServingMetrics>& metricsPtr() const { return metrics_; }
  void setMetrics(std::shared_ptr<ServingMetrics> metrics) {
    if (metrics) metrics_ = std::move(metrics);
  }

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

  /// One open connection and its id (the protocol's connectionId(): unique in the process, from 1,
  /// never reused; the console and the simulator's /api/v1 name connections by it).
  struct OpenConnection {
    std::uint64_t id;
    ModbusTcpProtocol* protocol;
  };
  /// The open connections, by id (an operator's list: it allocates).
  std::vector<OpenConnection> openConnections() const;
  /// Replaces the response hook for the requests that follow (the console's trace chains one in
  /// front of any hook already set, and puts that one back when tracing stops).
  void setResponseHook(std::shared_ptr<ResponseHook> hook) { options_.responseHook = std::move(hook); }

  /// The clock idle timeouts use (the server's reactor); without one, idleTimeout is not enforced.
  void setClock(reactor::IReactorTime* clock) {
    clock_ = clock;
    log_.setClock(clock);
  }
  reactor::IReactorTime* clock() const { return clock_; }

  // Called by the protocols.
  void connectionOpened(ModbusTcpProtocol* p);
  void connectionClosed(ModbusTcpProtocol* p);

 protected:
  /// The protocol for one connection; servers with their own protocol subclass override it.
  virtual std::shared_ptr<ModbusTcpProtocol> makeProtocol();

 private:
  std::shared_ptr<ServerContext> context_;
  ServerOptions options_;
  RequestProcessor processor_;
  /// Closes the stalest open connection (ModbusStreamProtocol::staleSince) to make room; false if none.
  bool evictStalest();
  /// Forgets `p` (its connection and its peer's count); false if it was not counted.
  bool forget(ModbusTcpProtocol* p);

  struct Peer {
    std::string host;
  };
  // Each open connection with its peer's host and id; a connection being evicted is forgotten at once.
  std::unordered_map<ModbusTcpProtocol*, Peer> connections_;
  std::unordered_map<std::string, std::size_t> perPeer_;
  reactor::IReactorTime* clock_ = nullptr;
  ConnectionLog log_;
  std::shared_ptr<ServingMetrics> metrics_ = std::make_shared<ServingMetrics>();
};

}  // namespace modbus
