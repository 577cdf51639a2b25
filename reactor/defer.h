// Port of twisted.internet.defer: Deferred<T>, succeed / fail / maybeDeferred, DeferredList,
// gatherResults, deferLater, and C++20 coroutines as the counterpart of inlineCallbacks /
// ensureDeferred (a coroutine returning Deferred<T> may co_await any Deferred).
//
// Rules it keeps (Twisted's): single-threaded, on the reactor thread; callbacks run synchronously
// when the Deferred fires, or at once when added to a fired one; a callback's return value replaces
// the result, a thrown exception switches the chain to errbacks (a thrown Failure is kept as is, so
// Failure::trap passes failures on unchanged); a callback returning a Deferred pauses the chain until
// that one fires. Firing twice throws AlreadyCalledError. A Failure still in the result when the last
// reference goes is logged ("Unhandled error in Deferred").
//
// Types along the chain: a Deferred<T> holds a T. addCallback/addErrback/addBoth/addCallbacks whose
// functions produce a T (or Deferred<T>) extend this same chain and return *this; functions producing
// another type U return a new Deferred<U> that carries the chain on, and this Deferred is then
// "continued": its result goes to the new one and adding more callbacks to it throws std::logic_error
// (so does co_await, which also hands the result over). Cancelling the continuation cancels this one.
// Errbacks must produce the same type as the callbacks they are paired with. No libuv here.
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "reactor/delayed_call.h"
#include "reactor/failure.h"
#include "reactor/log.h"

namespace reactor {

/// The failure of a cancelled Deferred.
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("CancelledError: the Deferred was cancelled") {}
};

/// callback()/errback() on a Deferred that already fired.
class AlreadyCalledError : public std::logic_error {
 public:
  AlreadyCalledError() : std::logic_error("AlreadyCalledError: the Deferred has already fired") {}
};

/// DeferredList(fireOnOneErrback) and gatherResults: the first failure and which input it came from.
class FirstError : public std::runtime_error {
 public:
  FirstError(Failure sub, std::size_t idx);
  Failure subFailure;
  std::size_t index;
};

template <class T = void>
class Deferred;

namespace detail {
template <class T> struct StoredOf { using type = T; };
template <> struct StoredOf<void> { using type = std::monostate; };
/// What a Deferred<T> holds on success: T, or std::monostate for void.
template <class T>
using Stored = typename StoredOf<T>::type;
template <class T>
using Result = std::variant<Stored<T>, Failure>;

template <class R> struct Unwrap { using type = R; static constexpr bool deferred = false; };
template <class X> struct Unwrap<Deferred<X>> { using type = X; static constexpr bool deferred = true; };

/// Stand-ins for "pass the value / the failure on unchanged".
struct PassValue {};
struct PassFailure {};

template <class T, class F> struct CallbackReturn { using type = std::invoke_result_t<F&, T&&>; };
template <class F> struct CallbackReturn<void, F> { using type = std::invoke_result_t<F&>; };
template <class T> struct CallbackReturn<T, PassValue> { using type = T; };
template <> struct CallbackReturn<void, PassValue> { using type = void; };
template <class F> struct ErrbackReturn { using type = std::invoke_result_t<F&, Failure>; };

/// What running one callback gives: a value, a failure, or a Deferred to wait for.
template <class U>
using Outcome = std::variant<Stored<U>, Failure, Deferred<U>>;

/// Inside a catch block: the Failure thrown (kept as is), or a Failure holding the exception.
Failure currentFailure();
/// Throws the failure's exception when it holds one, else the Failure itself.
[[noreturn]] void raise(const Failure& f);

/// Calls f(args...) and sorts what it returns or throws into an Outcome<U>.
template <class U, class F, class... A>
Outcome<U> invokeInto(F& f, A&&... args) {
  try {
    using R = std::invoke_result_t<F&, A&&...>;
    if constexpr (std::is_void_v<R>) {
      static_assert(std::is_void_v<U>, "a callback returning void continues a Deferred<void>");
      f(std::forward<A>(args)...);
      return Outcome<U>(std::in_place_index<0>);
    } else if constexpr (Unwrap<R>::deferred) {
      return Outcome<U>(std::in_place_index<2>, f(std::forward<A>(args)...));
    } else {
      return Outcome<U>(std::in_place_index<0>, f(std::forward<A>(args)...));
    }
  } catch (...) {
    return Outcome<U>(std::in_place_index<1>, currentFailure());
  }
}

/// The value or failure of an Outcome that is not a Deferred.
template <class U>
Result<U> toResult(Outcome<U>&& out) {
  if (out.index() == 0) return Result<U>(std::in_place_index<0>, std::move(std::get<0>(out)));
  return Result<U>(std::in_place_index<1>, std::move(std::get<1>(out)));
}

template <class T>
struct DeferredState {
  std::optional<Result<T>> result;  ///< Engaged once fired, unless paused or handed over.
  bool called = false;
  bool continued = false;  ///< The result goes to another Deferred or a coroutine.
  bool errorHandled = false;
  bool suppressAlreadyCalled = false;
  bool running = false;
  int paused = 0;
  std::deque<std::function<void(DeferredState&)>> steps;
  std::function<void(Deferred<T>&)> canceller;
  std::function<void()> cancelChained;  ///< While paused on another Deferred.

