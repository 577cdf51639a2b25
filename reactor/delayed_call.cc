// The timer queue behind callLater (port of twisted.internet.base.DelayedCall, ReactorBase's timed
// calls, and task.Clock as ManualClock).
//
// One min-heap of entries ordered by (deadline, sequence). The shared state of a call (TimedCall) is
// what DelayedCall handles point at; heap entries point at it too. Cancel is lazy: the call is
// marked and its entry is skipped when it reaches the top. Moving a call earlier bumps its
// generation and pushes a fresh entry (the old one is then stale); moving it later only changes
// its deadline, and the entry is re-pushed when it surfaces (Twisted's delayed_time). Stale entries
// are compacted away once they outnumber the live ones, so reset-heavy idle timeouts do not grow
// the heap without bound. Invariant after every public operation: the heap's top entry, if any,
// is live and carries its call's true deadline, so nextDeadline() is exact.
#include "reactor/delayed_call.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

#include "reactor/log.h"

namespace reactor {

namespace detail {

/// The shared state of one scheduled call.
struct TimedCall {
  enum class State { Pending, Called, Cancelled };

  std::function<void()> f;
  double time = 0.0;       ///< The true deadline.
  double heapTime = 0.0;   ///< Deadline of this call's live heap entry (<= time).
  std::uint64_t seq = 0;   ///< FIFO tie-break; renewed by reset/delay.
  std::uint64_t gen = 0;   ///< Bumped when a fresh entry replaces the live one.
  State state = State::Pending;
  TimerQueue* owner = nullptr;  ///< Null once the queue is gone.
};

}  // namespace detail

using detail::TimedCall;

struct TimerQueue::Impl {
  struct Entry {
    double time;
    std::uint64_t seq;
    std::uint64_t gen;
    std::shared_ptr<TimedCall> call;
  };
  /// std::push_heap builds a max-heap; "later" compares greater so the soonest is on top.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.time != b.time) return a.time > b.time;
      return a.seq > b.seq;
    }
  };

  std::function<double()> now;
  std::function<void()> wakeup;
  std::vector<Entry> heap;
  std::vector<Entry> deferred;  ///< Due entries scheduled during the current pass.
  std::uint64_t nextSeq = 0;
  std::size_t active = 0;
  std::size_t stale = 0;  ///< Entries in heap/deferred that will never run.
  bool inPass = false;
  bool dying = false;  ///< Set by ~TimerQueue: schedule() then hands back a cancelled call.

  double clock() const { return now ? now() : 0.0; }

  static bool isLive(const Entry& e) {
    return e.call->state == TimedCall::State::Pending && e.gen == e.call->gen;
  }

  void push(Entry e) {
    heap.push_back(std::move(e));
    std::push_heap(heap.begin(), heap.end(), Later{});
  }
  Entry pop() {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    Entry e = std::move(heap.back());
    heap.pop_back();
    return e;
  }

  /// Restores the invariant: drops stale entries from the top and re-files lazily delayed ones.
  void pruneTop() {
    while (!heap.empty()) {
      Entry& top = heap.front();
      if (!isLive(top)) {
        pop();
        --stale;
      } else if (top.time < top.call->time) {
        Entry e = pop();
        e.time = e.call->time;
        e.seq = e.call->seq;
        e.call->heapTime = e.time;
        push(std::move(e));
      } else {
        return;
      }
    }
  }

  /// Removes every stale entry once they outnumber the live ones (amortised O(1) per entry).
  void maybeCompact() {
    if (inPass || stale < 64 || stale * 2 < heap.size()) return;
    std::erase_if(heap, [](const Entry& e) { return !isLive(e); });
    std::make_heap(heap.begin(), heap.end(), Later{});
    stale = 0;
  }

  /// Files `call` (already carrying its new time and seq) as its own live entry, calling
  /// wakeup if it became the earliest.
  void file(const std::shared_ptr<TimedCall>& call) {
    bool earliest = heap.empty() || call->time < heap.front().time;
    call->heapTime = call->time;
    push(Entry{call->time, call->seq, call->gen, call});
    if (earliest && wakeup) wakeup();
  }

  /// Moves a pending call to `when` (reset and delay).
  void move(const std::shared_ptr<TimedCall>& call, double when) {
    call->time = when;
    call->seq = nextSeq++;
    if (when < call->heapTime) {
      // Sooner: the old entry would surface too late; replace it.
      ++call->gen;
      ++stale;
      file(call);
      pruneTop();
      maybeCompact();
    } else {
      // Later (or equal): lazy; the entry is re-filed when it surfaces. If it is the top, re-file now
      // so nextDeadline() stays exact.
      pruneTop();
    }
  }

  void cancel(TimedCall& call) {
    call.state = TimedCall::State::Cancelled;
    --active;
    ++stale;
    std::function<void()> dropped = std::move(call.f);
    pruneTop();
    maybeCompact();
    // `dropped` dies last: its captures' destructors may re-enter the queue.
  }
};

