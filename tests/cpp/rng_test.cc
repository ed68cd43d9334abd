#include "sim/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace siren::sim {
namespace {

TEST(RngTest, SameSeedAndStreamRepeat) {
  Rng a(7, RngStream::kCompute), b(7, RngStream::kCompute);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.NextU64(), b.NextU64());
}

TEST(RngTest, StreamsAndSeedsDiffer) {
  Rng a(7, RngStream::kCompute), b(7, RngStream::kColdStart),
      c(8, RngStream::kCompute);
  const uint64_t x = a.NextU64();
  EXPECT_NE(x, b.NextU64());
  EXPECT_NE(x, c.NextU64());
}

TEST(RngTest, NormalMoments) {
  Rng rng(1, 0);
  const int n = 200000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

TEST(RngTest, TruncatedNormalIsNonNegativeWithRightMean) {
  // Cold start at 128 MB: N(265, 354) truncated at 0 has mean ~ 416 ms.
  Rng rng(3, 0);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.TruncatedNormalNonNegative(265, 354);
    ASSERT_GE(x, 0.0);
    sum += x;
  }
  // E[X | X >= 0] = mu + sd * phi(a) / (1 - Phi(a)), a = -mu/sd.
  const double a = -265.0 / 354.0;
  const double phi = std::exp(-a * a / 2) / std::sqrt(2 * M_PI);
  const double tail = 0.5 * std::erfc(a / std::sqrt(2.0));
  EXPECT_NEAR(sum / n, 265 + 354 * phi / tail, 5.0);
}

TEST(RngTest, LogNormalMedian) {
  Rng rng(5, 0);
  int below = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) below += rng.LogNormal(45.0, 0.35) < 45.0;
  EXPECT_NEAR(static_cast<double>(below) / n, 0.5, 0.01);
  EXPECT_EQ(rng.LogNormal(3.0, 0.0), 3.0);
}

}  // namespace
}  // namespace siren::sim
