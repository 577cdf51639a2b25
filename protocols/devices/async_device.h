// Asynchronous devices: a unit whose answer comes later, through a completion callback (pymodbus's
// async datastores, without its mixed-up transaction ids: the server keeps each request's own).
// Tests: tests/protocols/devices/async_device_test.cc
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "datastore/server_context.h"
#include "reactor/delayed_call.h"

namespace modbus {

class RequestProcessor;

/// The answer of an asynchronous device: the whole response PDU (an exception response too), or an
/// empty span for no answer at all. The bytes are copied before the call returns.
using Completion = std::function<void(std::span<const std::uint8_t> responsePdu)>;

/// A unit that answers later: register it with RequestProcessor::setAsyncDevice (or
/// ModbusServerFactory::setAsyncDevice). A TCP (or TLS) connection keeps the transaction id of each
/// request and answers its requests in the order they came, whatever order the devices answer in.
class AsyncDevice {
 public:
  virtual ~AsyncDevice() = default;

  /// Starts `request` (the whole request PDU, request[0] = function code, never empty) addressed to
  /// `unitId`. Call `done` once — now, inside submit, or later — on the reactor thread. Calls after
  /// the first, and calls after the client has gone, are ignored. A throw from submit (before
  /// `done` is called) is answered with exception 04.
  virtual void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) = 0;
};

/// An AsyncDevice that answers from a local device after `delay` seconds on `clock`: a slow datastore
/// (for tests, and as the model of a device that does I/O). Requests run in the order they were
/// submitted unless setDelay changes the delay in between. Keeps its timers' state alive itself:
/// a request still waiting when it is destroyed is answered `fc|0x80 0x0A` at its time (no answer
/// at all would hold up every later answer of that client's connection).
class DelayedDevice final : public AsyncDevice {
 public:
  DelayedDevice(reactor::IReactorTime& clock, std::shared_ptr<DeviceContext> device, double delay);
  ~DelayedDevice() override;

  void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) override;

  void setDelay(double seconds) { delay_ = seconds; }
  double delay() const { return delay_; }
  /// Requests submitted so far.
  std::size_t submitted() const { return submitted_; }

 private:
  reactor::IReactorTime& clock_;
  std::shared_ptr<RequestProcessor> processor_;
  std::shared_ptr<bool> alive_;
  double delay_;
  std::size_t submitted_ = 0;
};

}  // namespace modbus
