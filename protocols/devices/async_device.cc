// DelayedDevice: a local device that answers on a timer (the model asynchronous datastore).
#include "protocols/devices/async_device.h"

#include <array>
#include <utility>
#include <vector>

#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"

namespace modbus {

DelayedDevice::DelayedDevice(reactor::IReactorTime& clock, std::shared_ptr<DeviceContext> device, double delay)
    : clock_(clock),
      processor_(std::make_shared<RequestProcessor>(ServerContext::single(std::move(device)))),
      alive_(std::make_shared<bool>(true)),
      delay_(delay) {}

DelayedDevice::~DelayedDevice() { *alive_ = false; }

void DelayedDevice::submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) {
  ++submitted_;
  std::vector<std::uint8_t> copy(request.begin(), request.end());
  std::weak_ptr<bool> alive = alive_;
  std::shared_ptr<RequestProcessor> processor = processor_;
  clock_.callLater(delay_, [alive, processor, unitId, copy = std::move(copy), done = std::move(done)] {
    std::array<std::uint8_t, kMaxPduSize> response{};
    auto live = alive.lock();
    if (!live || !*live) {
      // The device is gone: the request's client still waits for an answer in its place in line.
      done(std::span<const std::uint8_t>(
          response.data(), exceptionResponse(copy[0], ExceptionCode::GatewayPathUnavailable, response)));
      return;
    }
    const std::size_t n = processor->process(unitId, copy, response);
    done(std::span<const std::uint8_t>(response.data(), n));
  });
}

}  // namespace modbus