// ---- DelayedCall --------------------------------------------------------------------------------

namespace {
void checkPending(const std::shared_ptr<TimedCall>& call) {
  if (!call) throw std::logic_error("empty DelayedCall handle");
  if (call->state == TimedCall::State::Called) throw AlreadyCalled();
  if (call->state == TimedCall::State::Cancelled) throw AlreadyCancelled();
}
}  // namespace

double DelayedCall::getTime() const {
  return call_ ? call_->time : std::numeric_limits<double>::quiet_NaN();
}

void DelayedCall::cancel() {
  checkPending(call_);
  // Keep the state alive across the call even if this handle is the last one outside the heap.
  auto keep = call_;
  keep->owner->impl_->cancel(*keep);
}

void DelayedCall::reset(double secondsFromNow) {
  checkPending(call_);
  if (!(secondsFromNow >= 0)) throw std::invalid_argument("DelayedCall.reset: delay must be >= 0");
  auto keep = call_;
  TimerQueue::Impl& q = *keep->owner->impl_;
  q.move(keep, q.clock() + secondsFromNow);
}

void DelayedCall::delay(double secondsLater) {
  checkPending(call_);
  if (std::isnan(secondsLater)) throw std::invalid_argument("DelayedCall.delay: NaN");
  auto keep = call_;
  keep->owner->impl_->move(keep, keep->time + secondsLater);
}

bool DelayedCall::active() const { return call_ && call_->state == TimedCall::State::Pending; }
bool DelayedCall::called() const { return call_ && call_->state == TimedCall::State::Called; }
bool DelayedCall::cancelled() const { return call_ && call_->state == TimedCall::State::Cancelled; }

// ---- TimerQueue ---------------------------------------------------------------------------------

TimerQueue::TimerQueue(std::function<double()> now, std::function<void()> wakeup)
    : impl_(std::make_unique<Impl>()) {
  impl_->now = std::move(now);
  impl_->wakeup = std::move(wakeup);
}

TimerQueue::~TimerQueue() {
  // Every pending call becomes cancelled-like (active() == false, cancel() throws AlreadyCancelled)
  // before any callable is destroyed, since a callable's destructor may poke at other handles.
  impl_->dying = true;
  std::vector<std::function<void()>> dropped;
  auto retire = [&](Impl::Entry& e) {
    TimedCall& call = *e.call;
    if (call.owner == nullptr) return;
    call.owner = nullptr;
    if (call.state == TimedCall::State::Pending) {
      call.state = TimedCall::State::Cancelled;
      dropped.push_back(std::move(call.f));
    }
  };
  for (auto& e : impl_->heap) retire(e);
  for (auto& e : impl_->deferred) retire(e);
  impl_->active = 0;
  impl_->wakeup = nullptr;
  dropped.clear();
}

