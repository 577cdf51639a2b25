// Port of twisted.internet.task.LoopingCall.
#pragma once

#include <exception>
#include <functional>

#include "reactor/defer.h"
#include "reactor/delayed_call.h"

namespace reactor {

/// Calls f every `interval` seconds on a grid that starts at start(): a call that comes late does
/// not shift the grid, and beats missed while the process was busy are skipped, not queued
/// (Twisted's _scheduleFrom). start() returns a Deferred that fires when stop() is called, or
/// errbacks with what f threw (the loop then stops). onError, when set, also receives the exception
/// and counts as handling it; otherwise a failure nobody handles is logged as an unhandled error in
/// the Deferred. Destroying a running LoopingCall stops it without firing the Deferred.
class LoopingCall {
 public:
  LoopingCall(IReactorTime& clock, std::function<void()> f);
  /// Twisted's LoopingCall.withCount: f receives how many intervals passed since the last call
  /// (1 normally, more after skipped beats).
  static LoopingCall withCount(IReactorTime& clock, std::function<void(int)> f);
  ~LoopingCall();
  LoopingCall(LoopingCall&&) noexcept;
  LoopingCall& operator=(LoopingCall&&) = delete;
  LoopingCall(const LoopingCall&) = delete;
  LoopingCall& operator=(const LoopingCall&) = delete;

  /// interval >= 0 (std::invalid_argument otherwise); std::logic_error if already running.
  /// now=true calls f at once, as Twisted does. The Deferred fires on stop() and errbacks when f
  /// throws (it may have fired already when start returns: f threw at once, or stopped the loop).
  Deferred<void> start(double interval, bool now = true);
  /// std::logic_error if not running.
  void stop();
  /// Skip the next call: restart the grid from now.
  void reset();
  bool running() const;
  double interval() const;

  std::function<void(std::exception_ptr)> onError;

 private:
  struct State;
  explicit LoopingCall(IReactorTime& clock, std::function<void(int)> f, int);
  std::shared_ptr<State> state_;
};

}  // namespace reactor