  DeferredState() = default;
  DeferredState(const DeferredState&) = delete;
  DeferredState& operator=(const DeferredState&) = delete;
  ~DeferredState() {
    if (result && result->index() == 1 && !errorHandled) {
      try {
        log::error("Unhandled error in Deferred: ", std::get<1>(*result).getErrorMessage());
      } catch (...) {
      }
    }
  }

  static void run(const std::shared_ptr<DeferredState>& s) {
    if (!s->called || s->running) return;
    s->running = true;
    while (!s->steps.empty() && s->paused == 0 && s->result) {
      auto step = std::move(s->steps.front());
      s->steps.pop_front();
      step(*s);
    }
    s->running = false;
  }

  Result<T> take() {
    Result<T> r = std::move(*result);
    result.reset();
    return r;
  }
};

struct DeferredAccess;
template <class T> struct DeferredAwaiter;
template <class T> struct DeferredPromise;

}  // namespace detail

template <class T>
class Deferred {
  using State = detail::DeferredState<T>;
  using Value = detail::Stored<T>;

 public:
  using value_type = T;
  using promise_type = detail::DeferredPromise<T>;

  Deferred() : state_(std::make_shared<State>()) {}
  /// `canceller(d)` runs on cancel() before it fires; it may fire d itself.
  explicit Deferred(std::function<void(Deferred&)> canceller) : Deferred() {
    state_->canceller = std::move(canceller);
  }

  void callback()
    requires std::is_void_v<T>
  {
    fire(detail::Result<T>(std::in_place_index<0>));
  }
  void callback(Value value)
    requires(!std::is_void_v<T>)
  {
    fire(detail::Result<T>(std::in_place_index<0>, std::move(value)));
  }
  void errback(Failure failure) { fire(detail::Result<T>(std::in_place_index<1>, std::move(failure))); }
  template <class E>
    requires std::is_base_of_v<std::exception, E>
  void errback(const E& error) { errback(Failure::fromException(error)); }

  /// Twisted's cancel(): the canceller runs; if the Deferred has still not fired it errbacks with
  /// CancelledError (with no canceller, a later callback()/errback() is then silently ignored).
  /// A fired Deferred waiting on another one cancels that one.
  void cancel() {
    auto s = state_;
    if (!s->called) {
      if (s->canceller) {
        auto c = s->canceller;
        c(*this);
      } else {
        s->suppressAlreadyCalled = true;
      }
      if (!s->called) errback(CancelledError());
    } else if (s->cancelChained) {
      auto c = s->cancelChained;
      c();
    }
  }

  template <class CB, class EB>
  auto addCallbacks(CB cb, EB eb) {
    using CbU = typename detail::Unwrap<typename detail::CallbackReturn<T, CB>::type>::type;
    if constexpr (std::is_same_v<EB, detail::PassFailure>) {
      return extend<CbU>(std::move(cb), std::move(eb));
    } else {
      using EbU = typename detail::Unwrap<typename detail::ErrbackReturn<EB>::type>::type;
      if constexpr (std::is_same_v<CB, detail::PassValue>) {
        static_assert(std::is_same_v<EbU, T>, "an errback produces the Deferred's own type");
        return extend<T>(std::move(cb), std::move(eb));
      } else {
        static_assert(std::is_same_v<CbU, EbU>, "a callback and its errback must produce the same type");
        return extend<CbU>(std::move(cb), std::move(eb));
      }
    }
  }
  template <class CB>
  auto addCallback(CB cb) {
    return addCallbacks(std::move(cb), detail::PassFailure{});
  }
  template <class EB>
  auto addErrback(EB eb) {
    return addCallbacks(detail::PassValue{}, std::move(eb));
  }
  /// f is called with the value (nothing for Deferred<void>) or with the Failure: a generic lambda
  /// or an overload set.
  template <class F>
  auto addBoth(F f) {
    return addCallbacks(f, f);
  }
  /// Twisted's chainDeferred: `other` fires with this chain's result.
  void chainDeferred(Deferred other) {
    continueWith([other](State& s) mutable { other.fireQuietly(s.take()); });
  }

