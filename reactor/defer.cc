// The non-template parts of reactor/defer.h (Twisted's defer): FirstError's message and how a
// thrown exception becomes a Failure and back. No libuv here.
#include "reactor/defer.h"

#include <string>

namespace reactor {

FirstError::FirstError(Failure sub, std::size_t idx)
    : std::runtime_error("FirstError[#" + std::to_string(idx) + ", " + sub.getErrorMessage() + "]"),
      subFailure(std::move(sub)),
      index(idx) {}

namespace detail {

Failure currentFailure() {
  try {
    throw;
  } catch (const Failure& f) {
    return f;
  } catch (...) {
    return Failure::fromException(std::current_exception());
  }
}

void raise(const Failure& f) {
  if (f.exception()) std::rethrow_exception(f.exception());
  throw f;
}

}  // namespace detail
}  // namespace reactor
