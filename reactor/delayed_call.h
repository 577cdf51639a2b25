// Port of twisted.internet.base.DelayedCall and IReactorTime, plus the timer queue that backs both
// the real reactor and ManualClock (Twisted's task.Clock).
//
// Ordering: calls with equal deadlines run in the order they were scheduled (FIFO) — stronger than
// Twisted, which promises nothing (twisted#6718). A call scheduled while timed calls are running
// never runs in that same pass, so callLater(0) loops cannot starve I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace reactor {

class AlreadyCalled : public std::logic_error {
 public:
  AlreadyCalled() : std::logic_error("AlreadyCalled: the delayed call has already run") {}
};
class AlreadyCancelled : public std::logic_error {
 public:
  AlreadyCancelled() : std::logic_error("AlreadyCancelled: the delayed call was cancelled") {}
};

namespace detail {
struct TimedCall;
}
class TimerQueue;

/// A handle on a scheduled call. Cheap to copy; safe to keep after the call ran or its queue died.
class DelayedCall {
 public:
  DelayedCall() = default;

  /// The deadline, on the clock's seconds() scale.
  double getTime() const;
  /// Throws AlreadyCalled / AlreadyCancelled, as Twisted does: guard with active().
  void cancel();
  /// Run `secondsFromNow` after now instead. Throws like cancel().
  void reset(double secondsFromNow);
  /// Push the deadline `secondsLater` further. Throws like cancel().
  void delay(double secondsLater);
  /// True until the call has run or been cancelled.
  bool active() const;
  bool called() const;
  bool cancelled() const;

  explicit operator bool() const { return static_cast<bool>(call_); }

 private:
  friend class TimerQueue;
  explicit DelayedCall(std::shared_ptr<detail::TimedCall> call) : call_(std::move(call)) {}
  std::shared_ptr<detail::TimedCall> call_;
};

/// Twisted's IReactorTime: the clock LoopingCall and protocol timeouts are written against, so tests
/// can hand them a ManualClock.
class IReactorTime {
 public:
  virtual ~IReactorTime() = default;
  /// Monotonic seconds.
  virtual double seconds() const = 0;
  /// Run f once, `delaySeconds` (>= 0; std::invalid_argument otherwise) from now. An exception
  /// thrown by f is logged and the loop carries on.
  virtual DelayedCall callLater(double delaySeconds, std::function<void()> f) = 0;

  template <class Rep, class Period>
  DelayedCall callLater(std::chrono::duration<Rep, Period> delay, std::function<void()> f) {
    return callLater(std::chrono::duration<double>(delay).count(), std::move(f));
  }
  /// Every call still active, soonest first.
  virtual std::vector<DelayedCall> getDelayedCalls() const = 0;
};

/// A min-heap of (deadline, sequence) — the one mechanism behind every timer.
class TimerQueue {
 public:
  /// `now` reads the owning clock; `wakeup` is called whenever the earliest deadline may have moved
  /// earlier (the reactor re-arms its one uv timer there). Either may be empty.
  TimerQueue(std::function<double()> now, std::function<void()> wakeup);
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  DelayedCall schedule(double delaySeconds, std::function<void()> f);
  /// Runs every call whose deadline is <= now and that was scheduled before this pass began.
  /// Returns how many ran.
  std::size_t runDue();
  /// Earliest active deadline, if any.
  std::optional<double> nextDeadline() const;
  std::size_t activeCount() const;
  std::vector<DelayedCall> activeCalls() const;
  double now() const;

 private:
  friend class DelayedCall;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Twisted's task.Clock: time moves only when a test says so.
class ManualClock final : public IReactorTime {
 public:
  ManualClock();
  double seconds() const override { return now_; }
  using IReactorTime::callLater;
  DelayedCall callLater(double delaySeconds, std::function<void()> f) override;
  std::vector<DelayedCall> getDelayedCalls() const override;
  /// Move time forward and run everything that became due (repeatedly, so calls scheduled by those
  /// calls for the past-or-present also run, as task.Clock.advance does).
  void advance(double seconds);
  /// advance() by each amount in turn (task.Clock.pump).
  void pump(const std::vector<double>& steps);

 private:
  double now_ = 0.0;
  TimerQueue queue_;
};

}  // namespace reactor