  bool called() const { return state_->called; }
  bool paused() const { return state_->paused > 0; }

  detail::DeferredAwaiter<T> operator co_await() const { return detail::DeferredAwaiter<T>{state_}; }

 private:
  template <class> friend class Deferred;
  friend struct detail::DeferredAccess;
  template <class> friend struct detail::DeferredAwaiter;

  explicit Deferred(std::shared_ptr<State> s) : state_(std::move(s)) {}

  void fire(detail::Result<T> r) {
    auto s = state_;
    if (s->called) {
      if (s->suppressAlreadyCalled) {
        s->suppressAlreadyCalled = false;
        return;
      }
      throw AlreadyCalledError();
    }
    s->called = true;
    s->result = std::move(r);
    State::run(s);
  }

  /// fire() for internal forwarding: a target already fired (cancelled meanwhile) ignores it.
  void fireQuietly(detail::Result<T> r) {
    if (!state_->called) fire(std::move(r));
  }

  void addStep(std::function<void(State&)> step) {
    if (state_->continued) throw std::logic_error("Deferred: the chain was continued in another Deferred");
    state_->steps.push_back(std::move(step));
    State::run(state_);
  }
  void continueWith(std::function<void(State&)> step) {
    addStep(std::move(step));
    state_->continued = true;
  }

  /// Runs cb or eb on `in`.
  template <class U, class CB, class EB>
  static detail::Outcome<U> apply(detail::Result<T> in, CB& cb, EB& eb) {
    if (in.index() == 0) {
      if constexpr (std::is_same_v<CB, detail::PassValue>) {
        if constexpr (std::is_same_v<U, T>) return detail::Outcome<U>(std::in_place_index<0>, std::move(std::get<0>(in)));
      } else if constexpr (std::is_void_v<T>) {
        return detail::invokeInto<U>(cb);
      } else {
        return detail::invokeInto<U>(cb, std::move(std::get<0>(in)));
      }
    }
    if constexpr (std::is_same_v<EB, detail::PassFailure>) {
      return detail::Outcome<U>(std::in_place_index<1>, std::move(std::get<1>(in)));
    } else {
      return detail::invokeInto<U>(eb, std::move(std::get<1>(in)));
    }
  }

  /// `target` fires with `source`'s result once it has one (source's errors count as handled there).
  template <class U>
  static void forwardInto(Deferred<U> source, std::function<void(detail::Result<U>)> target) {
    source.continueWith([target = std::move(target)](detail::DeferredState<U>& s) { target(s.take()); });
  }

  template <class U, class CB, class EB>
  auto extend(CB cb, EB eb) {
    if constexpr (std::is_same_v<U, T>) {
      std::weak_ptr<State> weak = state_;
      addStep([cb = std::move(cb), eb = std::move(eb), weak](State& s) mutable {
        detail::Outcome<T> out = apply<T>(s.take(), cb, eb);
        if (out.index() != 2) return void(s.result = detail::toResult<T>(std::move(out)));
        Deferred<T> inner = std::move(std::get<2>(out));
        auto self = weak.lock();
        if (inner.state_ == self) {
          s.result = detail::Result<T>(std::in_place_index<1>,
                                       Failure::fromException(std::logic_error("a Deferred cannot chain to itself")));
          return;
        }
        ++s.paused;
        std::weak_ptr<State> weakInner = inner.state_;
        s.cancelChained = [weakInner] {
          if (auto i = weakInner.lock()) Deferred<T>(i).cancel();
        };
        forwardInto<T>(inner, [self](detail::Result<T> r) {
          self->result = std::move(r);
          --self->paused;
          self->cancelChained = nullptr;
          State::run(self);
        });
      });
      return *this;
    } else {
      Deferred<U> next;
      std::weak_ptr<State> weak = state_;
      next.state_->canceller = [weak](Deferred<U>&) {
        if (auto s = weak.lock()) Deferred<T>(s).cancel();
      };
      continueWith([cb = std::move(cb), eb = std::move(eb), next](State& s) mutable {
        detail::Outcome<U> out = apply<U>(s.take(), cb, eb);
        if (out.index() != 2) {
          next.fireQuietly(detail::toResult<U>(std::move(out)));
        } else {
          Deferred<U> inner = std::move(std::get<2>(out));
          std::weak_ptr<detail::DeferredState<U>> weakInner = inner.state_;
          next.state_->canceller = [weakInner](Deferred<U>&) {
            if (auto i = weakInner.lock()) Deferred<U>(i).cancel();
          };
          Deferred<U>::template forwardInto<U>(inner, [next](detail::Result<U> r) mutable { next.fireQuietly(std::move(r)); });
        }
      });
      return next;
    }
  }

