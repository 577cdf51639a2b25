// Port of pymodbus's ModbusUdpServer and StartUdpServer (server/server.py, startstop.py) on
// reactor::listenUDP. ServerStop() stops it like every other server.
// Tests: tests/integration/udp_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/servers/listening_server.h"
#include "protocols/serving/modbus_udp_protocol.h"
#include "protocols/application/request_processor.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/start_server.h"
#include "reactor/address.h"
#include "reactor/interfaces.h"
#include "reactor/reactor.h"

namespace modbus {

/// Modbus over UDP: MBAP datagrams by default; RTU or ASCII over UDP with ServerOptions::framer.
/// Every port of the server shares one RequestProcessor (register custom function codes on it).
/// Uses ServerOptions::framer, ignoreMissingSlaves, missingUnit, broadcastEnable and responseHook
/// (every port's answers pass it); the connection options and the trace hooks do not apply (yet).
class ModbusUdpServer : public ListeningServer<reactor::IListeningPort> {
 public:
  ModbusUdpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context, ServerOptions options = {});

  /// Listens on "udp:PORT[:interface=IP][:maxPacketSize=N]" (or "udp6:..."); call again for more
  /// ports. Returns the bound address (the real port for 0). Throws reactor::EndpointError or
  /// reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  void check(std::string_view endpoint) const override;
  RequestProcessor& processor() { return *processor_; }
  const ServerOptions& options() const { return options_; }
  /// Replaces the response hook of every port, present and future (the console's trace puts its
  /// own in front of the one there, and back). Reactor thread only.
  void setResponseHook(std::shared_ptr<ResponseHook> hook);
  /// Sums over the server's ports.
  std::size_t requestCount() const;
  std::size_t malformedCount() const;

 protected:
  void doShutdown() override;

 private:
  ServerOptions options_;
  std::shared_ptr<RequestProcessor> processor_;
  std::vector<std::shared_ptr<ModbusUdpProtocol>> protocols_;
};

/// pymodbus's StartUdpServer: blocks, serving `context` on `address` ("udp:5020:interface=..."; default
/// "udp:502") with a reactor of its own, until ServerStop(), SIGINT or SIGTERM. Throws if it
/// cannot listen.
void StartUdpServer(std::shared_ptr<ServerContext> context, std::string_view address = "udp:502",
                    ServerOptions options = {});
/// pymodbus 1.x's StartUdpServer(..., defer_reactor_run=True): see StartTcpServer's overload.
std::shared_ptr<ModbusUdpServer> StartUdpServer(std::shared_ptr<ServerContext> context, std::string_view address,
                                                reactor::Reactor& reactor, DeferReactorRun,
                                                ServerOptions options = {});

}  // namespace modbus
