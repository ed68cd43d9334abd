// Lambda and S3 billing (DESIGN.md §2.5). An invocation is billed from the
// start of its handler to its end (the init phase of a cold start was unbilled
// for managed runtimes in the eras modelled here), rounded up to the
// granularity, times memory in GB (memory_mb / 1024) times the GB-second
// price, plus the per-request price. Throttled (429) calls cost nothing.
#ifndef SIREN_SIM_PLATFORM_AWS_LAMBDA_BILLING_H_
#define SIREN_SIM_PLATFORM_AWS_LAMBDA_BILLING_H_

#include <cstdint>

#include "sim/core/epoch_result.h"
#include "sim/core/event_queue.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// ceil(duration / granularity) * granularity, exact in integer nanoseconds.
// A zero duration bills zero; any positive duration bills at least one unit.
SimTime BilledDuration(SimTime duration, SimTime granularity);

// GB-seconds of a billed duration at `memory_mb`.
double GbSeconds(SimTime billed, int memory_mb);

// Accumulates one epoch's charges.
class BillingMeter {
 public:
  explicit BillingMeter(const BillingSpec& spec);

  // Bills one invocation that ran `duration`; returns its billed duration.
  SimTime ChargeInvocation(SimTime duration, int memory_mb);
  void ChargeS3Gets(int64_t count);
  void ChargeS3Puts(int64_t count);

  const CostBreakdown& cost() const { return cost_; }
  double billed_gb_s() const { return billed_gb_s_; }
  void Clear();

 private:
  BillingSpec spec_;
  SimTime granularity_;
  CostBreakdown cost_;
  double billed_gb_s_ = 0;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_PLATFORM_AWS_LAMBDA_BILLING_H_