  std::shared_ptr<State> state_;
};

namespace detail {

/// Internal access for the helpers below and LoopingCall.
struct DeferredAccess {
  template <class T>
  static std::shared_ptr<DeferredState<T>>& state(Deferred<T>& d) {
    return d.state_;
  }
  template <class T>
  static Deferred<T> make(std::shared_ptr<DeferredState<T>> s) {
    return Deferred<T>(std::move(s));
  }
  template <class T>
  static void addStep(Deferred<T>& d, std::function<void(DeferredState<T>&)> step) {
    d.addStep(std::move(step));
  }
  template <class U>
  static Deferred<U> fromOutcome(Outcome<U> out) {
    if (out.index() == 2) return std::move(std::get<2>(out));
    Deferred<U> d;
    d.fire(toResult<U>(std::move(out)));
    return d;
  }
  /// The Deferred's current failure (if any) no longer counts as unhandled.
  template <class T>
  static void markErrorHandled(Deferred<T>& d) {
    d.state_->errorHandled = true;
  }
};

/// co_await on a Deferred: waits for its result, returns the value or throws the failure (the
/// original exception when there is one, else the Failure).
template <class T>
struct DeferredAwaiter {
  std::shared_ptr<DeferredState<T>> state;
  std::optional<Result<T>> result{};
  bool suspended = false;
  std::coroutine_handle<> handle{};
  std::function<void()>* cancelSlot = nullptr;

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    handle = h;
    Deferred<T>(state).continueWith([this](DeferredState<T>& s) {
      result = s.take();
      if (suspended) handle.resume();  // `this` may be gone after this line
    });
    if (result) return false;
    suspended = true;
    if constexpr (requires { h.promise().cancelAwaited; }) {
      cancelSlot = &h.promise().cancelAwaited;
      std::weak_ptr<DeferredState<T>> weak = state;
      *cancelSlot = [weak] {
        if (auto s = weak.lock()) Deferred<T>(s).cancel();
      };
    }
    return true;
  }
  T await_resume() {
    if (cancelSlot) *cancelSlot = nullptr;
    Result<T> r = std::move(*result);
    if (r.index() == 1) raise(std::get<1>(r));
    if constexpr (!std::is_void_v<T>) return std::move(std::get<0>(r));
  }
};

template <class T>
struct DeferredPromiseBase {
  Deferred<T> deferred;
  std::function<void()> cancelAwaited;  ///< Cancels what the coroutine awaits now.

  Deferred<T> get_return_object() {
    deferred = Deferred<T>([this](Deferred<T>&) {
      if (cancelAwaited) {
        auto c = cancelAwaited;  // the frame may be destroyed inside c()
        c();
      }
    });
    return deferred;
  }
  std::suspend_never initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void unhandled_exception() {
    // Already fired only when cancel() errbacked it while the coroutine went on.
    if (!deferred.called()) deferred.errback(currentFailure());
  }
};

template <class T>
struct DeferredPromise : DeferredPromiseBase<T> {
  template <class V>
    requires std::is_convertible_v<V&&, T>
  void return_value(V&& value) {
    if (!this->deferred.called()) this->deferred.callback(T(std::forward<V>(value)));
  }
};
template <>
struct DeferredPromise<void> : DeferredPromiseBase<void> {
  void return_void() {
    if (!deferred.called()) deferred.callback();
  }
};

}  // namespace detail

/// A Deferred that has already fired with `value`.
template <class T>
Deferred<std::decay_t<T>> succeed(T&& value) {
  Deferred<std::decay_t<T>> d;
  d.callback(std::forward<T>(value));
  return d;
}
inline Deferred<void> succeed() {
  Deferred<void> d;
  d.callback();
  return d;
}
/// A Deferred<T> that has already failed with `failure`.
template <class T = void>
Deferred<T> fail(Failure failure) {
  Deferred<T> d;
  d.errback(std::move(failure));
  return d;
}

