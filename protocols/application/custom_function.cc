// Custom function codes: registration checks and the dispatch on sub-function codes.
#include "protocols/application/custom_function.h"

#include <stdexcept>
#include <utility>

#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"

namespace modbus {

void CustomFunctionSet::add(std::shared_ptr<CustomFunction> function) {
  if (!function) throw std::invalid_argument("modbus::CustomFunctionSet: null CustomFunction");
  if (function->functionCode() != functionCode_) {
    throw std::invalid_argument("modbus::CustomFunctionSet: function code mismatch");
  }
  const std::optional<std::uint16_t> sub = function->subFunctionCode();
  const std::size_t width = sub ? function->subFunctionWidth() : 0;
  if (sub && width != 1 && width != 2) {
    throw std::invalid_argument("modbus::CustomFunction: subFunctionWidth() must be 1 or 2");
  }
  if (sub && width == 1 && *sub > 0xFF) {
    throw std::invalid_argument("modbus::CustomFunction: sub-function code does not fit one byte");
  }
  const bool empty = !whole_ && bySubFunction_.empty();
  if (!empty) {
    if (width != width_) {
      throw std::invalid_argument(
          "modbus::CustomFunction: every class of a function code must agree on its sub-function width");
    }
    if (!(function->requestLength() == requestLength_) || !(function->responseLength() == responseLength_)) {
      throw std::invalid_argument("modbus::CustomFunction: every class of a function code must give the same "
                                  "length rules");
    }
  }
  width_ = width;
  requestLength_ = function->requestLength();
  responseLength_ = function->responseLength();
  if (!sub) {
    whole_ = std::move(function);
    return;
  }
  for (const auto& [code, existing] : bySubFunction_) {
    if (code == *sub) throw std::invalid_argument("modbus::CustomFunction: sub-function registered twice");
  }
  bySubFunction_.emplace_back(*sub, std::move(function));
}

bool CustomFunctionSet::broadcastable(std::span<const std::uint8_t> request) const {
  const CustomFunction* function = find(request);
  return function != nullptr && function->broadcastable();
}

CustomFunction* CustomFunctionSet::find(std::span<const std::uint8_t> request) const {
  if (whole_) return whole_.get();
  if (request.size() < 1 + width_) return nullptr;
  const std::uint16_t sub = width_ == 1 ? request[1] : readU16BE(&request[1]);
  for (const auto& [code, function] : bySubFunction_) {
    if (code == sub) return function.get();
  }
  return nullptr;
}

std::size_t CustomFunctionSet::handle(DeviceContext& device, std::span<const std::uint8_t> request,
                                      std::span<std::uint8_t> response) {
  CustomFunction* function = find(request);
  if (function == nullptr) {
    // Too short to carry the sub-function is a bad value; an unknown sub-function is not served.
    const bool tooShort = !whole_ && request.size() < 1 + width_;
    return exceptionResponse(functionCode_, tooShort ? ExceptionCode::IllegalDataValue : ExceptionCode::IllegalFunction,
                             response);
  }
  ExceptionCode code = function->decode(request.subspan(1));
  if (code == ExceptionCode::None) code = function->execute(device);
  if (code != ExceptionCode::None) return exceptionResponse(functionCode_, code, response);
  if (response.size() < 1) return 0;
  const std::size_t n = function->encode(response.subspan(1));
  if (n + 1 > response.size()) return exceptionResponse(functionCode_, ExceptionCode::ServerDeviceFailure, response);
  response[0] = functionCode_;
  return n + 1;
}

}  // namespace modbus
