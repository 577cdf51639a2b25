// A unit whose datastore blocks — a slow bus, a database query, a file on a network share — served
// through Twisted's answer to blocking code, reactor::deferToThread: each request runs on the
// reactor's thread pool and its answer comes back on the reactor thread, so the reactor keeps
// serving every other client meanwhile. (pymodbus 1.x ran such a store inside the reactor thread
// and stalled every client for as long as it blocked.)
//
// Rules it keeps:
// - The device context is this device's alone: it is read and written only on pool threads, one
//   request at a time (a mutex around the execution, off the server's hot path). The blocking part
//   (Block) runs outside that mutex, so requests block concurrently, up to the pool's size
//   (Reactor::suggestThreadPoolSize).
// - Answers keep each connection's request order (the serving core's rule for asynchronous units).
// - A Block that throws, or a pool already stopped, is answered exception 04 (ServerDeviceFailure).
// Tests: tests/protocols/devices/blocking_device_test.cc
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "datastore/device_context.h"
#include "protocols/devices/async_device.h"

namespace reactor {
class Reactor;
}

namespace modbus {

class BlockingDevice final : public AsyncDevice {
 public:
  /// The blocking part, called on a pool thread before each request is executed.
  using Block = std::function<void(std::uint8_t unitId, std::span<const std::uint8_t> request)>;

  /// The model blocking datastore: every read (function codes 1-4 and 23) first blocks `seconds`.
  static Block sleepBeforeReads(double seconds = 0.05);

  BlockingDevice(reactor::Reactor& reactor, std::shared_ptr<DeviceContext> device, Block block = sleepBeforeReads());

  void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) override;

  /// Requests submitted so far, and those answered (on the reactor thread).
  std::size_t submitted() const { return submitted_; }
  std::size_t answered() const { return *answered_; }

 private:
  struct Shared;

  reactor::Reactor& reactor_;
  std::shared_ptr<Shared> shared_;
  std::size_t submitted_ = 0;
  std::shared_ptr<std::size_t> answered_;
};

}  // namespace modbus
