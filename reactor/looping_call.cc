// Port of twisted.internet.task.LoopingCall (start/stop/reset, _scheduleFrom's grid, withCount).
//
// The loop's state is shared between the LoopingCall object and the closure of its pending
// DelayedCall; the closure holds only a weak_ptr, so destroying the LoopingCall (which cancels the
// pending call) can never leave a dangling callback behind.
#include "reactor/looping_call.h"

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include "reactor/log.h"

namespace reactor {

struct LoopingCall::State {
  IReactorTime* clock = nullptr;
  std::function<void(int)> f;
  bool withCount = false;
  LoopingCall* owner = nullptr;  ///< Null once the LoopingCall object is gone.
  bool running = false;
  bool runAtStart = false;
  double interval = 0.0;
  double startTime = 0.0;
  std::optional<double> realLastTime;  ///< withCount: when f last ran.
  DelayedCall call;
  std::optional<Deferred<void>> deferred;  ///< From start(), until it fires.

  /// Twisted's _intervalOf: how many whole intervals separate `t` from the grid's origin.
  long intervalOf(double t) const { return static_cast<long>((t - startTime) / interval); }

  /// Twisted's _scheduleFrom: the next grid point strictly after `when`.
  static void scheduleFrom(const std::shared_ptr<State>& self, double when) {
    double howLong = 0.0;
    if (self->interval > 0) {
      double runningFor = when - self->startTime;
      double into = std::fmod(runningFor, self->interval);
      if (into < 0) into += self->interval;
      howLong = self->interval - into;
      // Floating-point: when the step vanishes next to `when`, wait a whole interval.
      if (when == when + howLong) howLong = self->interval;
    }
    std::weak_ptr<State> weak = self;
    self->call = self->clock->callLater(howLong, [weak] {
      if (auto state = weak.lock()) fire(state);
    });
  }

  /// Twisted's LoopingCall.__call__ (and withCount's counter). `self` keeps the state alive even
  /// if f destroys the LoopingCall object.
  static void fire(const std::shared_ptr<State>& self) {
    self->call = DelayedCall();
    int count = 1;
    if (self->withCount && self->interval > 0) {
      double now = self->clock->seconds();
      double last;
      if (self->realLastTime) {
        last = *self->realLastTime;
      } else {
        last = self->startTime;
        if (self->runAtStart) last -= self->interval;
      }
      long elapsed = self->intervalOf(now) - self->intervalOf(last);
      count = elapsed > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                                         : static_cast<int>(elapsed);
      if (count > 0) self->realLastTime = now;
    } else if (self->withCount) {
      self->realLastTime = self->clock->seconds();
    }
    try {
      if (count > 0) self->f(count);
    } catch (...) {
      self->running = false;
      if (self->call.active()) self->call.cancel();
      self->call = DelayedCall();
      LoopingCall* owner = self->owner;
      Failure failure = Failure::fromException(std::current_exception());
      std::optional<Deferred<void>> d = std::move(self->deferred);
      self->deferred.reset();
      if (owner && owner->onError) {
        owner->onError(std::current_exception());
      }
      if (d) d->errback(failure);
      if (d && owner && owner->onError) detail::DeferredAccess::markErrorHandled(*d);
      return;
    }
    // f may have stopped the loop, or stopped and restarted it (which scheduled already).
    if (self->running && !self->call.active()) scheduleFrom(self, self->clock->seconds());
  }
};

LoopingCall::LoopingCall(IReactorTime& clock, std::function<void()> f)
    : LoopingCall(clock, [f = std::move(f)](int) { f(); }, 0) {}

LoopingCall::LoopingCall(IReactorTime& clock, std::function<void(int)> f, int withCount)
    : state_(std::make_shared<State>()) {
  state_->clock = &clock;
  state_->f = std::move(f);
  state_->withCount = withCount != 0;
  state_->owner = this;
}

LoopingCall LoopingCall::withCount(IReactorTime& clock, std::function<void(int)> f) {
  return LoopingCall(clock, std::move(f), 1);
}

LoopingCall::~LoopingCall() {
  if (!state_) return;
  state_->owner = nullptr;
  state_->running = false;
  if (state_->call.active()) state_->call.cancel();
}

LoopingCall::LoopingCall(LoopingCall&& other) noexcept
    : onError(std::move(other.onError)), state_(std::move(other.state_)) {
  if (state_) state_->owner = this;
}

Deferred<void> LoopingCall::start(double interval, bool now) {
  if (!state_) throw std::logic_error("LoopingCall: moved-from");
  if (state_->running) throw std::logic_error("LoopingCall: already running");
  if (!(interval >= 0) || std::isinf(interval)) {
    throw std::invalid_argument("LoopingCall.start: interval must be a finite number >= 0");
  }
  auto self = state_;  // f may destroy *this
  self->running = true;
  self->startTime = self->clock->seconds();
  self->interval = interval;
  self->runAtStart = now;
  self->realLastTime.reset();
  Deferred<void> d;
  self->deferred = d;
  if (now) {
    State::fire(self);
  } else {
    State::scheduleFrom(self, self->startTime);
  }
  return d;
}

void LoopingCall::stop() {
  if (!state_ || !state_->running) throw std::logic_error("LoopingCall: not running");
  state_->running = false;
  if (state_->call.active()) state_->call.cancel();
  state_->call = DelayedCall();
  std::optional<Deferred<void>> d = std::move(state_->deferred);
  state_->deferred.reset();
  if (d) d->callback();
}

void LoopingCall::reset() {
  if (!state_ || !state_->running) throw std::logic_error("LoopingCall: not running");
  // As in Twisted, a reset from inside f (no call pending yet) changes nothing.
  if (!state_->call.active()) return;
  state_->call.cancel();
  state_->startTime = state_->clock->seconds();
  State::scheduleFrom(state_, state_->startTime);
}

bool LoopingCall::running() const { return state_ && state_->running; }

double LoopingCall::interval() const { return state_ ? state_->interval : 0.0; }

}  // namespace reactor
