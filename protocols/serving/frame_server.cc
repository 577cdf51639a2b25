// FrameServer: running one request (asynchronous device or RequestProcessor, exception 04 on a
// throw, ASCII delimiter follow-up). The decode loop is the template in frame_server.h.
#include "protocols/serving/frame_server.h"

#include <exception>

#include "datastore/device_context.h"
#include "reactor/log.h"

namespace modbus {

FrameServer::FrameServer(Framer& framer, RequestProcessor& processor) : framer_(&framer), processor_(&processor) {
  const ServerContext& context = processor.context();
  if (context.isSingle()) {
    followedUnit_ = 1;  // every unit id finds the one device
  } else if (const auto sole = context.soleUnitId()) {
    followedUnit_ = *sole;
  }
}

Answer FrameServer::serve(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
                          bool allowAsync, std::string_view transport) {
  Answer answer;
  if (metrics_) metrics_->countRequest(pdu);
  if (allowAsync && !pdu.empty()) {
    if (AsyncDevice* device = processor_->asyncDeviceFor(unitId)) {
      answer.kind = Answer::Kind::Pending;
      answer.device = device;
      return answer;
    }
  }
  try {
    answer.length = processor_->process(unitId, pdu, response);
  } catch (const std::exception& e) {
    reactor::log::error(transport, ": request for unit ", static_cast<int>(unitId), " failed: ", e.what());
    answer.length =
        pdu.empty() ? 0 : exceptionResponse(pdu[0], ExceptionCode::ServerDeviceFailure, response);
  }
  followAsciiDelimiter(unitId);
  if (answer.length > 0) answer.kind = Answer::Kind::Send;
  return answer;
}

void FrameServer::followAsciiDelimiter(std::uint8_t unitId) {
  followedUnit_ = unitId;
  refreshAsciiDelimiter();
}

void FrameServer::refreshAsciiDelimiter() {
  if (const DeviceContext* device = processor_->context().find(*followedUnit_)) {
    framer_->setInputDelimiter(device->control().asciiDelimiter());
  }
}

}  // namespace modbus
