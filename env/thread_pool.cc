#include "env/thread_pool.h"

#include <stdexcept>
#include <string>
#include <system_error>

namespace siren::env {

ThreadPool::ThreadPool(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw std::invalid_argument("num_threads: got " + std::to_string(threads) +
                                ", expected an integer in [1, " +
                                std::to_string(kMaxThreads) + "]");
  }
  for (int w = 1; w < threads; ++w) {
    try {
      workers_.emplace_back([this, w] { WorkerLoop(w); });
    } catch (const std::system_error& e) {
      // Stop and join the threads already started, then say so.
      Stop();
      throw std::runtime_error("num_threads: got " + std::to_string(threads) +
                               ", but only " + std::to_string(w) +
                               " threads could be started (" + e.what() +
                               "); expected at most that many");
    }
  }
}

void ThreadPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

ThreadPool::~ThreadPool() { Stop(); }

void ThreadPool::RunChunk(int chunk) {
  const int chunks = threads();
  const int begin = static_cast<int>(static_cast<int64_t>(n_) * chunk / chunks);
  const int end =
      static_cast<int>(static_cast<int64_t>(n_) * (chunk + 1) / chunks);
  if (begin >= end) return;
  try {
    (*fn_)(begin, end);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::WorkerLoop(int worker) {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    RunChunk(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(int n, const std::function<void(int, int)>& fn) {
  if (workers_.empty() || n <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    n_ = n;
    fn_ = &fn;
    error_ = nullptr;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  start_.notify_all();
  RunChunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    error = error_;
    fn_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace siren::env
