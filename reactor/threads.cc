// ThreadPool (twisted.python.threadpool) and the Reactor's thread methods: callInThread,
// suggestThreadPoolSize, getThreadPool, isInIOThread.
// Tests: tests/reactor/threads_test.cc
#include "reactor/threads.h"

#include <chrono>
#include <string>

#include "reactor/detail/reactor_impl.h"
#include "reactor/log.h"

namespace reactor {

ThreadPool::ThreadPool(std::size_t maxThreads) : maxThreads_(maxThreads == 0 ? 1 : maxThreads) {}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::callInThread(std::function<void()> f) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (joined_) throw AlreadyQuit();
  queue_.push_back(std::move(f));
  // A worker only when none is waiting for work: the pool grows with the work, up to its bound.
  if (idle_ < queue_.size() && live_ < maxThreads_) {
    ++live_;
    threads_.emplace_back([this] { work(); });
  } else {
    workAvailable_.notify_one();
  }
}

void ThreadPool::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ++idle_;
    workAvailable_.wait(lock, [this] { return !queue_.empty() || joined_ || live_ > maxThreads_; });
    --idle_;
    // Nothing to do: the pool is stopping, or adjustPoolsize shrank it and this one is surplus.
    if (queue_.empty()) break;
    auto job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      log::error("unhandled exception in callInThread: ", e.what());
    } catch (...) {
      log::error("unhandled non-standard exception in callInThread");
    }
    job = nullptr;  // what it captured goes here, on this thread, outside the lock
    lock.lock();
  }
  --live_;
  workerExited_.notify_all();
}

void ThreadPool::adjustPoolsize(std::size_t maxThreads) {
  std::lock_guard<std::mutex> lock(mutex_);
  maxThreads_ = maxThreads == 0 ? 1 : maxThreads;
  workAvailable_.notify_all();
  // Queued work that the larger bound now allows to start at once.
  while (!joined_ && idle_ < queue_.size() && live_ < maxThreads_) {
    ++live_;
    threads_.emplace_back([this] { work(); });
  }
}

std::size_t ThreadPool::maxThreads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return maxThreads_;
}

std::size_t ThreadPool::workers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_;
}

std::size_t ThreadPool::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_;
}

std::size_t ThreadPool::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

bool ThreadPool::joined() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return joined_;
}

void ThreadPool::stop(const std::function<void()>& whileWaiting) {
  std::vector<std::thread> threads;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!joined_) {
      joined_ = true;
      workAvailable_.notify_all();
    }
    // Workers drain the queue, then exit. Waiting here in slices lets the caller (the reactor)
    // serve what the workers ask of it meanwhile.
    while (live_ > 0) {
      if (whileWaiting) {
        lock.unlock();
        whileWaiting();
        lock.lock();
        workerExited_.wait_for(lock, std::chrono::milliseconds(5), [this] { return live_ == 0; });
      } else {
        workerExited_.wait(lock, [this] { return live_ == 0; });
      }
    }
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

// --- Reactor ------------------------------------------------------------------------------------

void Reactor::callInThread(std::function<void()> f) {
  // What f throws is logged on the reactor thread, where the log sink lives (log::setSink is not
  // for several threads at once).
  getThreadPool().callInThread([this, f = std::move(f)] {
    try {
      f();
    } catch (const std::exception& e) {
      callFromThread([what = std::string(e.what())] { log::error("unhandled exception in callInThread: ", what); });
    } catch (...) {
      callFromThread([] { log::error("unhandled non-standard exception in callInThread"); });
    }
  });
}

void Reactor::suggestThreadPoolSize(std::size_t size) {
  impl_->threadPoolSize_ = size == 0 ? 1 : size;
  if (impl_->threadPool_) impl_->threadPool_->adjustPoolsize(impl_->threadPoolSize_);
}

ThreadPool& Reactor::getThreadPool() {
  if (!impl_->threadPool_) impl_->threadPool_ = std::make_unique<ThreadPool>(impl_->threadPoolSize_);
  return *impl_->threadPool_;
}

bool Reactor::isInIOThread() const { return impl_->ioThread_.load() == std::this_thread::get_id(); }

namespace detail {

void ReactorImpl::stopThreadPool() {
  if (!threadPool_) return;
  threadPool_->stop([this] { runThreadCalls(); });
}

}  // namespace detail

}  // namespace reactor
