// The simulated clock's event queue: a binary min-heap ordered by time, ties
// broken by insertion order (first scheduled, first served), so that the
// order of simultaneous events never depends on heap internals.
//
// Time is an integer count of nanoseconds (SimTime), so that durations add
// exactly and billing rounds without floating-point drift.
#ifndef SIREN_SIM_CORE_EVENT_QUEUE_H_
#define SIREN_SIM_CORE_EVENT_QUEUE_H_

#include <cmath>
#include <cstdint>
#include <vector>

namespace siren::sim {

using SimTime = int64_t;  // Nanoseconds since the start of the job.

constexpr SimTime kNsPerSecond = 1'000'000'000;

// The largest simulated time, 2^62 - 1 ns (about 146 years): conversions
// and sums saturate here instead of wrapping, so time never runs backwards;
// the engine refuses a job whose clock passes kMaxJobTime.
constexpr SimTime kMaxSimTime = (SimTime{1} << 62) - 1;
// 10^9 s (about 31.7 years) of simulated time per job.
constexpr SimTime kMaxJobTime = SimTime{1'000'000'000} * 1'000'000'000;

// Seconds to nanoseconds, rounded, saturating at +-kMaxSimTime (a NaN
// saturates high).
inline SimTime SecondsToSimTime(double seconds) {
  const double ns = seconds * 1e9;
  if (!(ns < static_cast<double>(kMaxSimTime))) return kMaxSimTime;
  if (!(ns > -static_cast<double>(kMaxSimTime))) return -kMaxSimTime;
  return static_cast<SimTime>(std::llround(ns));
}

// a + b for times in [0, kMaxSimTime], saturating at kMaxSimTime.
inline SimTime AddTime(SimTime a, SimTime b) {
  const SimTime sum = a + b;  // <= 2^63 - 2: cannot overflow.
  return sum < kMaxSimTime ? sum : kMaxSimTime;
}
inline double SimTimeToSeconds(SimTime t) { return t * 1e-9; }

// One scheduled event: `kind` says what happens to `target` at `time`.
struct Event {
  SimTime time = 0;
  uint64_t sequence = 0;  // Insertion order; breaks ties.
  int32_t target = 0;     // Function (worker) index.
  int32_t kind = 0;       // Interpreted by the model that scheduled it.
};

class EventQueue {
 public:
  // Schedules `kind` for `target` at `time`.
  void Push(SimTime time, int32_t target, int32_t kind) {
    heap_.push_back(Event{time, next_sequence_++, target, kind});
    SiftUp(heap_.size() - 1);
  }

  // Removes and returns the earliest event (lowest sequence among equals).
  // Precondition: !empty().
  Event Pop() {
    Event top = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0);
    return top;
  }

  const Event& Top() const { return heap_.front(); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // Drops every pending event; the sequence counter keeps counting.
  void Clear() { heap_.clear(); }
  void Reserve(size_t n) { heap_.reserve(n); }

 private:
  static bool Before(const Event& a, const Event& b) {
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
  }

  void SiftUp(size_t i) {
    Event moving = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!Before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }

  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    Event moving = heap_[i];
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], moving)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<Event> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_EVENT_QUEUE_H_
