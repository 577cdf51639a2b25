// Port of twisted.python.failure.Failure for connection outcomes: a type, a libuv error code and,
// when user code threw, the exception itself.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

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
  /// Failure(SomeError(...)): the exception object itself, as Twisted's Failure(exc).
  template <class E>
    requires std::is_base_of_v<std::exception, E>
  static Failure fromException(const E& error) {
    return fromException(std::make_exception_ptr(error));
  }

  FailureType type() const { return type_; }
  bool check(FailureType type) const { return type_ == type; }
  /// Twisted's Failure.check(*errorTypes) for exception types: true when the exception this failure
  /// holds is one of E... (or derives from one).
  template <class... E>
  bool check() const {
    return (matches<E>() || ...);
  }
  /// Twisted's Failure.trap: returns when check<E...>() holds, otherwise throws this Failure itself
  /// (a Deferred or a coroutine catching it keeps it unchanged), so an errback can pass on what it
  /// does not handle.
  template <class... E>
  void trap() const {
    if (!check<E...>()) throw *this;
  }
  /// trap() for connection outcomes: returns when type() is one of `types`, otherwise throws *this.
  template <class... Types>
    requires(std::is_same_v<Types, FailureType> && ...)
  void trap(Types... types) const {
    if (!((type_ == types) || ...)) throw *this;
  }
  /// The libuv error code (negative errno), or 0.
  int code() const { return code_; }
  std::exception_ptr exception() const { return exception_; }
  /// Human-readable: "ConnectionLost: connection reset by peer (ECONNRESET)".
  std::string getErrorMessage() const;
  /// Rethrows the user's exception, or throws a std::runtime_error with getErrorMessage().
  [[noreturn]] void raiseException() const;

 private:
  template <class E>
  bool matches() const {
    if (!exception_) return false;
    try {
      std::rethrow_exception(exception_);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }

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
  /// For listeners that are not an interface and a port (a UNIX socket path): `message` says it all.
  CannotListenError(const std::string& message, int uvCode);
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace reactor
