// Failure: connection outcomes with their libuv error code or the user's exception.
#include "reactor/failure.h"

#include <uv.h>

namespace reactor {

const char* toString(FailureType type) {
  switch (type) {
    case FailureType::ConnectionDone: return "ConnectionDone";
    case FailureType::ConnectionLost: return "ConnectionLost";
    case FailureType::ConnectionAborted: return "ConnectionAborted";
    case FailureType::ConnectionRefused: return "ConnectionRefused";
    case FailureType::TimeoutError: return "TimeoutError";
    case FailureType::DNSLookupError: return "DNSLookupError";
    case FailureType::UserError: return "UserError";
    case FailureType::Other: return "Other";
  }
  return "Unknown";
}

Failure::Failure(FailureType type, int uvCode, std::string message)
    : type_(type), code_(uvCode), message_(std::move(message)) {}

Failure Failure::fromException(std::exception_ptr error) {
  Failure f(FailureType::UserError);
  f.exception_ = error;
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    f.message_ = e.what();
  } catch (...) {
    f.message_ = "unknown exception";
  }
  return f;
}

std::string Failure::getErrorMessage() const {
  std::string text = toString(type_);
  if (!message_.empty()) {
    text += ": " + message_;
  } else if (code_ != 0) {
    text += ": ";
    text += uv_strerror(code_);
  }
  if (code_ != 0) {
    text += " (";
    text += uv_err_name(code_);
    text += ")";
  }
  return text;
}

void Failure::raiseException() const {
  if (exception_) std::rethrow_exception(exception_);
  throw std::runtime_error(getErrorMessage());
}

CannotListenError::CannotListenError(std::string interface, int port, int uvCode)
    : std::runtime_error("CannotListenError: couldn't listen on " + (interface.empty() ? std::string("any") : interface) +
                         ":" + std::to_string(port) + ": " + uv_strerror(uvCode) + " (" + uv_err_name(uvCode) + ")"),
      code_(uvCode) {}

CannotListenError::CannotListenError(const std::string& message, int uvCode)
    : std::runtime_error("CannotListenError: " + message), code_(uvCode) {}

}  // namespace reactor
