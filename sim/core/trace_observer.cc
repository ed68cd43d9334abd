#include "sim/core/trace_observer.h"

#include <cstdarg>
#include <cstdio>

namespace siren::sim {

void TraceObserver::Append(const char* format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  if (n > 0) text_.append(buffer, std::min<size_t>(n, sizeof(buffer) - 1));
  text_.push_back('\n');
}

void TraceObserver::OnEpochStart(int epoch, double time_s,
                                 const Action& action) {
  Append("%.9f epoch_start epoch=%d functions=%d memory_mb=%d", time_s, epoch,
         action.functions, action.memory_mb);
}

void TraceObserver::OnEpochEnd(const EpochResult& result) {
  Append("%.9f epoch_end %s", result.cumulative_time_s,
         FormatEpochResult(result).c_str());
}

void TraceObserver::OnInvocationStart(int function, double time_s, bool cold) {
  Append("%.9f invocation_start fn=%d %s", time_s, function,
         cold ? "cold" : "warm");
}

void TraceObserver::OnInvocationEnd(int function, double time_s,
                                    double billed_s, bool timed_out) {
  Append("%.9f invocation_end fn=%d billed_s=%.3f%s", time_s, function,
         billed_s, timed_out ? " timed_out" : "");
}

void TraceObserver::OnColdStart(int function, double time_s, double latency_s) {
  Append("%.9f cold_start fn=%d latency_s=%.9f", time_s, function, latency_s);
}

void TraceObserver::OnThrottle(int function, double time_s, double retry_at_s) {
  Append("%.9f throttle fn=%d retry_at=%.9f", time_s, function, retry_at_s);
}

void TraceObserver::OnUpdateApplied(int function, double time_s,
                                    int64_t version, int64_t staleness) {
  if (!log_updates_) return;
  Append("%.9f update fn=%d version=%lld staleness=%lld", time_s, function,
         static_cast<long long>(version), static_cast<long long>(staleness));
}

std::string FormatEpochResult(const EpochResult& r) {
  char buffer[2048];
  std::snprintf(
      buffer, sizeof(buffer),
      "epoch=%d functions=%d memory_mb=%d used=%d duration_s=%.9f "
      "fetch=%.6f/%.6f compute=%.6f/%.6f update=%.6f/%.6f batches=%lld "
      "updates=%lld staleness=%.4f/%lld invocations=%d cold=%d warm=%d "
      "throttles=%d timeouts=%d reinvocations=%d slowdowns=%d gets=%lld "
      "puts=%lld gb_s=%.6f cpu_util=%.6f mem_util=%.6f "
      "cost=%.9f/%.9f/%.9f loss=%.9f true_loss=%.9f progress=%.6f "
      "time_s=%.9f cost_usd=%.9f status=%s events=%lld",
      r.epoch, r.action.functions, r.action.memory_mb, r.functions_used,
      r.duration_s, r.fetch.mean_s, r.fetch.p95_s, r.compute.mean_s,
      r.compute.p95_s, r.update.mean_s, r.update.p95_s,
      static_cast<long long>(r.batches), static_cast<long long>(r.updates),
      r.mean_staleness, static_cast<long long>(r.max_staleness), r.invocations,
      r.cold_starts, r.warm_starts, r.throttles, r.timeouts, r.reinvocations,
      r.s3_slowdowns, static_cast<long long>(r.s3_gets),
      static_cast<long long>(r.s3_puts), r.billed_gb_s, r.cpu_utilisation,
      r.memory_utilisation, r.cost.function_duration_usd,
      r.cost.function_request_usd, r.cost.s3_request_usd, r.loss, r.true_loss,
      r.progress, r.cumulative_time_s, r.cumulative_cost_usd,
      JobStatusName(r.status), static_cast<long long>(r.events));
  return buffer;
}

}  // namespace siren::sim