/// Calls f(args...) now: a Deferred it returns is passed on; a value becomes succeed(value); an
/// exception becomes fail().
template <class F, class... A>
auto maybeDeferred(F&& f, A&&... args) {
  using U = typename detail::Unwrap<std::invoke_result_t<F&, A&&...>>::type;
  return detail::DeferredAccess::fromOutcome<U>(detail::invokeInto<U>(f, std::forward<A>(args)...));
}

/// One input's outcome in a DeferredList's result, at the input's index.
template <class T>
struct DeferredListEntry {
  bool fired = false;
  bool success = false;
  std::optional<detail::Stored<T>> result;  ///< On success.
  Failure failure;                          ///< On failure.
};
template <class T>
using DeferredListResult = std::vector<DeferredListEntry<T>>;

/// Twisted's DeferredList: fires with every input's (success, result) once all have fired.
/// fireOnOneCallback: fires at the first success instead (that entry is the one with success set;
/// Twisted's (result, index)). fireOnOneErrback: errbacks at the first failure with FirstError.
/// consumeErrors: the inputs' failures stop there (not logged as unhandled); otherwise each input's
/// result passes on unchanged. An empty list fires at once (unless fireOnOneCallback). Cancelling
/// it cancels the inputs that have not fired. T must be copyable.
template <class T>
Deferred<DeferredListResult<T>> DeferredList(std::vector<Deferred<T>> inputs, bool fireOnOneCallback = false,
                                             bool fireOnOneErrback = false, bool consumeErrors = false) {
  using Out = DeferredListResult<T>;
  std::vector<std::weak_ptr<detail::DeferredState<T>>> weak;
  for (auto& d : inputs) weak.push_back(detail::DeferredAccess::state(d));
  Deferred<Out> out([weak](Deferred<Out>&) {
    for (auto& w : weak) {
      if (auto s = w.lock(); s && !s->called) detail::DeferredAccess::make<T>(s).cancel();
    }
  });
  struct Shared {
    Deferred<Out> out;
    Out entries;
    std::size_t finished = 0;
  };
  auto shared = std::make_shared<Shared>(Shared{out, Out(inputs.size()), 0});
  if (inputs.empty() && !fireOnOneCallback) out.callback(Out{});
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    detail::DeferredAccess::addStep<T>(inputs[i], [shared, i, fireOnOneCallback, fireOnOneErrback,
                                                   consumeErrors](detail::DeferredState<T>& s) {
      auto& entry = shared->entries[i];
      entry.fired = true;
      entry.success = s.result->index() == 0;
      if (entry.success) {
        entry.result = std::get<0>(*s.result);
      } else {
        entry.failure = std::get<1>(*s.result);
        if (consumeErrors) s.errorHandled = true;
      }
      ++shared->finished;
      if (shared->out.called()) return;
      if (fireOnOneCallback && entry.success) {
        shared->out.callback(shared->entries);
      } else if (fireOnOneErrback && !entry.success) {
        shared->out.errback(FirstError(entry.failure, i));
      } else if (shared->finished == shared->entries.size()) {
        shared->out.callback(shared->entries);
      }
    });
  }
  return out;
}

/// Twisted's gatherResults: the inputs' values in order (Deferred<void> for void inputs), or a
/// FirstError at the first failure.
template <class T>
auto gatherResults(std::vector<Deferred<T>> inputs, bool consumeErrors = false) {
  return DeferredList<T>(std::move(inputs), false, true, consumeErrors).addCallback([](DeferredListResult<T> list) {
    if constexpr (std::is_void_v<T>) {
      (void)list;
    } else {
      std::vector<T> values;
      values.reserve(list.size());
      for (auto& e : list) values.push_back(std::move(*e.result));
      return values;
    }
  });
}

/// Twisted's task.deferLater: calls fn() `delaySeconds` from now on `clock`; the Deferred fires with
/// what fn returns (waiting for it if it is a Deferred) or fails with what it throws. Cancelling it
/// before then cancels the call and errbacks with CancelledError.
template <class F>
auto deferLater(IReactorTime& clock, double delaySeconds, F fn) {
  using U = typename detail::Unwrap<std::invoke_result_t<F&>>::type;
  auto call = std::make_shared<DelayedCall>();
  Deferred<U> d([call](Deferred<U>&) {
    if (call->active()) call->cancel();
  });
  *call = clock.callLater(delaySeconds, [d, fn = std::move(fn)]() mutable {
    Deferred<U> result = detail::DeferredAccess::fromOutcome<U>(detail::invokeInto<U>(fn));
    result.chainDeferred(d);
  });
  return d;
}

}  // namespace reactor
