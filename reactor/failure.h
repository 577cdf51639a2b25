// Port of twisted.python.failure.Failure for connection outcomes: a type, a libuv error code and,
// when user code threw, the exception itself.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace reactor {

enum class FailureType {
  ConnectionDone,     ///< closed cleanly (loseConnection, or the peer closed)
  ConnectionLost,     ///< closed by an error (reset, broken pipe, ...)
  ConnectionAborted,  ///< abortConnection()
  ConnectionRefused,  ///< connect was refused
  TimeoutError,       ///< connect or handshake timed out
  DNSLookupError,     ///< the host name did not resolve
  UserError,          ///< user code threw; exception() holds what it threw
  Other,
};

class Failure {
 public:
  Failure() = default;
  explicit Failure(FailureType type, int uvCode = 0, std::string message = {});

  static Failure connectionDone() { return Failure(FailureType::ConnectionDone); }
  static Failure fromException(std::exception_ptr error);

  FailureType type() const { return type_; }
  bool check(FailureType type) const { return type_ == type; }
  /// The libuv error code (negative errno), or 0.
  int code() const { return code_; }
  std::exception_ptr exception() const { return exception_; }
  /// Human-readable: "ConnectionLost: connection reset by peer (ECONNRESET)".
  std::string getErrorMessage() const;
  /// Rethrows the user's exception, or throws a std::runtime_error with getErrorMessage().
  [[noreturn]] void raiseException() const;

 private:
  FailureType type_ = FailureType::ConnectionDone;
  int code_ = 0;
  std::string message_;
  std::exception_ptr exception_;
};

const char* toString(FailureType type);

/// Thrown by listen* when the port cannot be bound (Twisted's CannotListenError).
class CannotListenError : public std::runtime_error {
 public:
  CannotListenError(std::string interface, int port, int uvCode);
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace reactor
