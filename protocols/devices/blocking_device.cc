// BlockingDevice: a blocking datastore served on the reactor's thread pool (reactor::deferToThread).
#include "protocols/devices/blocking_device.h"

#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "framers/framer.h"
#include "protocols/application/exception_response.h"
#include "protocols/application/request_processor.h"
#include "reactor/threads.h"

namespace modbus {

struct BlockingDevice::Shared {
  explicit Shared(std::shared_ptr<DeviceContext> device, Block b)
      : processor(ServerContext::single(std::move(device))), block(std::move(b)) {}
  std::mutex mutex;  // one request at a time against the device (pool threads only)
  RequestProcessor processor;
  Block block;
};

BlockingDevice::Block BlockingDevice::sleepBeforeReads(double seconds) {
  return [seconds](std::uint8_t, std::span<const std::uint8_t> request) {
    const std::uint8_t fc = request[0];
    if ((fc >= 0x01 && fc <= 0x04) || fc == 0x17) {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    }
  };
}

BlockingDevice::BlockingDevice(reactor::Reactor& reactor, std::shared_ptr<DeviceContext> device, Block block)
    : reactor_(reactor),
      shared_(std::make_shared<Shared>(std::move(device), std::move(block))),
      answered_(std::make_shared<std::size_t>(0)) {}

void BlockingDevice::submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) {
  ++submitted_;
  const std::uint8_t functionCode = request[0];
  // The worker gets its own copies: the request span is borrowed for this call only.
  auto work = [shared = shared_, unitId, copy = std::vector<std::uint8_t>(request.begin(), request.end())] {
    if (shared->block) shared->block(unitId, copy);
    std::vector<std::uint8_t> response(kMaxPduSize);
    std::lock_guard<std::mutex> lock(shared->mutex);
    response.resize(shared->processor.process(unitId, copy, response));
    return response;
  };
  reactor::deferToThread(reactor_, std::move(work))
      .addCallbacks(
          [done, answered = answered_](std::vector<std::uint8_t> response) {
            ++*answered;
            done(response);
          },
          [done, answered = answered_, functionCode](reactor::Failure) {
            ++*answered;
            std::uint8_t response[2];
            done(std::span<const std::uint8_t>(
                response, exceptionResponse(functionCode, ExceptionCode::ServerDeviceFailure, response)));
          });
}

}  // namespace modbus
