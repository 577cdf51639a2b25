// RemoteDevice: a unit answered by a downstream Modbus TCP device — a gateway (ports pymodbus's
// RemoteDeviceContext, which blocks its event loop on a synchronous client, as an AsyncDevice on
// connectTCP with reconnection and a request timeout).
// Tests: tests/protocols/devices/remote_device_test.cc, tests/integration/gateway_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/devices/async_device.h"
#include "reactor/delayed_call.h"
#include "reactor/interfaces.h"
#include "reactor/reactor.h"

namespace modbus {

struct RemoteDeviceOptions {
  /// The unit id used downstream; nullopt forwards the request's own unit id.
  std::optional<std::uint8_t> unitId;
  /// A request the downstream device has not answered within this many seconds gets 0x0B.
  double timeout = 3.0;
  /// A connection attempt that has not succeeded within this many seconds fails.
  double connectTimeout = 3.0;
  /// Reconnection back-off: the first retry after initialDelay seconds, each next one `factor` times
  /// later, at most maxDelay; a successful connection resets it (Twisted's ReconnectingClientFactory).
  double initialDelay = 0.25;
  double maxDelay = 30.0;
  double factor = 2.0;
  /// Requests waiting for the connection (while it is being made) beyond this many get 0x0A at once.
  std::size_t maxQueued = 256;
};

/// Forwards each request PDU to `host:port` over one Modbus TCP (MBAP) connection and completes it
/// with the downstream answer (exception answers pass through as they are).
///
/// - While connecting, requests wait (up to `timeout`); when the attempt fails they get 0x0A
///   (GatewayPathUnavailable), and while waiting for the next attempt new requests get 0x0A at once.
/// - A request sent and not answered within `timeout` gets 0x0B (GatewayTargetDeviceFailedToRespond);
///   a late answer is dropped. Requests in flight when the connection drops get 0x0B too.
/// - The connection is made again and again with back-off until stop(); the reactor stopping ends
///   it too.
/// - Destroyed with requests waiting (its unit removed from the server), it answers them 0x0A on
///   the reactor's next turn.
/// Create with create()/fromEndpoint() (it must be owned by a shared_ptr); reactor thread only.
class RemoteDevice final : public AsyncDevice, public std::enable_shared_from_this<RemoteDevice> {
 public:
  enum class State { Connecting, Connected, WaitingToRetry, Stopped };

  /// Starts connecting at once.
  static std::shared_ptr<RemoteDevice> create(reactor::Reactor& reactor, std::string host, std::uint16_t port,
                                              RemoteDeviceOptions options = {});
  /// From an endpoint string "tcp:HOST:PORT" (or "tcp:host=HOST:port=PORT"). Throws
  /// reactor::EndpointError for anything else.
  static std::shared_ptr<RemoteDevice> fromEndpoint(reactor::Reactor& reactor, std::string_view endpoint,
                                                    RemoteDeviceOptions options = {});
  /// Parses "tcp:HOST:PORT" / "tcp:host=HOST:port=PORT" into host and port (reactor::EndpointError).
  static std::pair<std::string, std::uint16_t> parseEndpoint(std::string_view endpoint);
  ~RemoteDevice() override;

  void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) override;

  /// Disconnects for good; everything waiting gets 0x0A. Idempotent.
  void stop();

  State state() const { return state_; }
  /// Requests sent downstream and not answered yet.
  std::size_t inFlight() const { return inFlight_.size(); }
  /// Connections made so far (1 after the first, 2 after one reconnection, ...).
  std::size_t connectionsMade() const { return connectionsMade_; }
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }

  // Called by the link's protocol and factory (remote_device.cc).
  void linkMade(reactor::Protocol* link);
  void linkFailed();
  void linkLost();
  void answerReceived(std::uint16_t transactionId, std::span<const std::uint8_t> pdu);

 private:
  RemoteDevice(reactor::Reactor& reactor, std::string host, std::uint16_t port, RemoteDeviceOptions options);

  struct InFlight {
    Completion done;
    std::uint8_t functionCode = 0;
    reactor::DelayedCall timeout;
  };
  struct Queued {
    std::uint8_t unitId = 0;
    std::vector<std::uint8_t> request;
    Completion done;
    reactor::DelayedCall timeout;
  };

  void connect();
  void send(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done);
  void retryLater();
  void failQueued(ExceptionCode code);
  void failInFlight(ExceptionCode code);

  reactor::Reactor& reactor_;
  std::string host_;
  std::uint16_t port_;
  RemoteDeviceOptions options_;
  State state_ = State::Connecting;
  std::shared_ptr<reactor::IConnector> connector_;
  std::shared_ptr<reactor::ClientFactory> factory_;
  reactor::Protocol* link_ = nullptr;
  reactor::DelayedCall retry_;
  double delay_;
  std::uint16_t nextTransactionId_ = 1;
  std::map<std::uint16_t, InFlight> inFlight_;
  std::map<std::uint64_t, Queued> queued_;
  std::uint64_t nextQueued_ = 0;
  std::size_t connectionsMade_ = 0;
  reactor::TriggerId shutdownTrigger_ = 0;
};

}  // namespace modbus
