// The reactor side of SerialPort: a uv_poll_t on the device's descriptor, a write queue and one
// idempotent close path, modelled on tcp_transport.h; producers and the connectionLost delivery
// come from StreamTransport (stream_transport.h).
// Tests: tests/reactor/serial_port_test.cc
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "reactor/delayed_call.h"
#include "reactor/detail/serial_device.h"
#include "reactor/detail/stream_transport.h"
#include "reactor/serial_port.h"

namespace reactor::detail {

class SerialTransport final : public StreamTransport<SerialPort>,
                              public std::enable_shared_from_this<SerialTransport> {
 public:
  /// Takes an opened device; the transport keeps itself alive until its poll handle is closed.
  static std::shared_ptr<SerialTransport> create(ReactorImpl& reactor, std::unique_ptr<SerialDevice> device,
                                                 SerialOptions options);
  ~SerialTransport() override;

  /// Calls protocol->makeConnection, then starts polling (unless the protocol closed it already).
  void start(std::shared_ptr<Protocol> protocol);

  // ITransport
  void write(ByteView data) override;
  void writeSequence(std::span<const ByteView> pieces) override;
  void loseConnection() override;
  void abortConnection() override;
  std::size_t bufferedAmount() const override { return pending_.size() - pendingOffset_; }
  void pauseProducing() override;
  void resumeProducing() override;

  // SerialPort
  const SerialOptions& options() const override { return options_; }
  bool usesLibserialport() const override { return device_ && device_->usesLibserialport(); }
  bool rs485Active() const override { return device_ && device_->rs485Active(); }
  void setBaudRate(std::uint32_t baudrate) override;
  std::size_t inWaiting() const override;
  std::size_t outWaiting() const override;
  void flushInput() override;
  void flushOutput() override;
  void sendBreak(double seconds) override;
  bool getDSR() const override;
  bool getCD() const override;
  bool getRI() const override;
  bool getCTS() const override;
  void setDTR(bool on) override;
  void setRTS(bool on) override;

  // ManagedConnection
  void shutdownGracefully() override { loseConnection(); }

 protected:
  std::string describeOtherEnd() const override { return "serial port " + options_.device; }
  const char* connectionWord() const override { return "port"; }
  void maybeFinishDisconnect() override;
  void closeWithReason(const Failure& reason) override;

 private:
  SerialTransport(ReactorImpl& reactor, std::unique_ptr<SerialDevice> device, SerialOptions options);
  static void onUvPoll(uv_poll_t* handle, int status, int events);
  static void onUvClose(uv_handle_t* handle);

  void updatePoll();
  void doRead();
  void flushPending();
  void waitForDriverDrain();
  /// Seconds one character takes on the wire (start, data, parity, stop bits).
  double characterTime() const;

  ReactorImpl& reactor_;
  std::unique_ptr<SerialDevice> device_;
  SerialOptions options_;
  uv_poll_t poll_{};
  std::shared_ptr<SerialTransport> self_;
  // Bytes the driver did not take yet; pendingOffset_ is how many of them went out already.
  std::vector<std::uint8_t> pending_;
  std::size_t pendingOffset_ = 0;
  DelayedCall drainCheck_;
  DelayedCall breakEnd_;
  double drainDeadline_ = 0;
  int pollEvents_ = 0;
};

}  // namespace reactor::detail