DelayedCall TimerQueue::schedule(double delaySeconds, std::function<void()> f) {
  if (!(delaySeconds >= 0)) {
    throw std::invalid_argument("callLater: delay must be >= 0 and not NaN");
  }
  Impl& q = *impl_;
  auto call = std::make_shared<TimedCall>();
  call->f = std::move(f);
  call->time = q.clock() + delaySeconds;
  call->seq = q.nextSeq++;
  if (q.dying) {  // from a callable's destructor while the queue dies: never runs
    call->state = TimedCall::State::Cancelled;
    call->f = nullptr;
    return DelayedCall(std::move(call));
  }
  call->owner = this;
  ++q.active;
  q.file(call);
  return DelayedCall(std::move(call));
}

std::size_t TimerQueue::runDue() {
  Impl& q = *impl_;
  if (q.inPass) return 0;  // re-entered from a timed call: the outer pass carries on
  q.inPass = true;
  const double now = q.clock();
  const std::uint64_t passSeq = q.nextSeq;
  std::size_t ran = 0;
  while (!q.heap.empty() && q.heap.front().time <= now) {
    Impl::Entry e = q.pop();
    TimedCall& call = *e.call;
    if (!Impl::isLive(e)) {
      --q.stale;
      continue;
    }
    if (e.time < call.time) {  // delayed lazily: re-file at its true deadline
      e.time = call.time;
      e.seq = call.seq;
      call.heapTime = e.time;
      q.push(std::move(e));
      continue;
    }
    if (e.seq >= passSeq) {  // scheduled (or reset) during this pass: next pass
      q.deferred.push_back(std::move(e));
      continue;
    }
    call.state = TimedCall::State::Called;
    --q.active;
    ++ran;
    std::function<void()> f = std::move(call.f);
    try {
      f();
    } catch (const std::exception& ex) {
      log::error("Unhandled error in a delayed call: ", ex.what());
    } catch (...) {
      log::error("Unhandled error in a delayed call: unknown exception");
    }
  }
  for (auto& e : q.deferred) q.push(std::move(e));
  q.deferred.clear();
  q.inPass = false;
  q.pruneTop();
  q.maybeCompact();
  return ran;
}

std::optional<double> TimerQueue::nextDeadline() const {
  if (impl_->heap.empty()) return std::nullopt;
  return impl_->heap.front().time;
}

std::size_t TimerQueue::activeCount() const { return impl_->active; }

std::vector<DelayedCall> TimerQueue::activeCalls() const {
  std::vector<std::shared_ptr<TimedCall>> live;
  live.reserve(impl_->active);
  for (const auto* list : {&impl_->heap, &impl_->deferred}) {
    for (const auto& e : *list) {
      if (Impl::isLive(e)) live.push_back(e.call);
    }
  }
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) {
    if (a->time != b->time) return a->time < b->time;
    return a->seq < b->seq;
  });
  std::vector<DelayedCall> out;
  out.reserve(live.size());
  for (auto& c : live) out.push_back(DelayedCall(std::move(c)));
  return out;
}

double TimerQueue::now() const { return impl_->clock(); }

// ---- ManualClock --------------------------------------------------------------------------------

ManualClock::ManualClock() : queue_([this] { return now_; }, nullptr) {}

DelayedCall ManualClock::callLater(double delaySeconds, std::function<void()> f) {
  return queue_.schedule(delaySeconds, std::move(f));
}

std::vector<DelayedCall> ManualClock::getDelayedCalls() const { return queue_.activeCalls(); }

void ManualClock::advance(double seconds) {
  if (!(seconds >= 0)) throw std::invalid_argument("ManualClock.advance: time only moves forward");
  now_ += seconds;
  // Like task.Clock.advance: keep going while something is due, including calls that due calls
  // scheduled for the present. A call that reschedules itself for 0 s forever never lets this return,
  // exactly as in Twisted.
  while (true) {
    auto next = queue_.nextDeadline();
    if (!next || *next > now_) break;
    if (queue_.runDue() == 0) break;
  }
}

void ManualClock::pump(const std::vector<double>& steps) {
  for (double s : steps) advance(s);
}

}  // namespace reactor
