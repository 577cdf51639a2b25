// Port of pymodbus's ModbusSerialServer and StartSerialServer (server/server.py, startstop.py): a
// Modbus RTU or ASCII server on a serial port that reopens the port with back-off when it goes
// away. (makeServerForEndpoint moved to server_for_endpoint.h, included here for existing users.)
// Tests: tests/integration/serial_test.cc, tests/integration/console_test.cc (console=true, trace)
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "datastore/server_context.h"
#include "framers/framer_type.h"
#include "protocols/serving/modbus_serial_protocol.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/servers/server_for_endpoint.h"
#include "protocols/application/request_processor.h"
#include "protocols/servers/console_settings.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/start_server.h"
#include "reactor/address.h"
#include "reactor/delayed_call.h"
#include "reactor/reactor.h"
#include "reactor/serial_options.h"
#include "reactor/serial_port.h"

namespace modbus {

struct SerialServerOptions {
  /// Framer (RTU by default), unit ids, echo, timing: see SerialLineOptions.
  SerialLineOptions line;
  /// After the port is lost, the first reopen comes after this many seconds; each failed attempt
  /// doubles the wait, up to reopenMaxDelay.
  double reopenDelay = 0.5;
  double reopenMaxDelay = 30.0;
  /// open(): a device that cannot be opened yet is retried with the same back-off instead of
  /// throwing (a USB adapter plugged in later).
  bool waitForDevice = false;
  /// False: FC 8 sub-functions that change a device's state answer exception 01 on this line (see
  /// ServerOptions::stateChangingDiagnostics).
  bool stateChangingDiagnostics = true;
  /// Sees every answer on the line and may change how it leaves (response_hook.h); unset: one
  /// pointer test per request.
  std::shared_ptr<ResponseHook> responseHook{};
  /// StartSerialServer's `console=true`: the debug console on its loopback or unix: endpoint for as
  /// long as the line serves (console_settings.h, docs/console.md). Servers built directly ignore it.
  ConsoleSettings console{};
};

/// A serial endpoint split into the port's settings and the Modbus line's.
struct SerialServerEndpoint {
  reactor::SerialOptions serial;
  SerialLineOptions line;
  /// reopen_delay=SECONDS when given (SerialServerOptions::reopenDelay).
  std::optional<double> reopenDelay;
};

/// Parses "serial:DEVICE:..." (every key of reactor::parseSerialEndpoint) plus the Modbus keys
/// framer= (rtu, ascii), units= (comma-separated unit ids, 1..255), echo= (drop the local echo),
/// t15= (enforce t1.5, default 1), latency= (milliseconds), turnaround= (wait t3.5 before
/// answering), reopen_delay= (seconds before the first reopen of a lost port, 0.01..3600). Keys not given keep `defaults`. Throws reactor::EndpointError, including for
/// framer=socket / framer=tls, which cannot run on a serial line.
SerialServerEndpoint parseSerialServerEndpoint(std::string_view endpoint, const SerialLineOptions& defaults = {});

/// Modbus RTU (default) or ASCII on one serial port; several servers may share a reactor.
/// Create, use and destroy on the reactor's thread.
class ModbusSerialServer : public ModbusServer {
 public:
  /// Throws reactor::EndpointError when options.line.framer is Socket or MbapInTls.
  ModbusSerialServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                     SerialServerOptions options = {});
  /// Closes the port at once.
  ~ModbusSerialServer() override;

  /// Opens the port of a "serial:" endpoint (see parseSerialServerEndpoint; its Modbus keys
  /// override the options given to the constructor). Returns the device's address. Throws
  /// reactor::EndpointError, reactor::SerialPortError (unless waitForDevice), or std::logic_error
  /// when a port is already open.
  reactor::Address open(std::string_view endpoint);
  /// Same, with the settings already parsed.
  reactor::Address open(const reactor::SerialOptions& serial);
  /// What open(endpoint) would refuse, without opening the device (which may be missing when
  /// waitForDevice is set).
  void check(std::string_view endpoint) const override;

  /// True while the port is open.
  bool isOpen() const;
  /// The open port, or nullptr while it is closed (lost and not reopened yet).
  reactor::SerialPort* port() const { return isOpen() ? port_.get() : nullptr; }
  /// The protocol on the open port, or nullptr (its counters() are the line's).
  ModbusSerialProtocol* protocol() const { return isOpen() ? protocol_.get() : nullptr; }
  RequestProcessor& processor() { return *processor_; }
  const SerialServerOptions& options() const { return options_; }
  /// Replaces the response hook of the line, open now or reopened later (the console's trace puts
  /// its own in front of the one there, and back). Reactor thread only.
  void setResponseHook(std::shared_ptr<ResponseHook> hook);
  /// The device path of the line ("/dev/ttyUSB0"), once open() has been called.
  const std::string& device() const { return serial_.device; }
  /// How many times the port was reopened after a loss.
  std::size_t reopenCount() const { return reopens_; }

 protected:
  void doShutdown() override;

 private:
  bool tryOpen();
  void onLost(const reactor::Failure& reason);
  void scheduleReopen();

  SerialServerOptions options_;
  std::shared_ptr<RequestProcessor> processor_;
  reactor::SerialOptions serial_;
  std::shared_ptr<reactor::SerialPort> port_;
  std::shared_ptr<ModbusSerialProtocol> protocol_;
  reactor::DelayedCall reopenTimer_;
  std::string lastError_;
  double delay_ = 0;
  std::size_t reopens_ = 0;
  bool opened_ = false;
  bool shuttingDown_ = false;
};

/// pymodbus's StartSerialServer: blocks, serving `context` on the serial endpoint (default
/// "serial:/dev/ttyUSB0", RTU 19200 8N1) with a reactor of its own, until ServerStop(), SIGINT or
/// SIGTERM. Throws if the port cannot be opened (unless options.waitForDevice).
void StartSerialServer(std::shared_ptr<ServerContext> context, std::string_view endpoint = "serial:/dev/ttyUSB0",
                       SerialServerOptions options = {});

}  // namespace modbus
