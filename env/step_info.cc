#include "env/step_info.h"

namespace siren::env {

const std::vector<std::string>& InfoNames() {
  static const std::vector<std::string> kNames = {"functions",
                                                  "memory_mb",
                                                  "requested_memory_mb",
                                                  "memory_clamped",
                                                  "functions_used",
                                                  "epoch_duration_s",
                                                  "epoch_cost_usd",
                                                  "function_duration_usd",
                                                  "function_request_usd",
                                                  "s3_request_usd",
                                                  "cold_starts",
                                                  "warm_starts",
                                                  "throttles",
                                                  "timeouts",
                                                  "reinvocations",
                                                  "fetch_mean_s",
                                                  "compute_mean_s",
                                                  "update_mean_s",
                                                  "mean_staleness",
                                                  "cpu_utilisation",
                                                  "loss",
                                                  "true_loss",
                                                  "cumulative_time_s",
                                                  "cumulative_cost_usd",
                                                  "status",
                                                  "episode_return",
                                                  "episode_length"};
  return kNames;
}

int InfoSize() { return static_cast<int>(InfoNames().size()); }

void WriteInfoRow(const StepInfo& info, double episode_return,
                  int episode_length, double* row) {
  const sim::EpochResult& e = info.epoch;
  const double values[] = {static_cast<double>(info.action.functions),
                           static_cast<double>(info.action.memory_mb),
                           static_cast<double>(info.action.requested_memory_mb),
                           info.action.memory_clamped ? 1.0 : 0.0,
                           static_cast<double>(e.functions_used),
                           e.duration_s,
                           e.cost.total_usd(),
                           e.cost.function_duration_usd,
                           e.cost.function_request_usd,
                           e.cost.s3_request_usd,
                           static_cast<double>(e.cold_starts),
                           static_cast<double>(e.warm_starts),
                           static_cast<double>(e.throttles),
                           static_cast<double>(e.timeouts),
                           static_cast<double>(e.reinvocations),
                           e.fetch.mean_s,
                           e.compute.mean_s,
                           e.update.mean_s,
                           e.mean_staleness,
                           e.cpu_utilisation,
                           e.loss,
                           e.true_loss,
                           e.cumulative_time_s,
                           e.cumulative_cost_usd,
                           static_cast<double>(e.status),
                           episode_return,
                           static_cast<double>(episode_length)};
  static_assert(sizeof(values) / sizeof(double) == 27);
  for (size_t i = 0; i < sizeof(values) / sizeof(double); ++i)
    row[i] = values[i];
}

}  // namespace siren::env
