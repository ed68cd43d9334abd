// The anchor table: its budget grid, its lookups and the structured
// schedules the schedule anchor starts from.
#include "agent/trainer/anchor_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "sim/scenario/scenario_loader.h"

namespace siren::agent {
namespace {

TEST(AnchorTableTest, OneRowWithoutABudgetRange) {
  const sim::Scenario s = sim::LoadScenario("default", {"job.budget_usd=0.3"});
  EXPECT_EQ(AnchorBudgets(s, 9), std::vector<double>{0.3});
}

TEST(AnchorTableTest, GridSpacedAsTheBudgetsAreDrawn) {
  const sim::Scenario log = sim::LoadScenario(
      "default",
      {"job.budget_range=[0.1, 0.4]", "job.budget_draw=log_uniform"});
  const std::vector<double> b = AnchorBudgets(log, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0], 0.1);
  EXPECT_NEAR(b[1], 0.2, 1e-12);  // Geometric middle of 0.1 and 0.4.
  EXPECT_EQ(b[2], 0.4);
  const sim::Scenario uniform = sim::LoadScenario(
      "default", {"job.budget_range=[0.1, 0.4]", "job.budget_draw=uniform"});
  EXPECT_NEAR(AnchorBudgets(uniform, 3)[1], 0.25, 1e-12);
  EXPECT_THROW(AnchorBudgets(log, 1), std::invalid_argument);
}

TEST(AnchorTableTest, FixedBudgetScenarioDropsTheRange) {
  const sim::Scenario s =
      sim::LoadScenario("default", {"job.budget_range=[0.1, 0.4]"});
  const sim::Scenario fixed = FixedBudgetScenario(s, 0.25);
  EXPECT_EQ(fixed.job.budget_usd, 0.25);
  EXPECT_EQ(AnchorBudgets(fixed, 9), std::vector<double>{0.25});
}

TEST(AnchorTableTest, RefinementClosesTheGapsAndKeepsTheGrid) {
  const sim::Scenario s = sim::LoadScenario(
      "softmax-digits",
      {"job.budget_range=[0.004, 0.02]", "job.budget_draw=log_uniform"});
  const AnchorTable grid = ComputeOracleAnchorTable(s, 2, 2, 1);
  const double gap = 0.01;
  const AnchorTable refined = RefineOracleAnchorTable(s, grid, gap, 2, 1, true);
  ASSERT_GT(refined.rows(), grid.rows());
  EXPECT_EQ(refined.budgets_usd.front(), grid.budgets_usd.front());
  EXPECT_EQ(refined.budgets_usd.back(), grid.budgets_usd.back());
  for (int row = 1; row < refined.rows(); ++row) {
    const double a = refined.budgets_usd[row - 1];
    const double b = refined.budgets_usd[row];
    ASSERT_LT(a, b);
    // The envelope: no row ranks after the row below it.
    const double sa = refined.tuning_success_rate[row - 1];
    const double sb = refined.tuning_success_rate[row];
    EXPECT_GE(sb, sa) << "row " << row;
    if (sa == sb) {
      EXPECT_LE(refined.tuning_mean_jct_s[row],
                refined.tuning_mean_jct_s[row - 1])
          << "row " << row;
    }
    // Closed gaps, or budgets too close to split.
    if (b > a * 1.002) {
      EXPECT_EQ(sa, sb) << "row " << row;
      EXPECT_LE(refined.tuning_mean_jct_s[row - 1],
                refined.tuning_mean_jct_s[row] * (1 + gap) + 1e-9)
          << "row " << row;
    }
  }
  // Whatever the thread count.
  const AnchorTable again = RefineOracleAnchorTable(s, grid, gap, 2, 2, true);
  EXPECT_EQ(again.budgets_usd, refined.budgets_usd);
  EXPECT_EQ(again.tuning_mean_jct_s, refined.tuning_mean_jct_s);
  EXPECT_THROW(RefineOracleAnchorTable(s, grid, -0.1, 2, 1, true),
               std::invalid_argument);

  // The cliff search: here it finds 8 functions (26.54 s) fit a lower budget
  // than the midpoint searches alone did, so at no budget of either table is
  // the floor row slower, and somewhere it is faster.
  const AnchorTable plain = RefineOracleAnchorTable(s, grid, gap, 2, 1, false);
  std::vector<float> keys = plain.budget_keys;  // Observed budgets.
  keys.insert(keys.end(), refined.budget_keys.begin(),
              refined.budget_keys.end());
  bool faster_somewhere = false;
  for (float key : keys) {
    const double with = refined.tuning_mean_jct_s[refined.Row(key)];
    const double without = plain.tuning_mean_jct_s[plain.Row(key)];
    EXPECT_LE(with, without + 1e-9) << "observed budget " << key;
    faster_somewhere |= with < without - 1e-9;
  }
  EXPECT_TRUE(faster_somewhere);
}

TEST(AnchorTableTest, RowIsTheLargestGridBudgetAtOrBelow) {
  AnchorTable t;
  t.budgets_usd = {0.1, 0.2, 0.4};
  t.budget_keys = {0.1f, 0.2f, 0.4f};
  EXPECT_EQ(t.Row(0.05f), 0);  // Below the grid: the first row.
  EXPECT_EQ(t.Row(0.1f), 0);
  EXPECT_EQ(t.Row(0.199f), 0);
  EXPECT_EQ(t.Row(0.2f), 1);
  EXPECT_EQ(t.Row(0.39f), 1);
  EXPECT_EQ(t.Row(0.4f), 2);
  EXPECT_EQ(t.Row(9.0f), 2);
}

TEST(AnchorTableTest, ColumnIsTheEpochClampedToTheTable) {
  AnchorTable t;
  t.max_epochs = 30;
  t.columns = 8;
  EXPECT_EQ(t.Column(0.0f), 0);
  EXPECT_EQ(t.Column(1.0f / 30), 1);
  EXPECT_EQ(t.Column(7.0f / 30), 7);
  EXPECT_EQ(t.Column(12.0f / 30), 7);  // The last column repeats.
}

TEST(AnchorTableTest, StructuredSchedulesHoldTheHeadroomRamp) {
  // HEADROOM.md's best schedule of logreg-ct 2018 at 4x: from n* = 25 in
  // [1, 30], a ramp from 4 n* with ratio 0.7 clipped at 30.
  const auto schedules = StructuredSchedules(25, 1984, 1, 30, 8);
  const std::vector<int> expected = {30, 30, 30, 30, 24, 17, 12, 8};
  bool found = false;
  for (const auto& s : schedules) {
    ASSERT_FALSE(s.empty());
    for (const sim::Action& a : s) {
      EXPECT_GE(a.functions, 1);
      EXPECT_LE(a.functions, 30);
      EXPECT_EQ(a.memory_mb, 1984);
    }
    if (s.size() != expected.size()) continue;
    bool same = true;
    for (size_t e = 0; e < s.size(); ++e) same &= s[e].functions == expected[e];
    found |= same;
    // The static itself is left out.
    EXPECT_FALSE(s.size() == 1 && s[0].functions == 25);
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace siren::agent
