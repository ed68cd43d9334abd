// A text event log built from the simulator's signals: one line per signal,
// times in seconds with nanosecond resolution. Used for the golden traces
// (SimGrid .tesh habit: a checked-in log per scenario, diffed on every run)
// and for the determinism tests.
#ifndef SIREN_SIM_CORE_TRACE_OBSERVER_H_
#define SIREN_SIM_CORE_TRACE_OBSERVER_H_

#include <string>

#include "sim/core/observer.h"

namespace siren::sim {

class TraceObserver : public Observer {
 public:
  // With `log_updates` false, per-update lines are left out (long epochs).
  explicit TraceObserver(bool log_updates = true) : log_updates_(log_updates) {}

  const std::string& text() const { return text_; }
  void Clear() { text_.clear(); }

  void OnEpochStart(int epoch, double time_s, const Action& action) override;
  void OnEpochEnd(const EpochResult& result) override;
  void OnInvocationStart(int function, double time_s, bool cold) override;
  void OnInvocationEnd(int function, double time_s, double billed_s,
                       bool timed_out) override;
  void OnColdStart(int function, double time_s, double latency_s) override;
  void OnThrottle(int function, double time_s, double retry_at_s) override;
  void OnUpdateApplied(int function, double time_s, int64_t version,
                       int64_t staleness) override;

 private:
  void Append(const char* format, ...) __attribute__((format(printf, 2, 3)));
  bool log_updates_;
  std::string text_;
};

// One line with every field of `result`, as the trace's epoch summary.
std::string FormatEpochResult(const EpochResult& result);

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_TRACE_OBSERVER_H_
