// Port of pymodbus's ModbusTcpProtocol (server/async.py): joins a framer to a stream transport.
// The path of one request (DESIGN.md): dataReceived → the framer decodes every complete frame →
// RequestProcessor executes it against the datastore, encoding the response straight into this
// connection's output buffer → one transport write per read batch.
// Tests: tests/protocols/modbus_tcp_protocol_test.cc
#pragma once

#include <memory>

#include "framers/buffer.h"
#include "framers/framer.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class ModbusServerFactory;

/// One per connection. Pipelined requests are all answered, in order. Malformed input gets the
/// spec's answer; only an MBAP length that cannot be resynchronised closes the connection.
/// Also a push producer: while the transport holds more than maxBufferedOutput unsent bytes, the
/// protocol stops reading requests.
class ModbusTcpProtocol : public reactor::Protocol, public reactor::IProducer {
 public:
  explicit ModbusTcpProtocol(std::unique_ptr<Framer> framer);
  ~ModbusTcpProtocol() override;

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;
  std::string logPrefix() const override { return "ModbusTcpProtocol"; }

  // IProducer: the transport pauses us when its output passes the high-water mark.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override {}

  /// Requests answered on this connection.
  std::size_t requestCount() const { return requests_; }

 protected:
  /// Called for every decoded request before it runs. Return true to execute it; return false to
  /// send `response[0, responseLength)` instead (responseLength 0 = no answer). The TLS server
  /// checks the client's role here.
  virtual bool authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
                         std::size_t& responseLength) {
    (void)unitId;
    (void)pdu;
    (void)response;
    (void)responseLength;
    return true;
  }
  ModbusServerFactory& server() const { return *server_; }

 private:
  /// Decodes and answers every whole frame at the front of `input`; returns the bytes consumed.
  std::size_t processFrames(std::span<const std::uint8_t> input);
  void flushOutput();
  void scheduleIdleCheck(double delay);

  std::unique_ptr<Framer> framer_;
  ModbusServerFactory* server_ = nullptr;
  Buffer input_;
  Buffer output_;
  reactor::DelayedCall idleCheck_;
  double lastActivity_ = 0;
  std::size_t requests_ = 0;
  bool registeredProducer_ = false;
};

}  // namespace modbus
