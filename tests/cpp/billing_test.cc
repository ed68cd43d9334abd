// Billing by the AWS Lambda platform (Platform::Bill) and the engine's meter.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sim/engine/billing_meter.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

constexpr SimTime kMs = 1'000'000;

// The default preset with these billing prices.
Scenario Priced(double granularity_s) {
  return LoadScenario(
      "default",
      {"billing.granularity_s=" + std::to_string(granularity_s),
       "billing.usd_per_gb_s=0.0000166667", "billing.usd_per_request=0.2e-6",
       "billing.s3_usd_per_get=0.0000004", "billing.s3_usd_per_put=0.000005"});
}

// A meter over the scenario's platform (kept alive with the meter).
struct Meter {
  explicit Meter(double granularity_s)
      : scenario(Priced(granularity_s)),
        platform(MakePlatform(scenario)),
        meter(*platform, scenario.billing) {}
  Scenario scenario;
  std::shared_ptr<const Platform> platform;
  BillingMeter meter;
};

TEST(BillingTest, RoundsUpTo100MsIn2018) {
  const SimTime g = 100 * kMs;
  EXPECT_EQ(BilledDuration(1234 * kMs, g), 1300 * kMs);
  EXPECT_EQ(BilledDuration(1200 * kMs, g), 1200 * kMs);
  EXPECT_EQ(BilledDuration(1, g), 100 * kMs);
  EXPECT_EQ(BilledDuration(0, g), 0);
}

TEST(BillingTest, RoundsUpTo1MsSince2020) {
  const SimTime g = kMs;
  EXPECT_EQ(BilledDuration(1234 * kMs + 1, g), 1235 * kMs);
  EXPECT_EQ(BilledDuration(1234 * kMs, g), 1234 * kMs);
  EXPECT_EQ(BilledDuration(1, g), kMs);
}

TEST(BillingTest, InvocationCostByHand) {
  // 1.234 s at 1024 MB: 2018 bills 1.3 GB-s, 2020+ bills 1.234 GB-s.
  Meter old_prices(0.1);
  BillingMeter& old_meter = old_prices.meter;
  old_meter.ChargeInvocation(1234 * kMs, 1024);
  EXPECT_NEAR(old_meter.billed_gb_s(), 1.3, 1e-12);
  EXPECT_NEAR(old_meter.cost().function_duration_usd, 1.3 * 0.0000166667,
              1e-15);
  EXPECT_NEAR(old_meter.cost().function_request_usd, 0.2e-6, 1e-18);

  Meter new_prices(0.001);
  BillingMeter& new_meter = new_prices.meter;
  new_meter.ChargeInvocation(1234 * kMs, 1024);
  EXPECT_NEAR(new_meter.billed_gb_s(), 1.234, 1e-12);
  EXPECT_NEAR(new_meter.cost().function_duration_usd, 1.234 * 0.0000166667,
              1e-15);

  // 512 MB is half a GB: 0.25 s -> 0.125 GB-s.
  Meter half_prices(0.001);
  BillingMeter& half = half_prices.meter;
  half.ChargeInvocation(250 * kMs, 512);
  EXPECT_NEAR(half.billed_gb_s(), 0.125, 1e-12);
}

TEST(BillingTest, S3RequestCharges) {
  Meter prices(0.001);
  BillingMeter& meter = prices.meter;
  meter.ChargeS3Gets(1000);
  meter.ChargeS3Puts(1000);
  EXPECT_NEAR(meter.cost().s3_request_usd, 0.0004 + 0.005, 1e-15);
  EXPECT_NEAR(meter.cost().total_usd(), 0.0054, 1e-15);
  meter.Clear();
  EXPECT_EQ(meter.cost().total_usd(), 0.0);
}

}  // namespace
}  // namespace siren::sim
