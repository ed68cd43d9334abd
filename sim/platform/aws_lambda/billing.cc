#include "sim/platform/aws_lambda/billing.h"

namespace siren::sim {

SimTime BilledDuration(SimTime duration, SimTime granularity) {
  if (duration <= 0) return 0;
  return (duration + granularity - 1) / granularity * granularity;
}

double GbSeconds(SimTime billed, int memory_mb) {
  return SimTimeToSeconds(billed) * (memory_mb / 1024.0);
}

BillingMeter::BillingMeter(const BillingSpec& spec)
    : spec_(spec),
      granularity_(std::max<SimTime>(1, SecondsToSimTime(spec.granularity_s))) {
}

SimTime BillingMeter::ChargeInvocation(SimTime duration, int memory_mb) {
  const SimTime billed = BilledDuration(duration, granularity_);
  const double gb_s = GbSeconds(billed, memory_mb);
  billed_gb_s_ += gb_s;
  cost_.function_duration_usd += gb_s * spec_.usd_per_gb_s;
  cost_.function_request_usd += spec_.usd_per_request;
  return billed;
}

void BillingMeter::ChargeS3Gets(int64_t count) {
  cost_.s3_request_usd += count * spec_.s3_usd_per_get;
}

void BillingMeter::ChargeS3Puts(int64_t count) {
  cost_.s3_request_usd += count * spec_.s3_usd_per_put;
}

void BillingMeter::Clear() {
  cost_ = CostBreakdown{};
  billed_gb_s_ = 0;
}

}  // namespace siren::sim
