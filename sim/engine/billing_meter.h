// Accumulates one epoch's charges (DESIGN.md §2.5): each invocation's bill
// from the platform (Platform::Bill) and the S3 requests at their prices.
// The epoch's cost is exactly the sum of what was charged here.
#ifndef SIREN_SIM_ENGINE_BILLING_METER_H_
#define SIREN_SIM_ENGINE_BILLING_METER_H_

#include <cstdint>

#include "sim/core/epoch_result.h"
#include "sim/core/event_queue.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

class BillingMeter {
 public:
  // `platform` must outlive the meter.
  BillingMeter(const Platform& platform, const BillingSpec& s3_prices);

  // Bills one invocation whose billable time (handler run plus billed INIT)
  // is `duration`; returns its bill.
  InvocationBill ChargeInvocation(SimTime duration, int memory_mb);
  void ChargeS3Gets(int64_t count);
  void ChargeS3Puts(int64_t count);
  // LIST requests, at the PUT price (S3 bills LIST like PUT).
  void ChargeS3Lists(int64_t count);

  const CostBreakdown& cost() const { return cost_; }
  double billed_gb_s() const { return billed_gb_s_; }
  void Clear();

 private:
  const Platform* platform_;
  BillingSpec s3_prices_;
  CostBreakdown cost_;
  double billed_gb_s_ = 0;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_BILLING_METER_H_
