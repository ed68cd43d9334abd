#include "sim/core/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/core/rng.h"

namespace siren::sim {
namespace {

TEST(EventQueueTest, PopsInTimeOrder) {
  EventQueue queue;
  queue.Push(30, 0, 0);
  queue.Push(10, 1, 0);
  queue.Push(20, 2, 0);
  EXPECT_EQ(queue.Pop().target, 1);
  EXPECT_EQ(queue.Pop().target, 2);
  EXPECT_EQ(queue.Pop().target, 0);
  EXPECT_TRUE(queue.empty());
}

TEST(EventQueueTest, BreaksTiesByInsertionOrder) {
  EventQueue queue;
  for (int i = 0; i < 50; ++i) queue.Push(7, i, 0);
  queue.Push(3, 99, 0);
  EXPECT_EQ(queue.Pop().target, 99);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(queue.Pop().target, i);
}

TEST(EventQueueTest, InterleavedPushPopMatchesStableSort) {
  EventQueue queue;
  Rng rng(42, 0);
  std::vector<Event> popped;
  std::vector<Event> pushed;
  uint64_t sequence = 0;
  for (int round = 0; round < 2000; ++round) {
    const int pushes = static_cast<int>(rng.Uniform() * 3);
    for (int k = 0; k < pushes; ++k) {
      // Few distinct times, so ties are frequent.
      const SimTime time = static_cast<SimTime>(rng.Uniform() * 20);
      queue.Push(time, round, k);
      pushed.push_back(Event{time, sequence++, round, k});
    }
    if (!queue.empty() && rng.Uniform() < 0.5) popped.push_back(queue.Pop());
  }
  while (!queue.empty()) popped.push_back(queue.Pop());
  ASSERT_EQ(popped.size(), pushed.size());
  // Every pop returns the minimum (time, sequence) of what was pending, so
  // equal-time events come out in insertion order.
  for (size_t i = 1; i < popped.size(); ++i) {
    if (popped[i].time == popped[i - 1].time) {
      EXPECT_LT(popped[i - 1].sequence, popped[i].sequence);
    }
  }
}

TEST(EventQueueTest, TimeConversionRoundTrips) {
  EXPECT_EQ(SecondsToSimTime(1.5), 1'500'000'000);
  EXPECT_DOUBLE_EQ(SimTimeToSeconds(250'000'000), 0.25);
}

}  // namespace
}  // namespace siren::sim
