#include "sim/engine/billing_meter.h"

namespace siren::sim {

BillingMeter::BillingMeter(const Platform& platform,
                           const BillingSpec& s3_prices)
    : platform_(&platform), s3_prices_(s3_prices) {}

InvocationBill BillingMeter::ChargeInvocation(SimTime duration, int memory_mb) {
  const InvocationBill bill = platform_->Bill(duration, memory_mb);
  billed_gb_s_ += bill.gb_s;
  cost_.function_duration_usd += bill.duration_usd;
  cost_.function_request_usd += bill.request_usd;
  return bill;
}

void BillingMeter::ChargeS3Gets(int64_t count) {
  cost_.s3_request_usd += count * s3_prices_.s3_usd_per_get;
}

void BillingMeter::ChargeS3Puts(int64_t count) {
  cost_.s3_request_usd += count * s3_prices_.s3_usd_per_put;
}

void BillingMeter::ChargeS3Lists(int64_t count) {
  cost_.s3_request_usd += count * s3_prices_.s3_usd_per_put;
}

void BillingMeter::Clear() {
  cost_ = CostBreakdown{};
  billed_gb_s_ = 0;
}

}  // namespace siren::sim
