// A fixed fork-join pool for stepping vector envs: ParallelFor splits [0, n)
// into one contiguous chunk per thread (the caller runs chunk 0) and blocks
// until every chunk is done. Persistent threads keep the per-call latency at
// a few microseconds, which a task-queue pool with futures does not. Chunking
// never changes results: each index is handled independently.
#ifndef SIREN_ENV_THREAD_POOL_H_
#define SIREN_ENV_THREAD_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace siren::env {

class ThreadPool {
 public:
  // Threads a pool may have: far above the cores of one machine.
  static constexpr int kMaxThreads = 256;

  // `threads` in [1, kMaxThreads] (the caller counts as one); throws
  // std::invalid_argument outside that, and std::runtime_error naming
  // num_threads when the system cannot start them all (those started are
  // stopped first).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn(begin, end) on every chunk of [0, n); rethrows the first
  // exception a chunk threw, after all chunks have finished.
  void ParallelFor(int n, const std::function<void(int, int)>& fn);

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

 private:
  void WorkerLoop(int worker);
  // Stops and joins every worker.
  void Stop();
  void RunChunk(int chunk);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  int n_ = 0;
  const std::function<void(int, int)>* fn_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace siren::env

#endif  // SIREN_ENV_THREAD_POOL_H_
