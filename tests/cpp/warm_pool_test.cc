#include "sim/engine/warm_pool.h"

#include <gtest/gtest.h>

namespace siren::sim {
namespace {

TEST(WarmPoolTest, ReusesWithinKeepAliveOnly) {
  WarmPool pool(/*keep_alive=*/100);
  EXPECT_FALSE(pool.Acquire(1024, 0));
  pool.Release(1024, 10);
  pool.Release(1024, 50);
  EXPECT_EQ(pool.IdleCount(1024, 60), 2);
  EXPECT_EQ(pool.IdleCount(1024, 120), 1);  // The one from t=10 expired.
  EXPECT_TRUE(pool.Acquire(1024, 120));     // Takes the newest (t=50).
  EXPECT_FALSE(pool.Acquire(1024, 120));    // t=10 expired at 110.
}

TEST(WarmPoolTest, KeyedByMemory) {
  WarmPool pool(1000);
  pool.Release(512, 0);
  EXPECT_FALSE(pool.Acquire(1024, 1));
  EXPECT_TRUE(pool.Acquire(512, 1));
}

TEST(WarmPoolTest, KeepsOrderWhenReleasedOutOfOrder) {
  WarmPool pool(100);
  pool.Release(128, 50);
  pool.Release(128, 10);
  EXPECT_EQ(pool.IdleCount(128, 120), 1);
  EXPECT_TRUE(pool.Acquire(128, 140));  // t=50 alive until 150.
}

}  // namespace
}  // namespace siren::sim
