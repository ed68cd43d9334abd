// The epoch field table (sim/core/epoch_fields.h): its rows keep the
// contract, each accessor reads its own member, and the Gym info row follows
// the table.
#include "sim/core/epoch_fields.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "env/step_info.h"

namespace siren::sim {
namespace {

// An EpochResult whose every member holds a distinct value, and what each
// row must read from it. Written by hand: it is the check of the accessors.
EpochResult Distinct() {
  EpochResult r;
  r.epoch = 1;
  r.action.functions = 2;
  r.action.memory_mb = 3;
  r.functions_used = 4;
  r.duration_s = 5.5;
  r.fetch = {6.5, 7.5};
  r.compute = {8.5, 9.5};
  r.update = {10.5, 11.5};
  r.batches = 12;
  r.updates = 13;
  r.mean_staleness = 14.5;
  r.max_staleness = 15;
  r.update_conflicts = 16;
  r.invocations = 17;
  r.cold_starts = 18;
  r.warm_starts = 19;
  r.throttles = 20;
  r.timeouts = 21;
  r.reinvocations = 22;
  r.s3_slowdowns = 23;
  r.s3_gets = 24;
  r.s3_puts = 25;
  r.billed_gb_s = 26.5;
  r.cpu_utilisation = 0.27;
  r.memory_utilisation = 0.28;
  r.cost = {29.5, 30.5, 31.5};
  r.loss = 32.5;
  r.true_loss = 33.5;
  r.progress = 34.5;
  r.cumulative_time_s = 35.5;
  r.cumulative_cost_usd = 36.5;
  r.status = JobStatus::kBudgetExhausted;
  r.events = 37;
  r.scaling_throttles = 38;
  r.init_billed_s = 39.5;
  r.budget_stop = BudgetStop::kMidEpoch;
  r.projected_cost_usd = 40.5;
  r.lost_updates = 41;
  r.folds = 42;
  r.list_requests = 43;
  return r;
}

const std::map<std::string, EpochFieldValue>& Expected() {
  static const std::map<std::string, EpochFieldValue> kExpected = {
      {"epoch", int64_t{1}},
      {"action_functions", int64_t{2}},
      {"action_memory_mb", int64_t{3}},
      {"functions_used", int64_t{4}},
      {"duration_s", 5.5},
      {"fetch_mean_s", 6.5},
      {"fetch_p95_s", 7.5},
      {"compute_mean_s", 8.5},
      {"compute_p95_s", 9.5},
      {"update_mean_s", 10.5},
      {"update_p95_s", 11.5},
      {"batches", int64_t{12}},
      {"updates", int64_t{13}},
      {"mean_staleness", 14.5},
      {"max_staleness", int64_t{15}},
      {"update_conflicts", int64_t{16}},
      {"invocations", int64_t{17}},
      {"cold_starts", int64_t{18}},
      {"warm_starts", int64_t{19}},
      {"throttles", int64_t{20}},
      {"timeouts", int64_t{21}},
      {"reinvocations", int64_t{22}},
      {"s3_slowdowns", int64_t{23}},
      {"s3_gets", int64_t{24}},
      {"s3_puts", int64_t{25}},
      {"billed_gb_s", 26.5},
      {"cpu_utilisation", 0.27},
      {"memory_utilisation", 0.28},
      {"cost_function_duration_usd", 29.5},
      {"cost_function_request_usd", 30.5},
      {"cost_s3_request_usd", 31.5},
      {"cost_total_usd", 29.5 + 30.5 + 31.5},
      {"loss", 32.5},
      {"true_loss", 33.5},
      {"progress", 34.5},
      {"cumulative_time_s", 35.5},
      {"cumulative_cost_usd", 36.5},
      {"status", std::string_view("budget_exhausted")},
      {"events", int64_t{37}},
      {"scaling_throttles", int64_t{38}},
      {"init_billed_s", 39.5},
      {"budget_stop", std::string_view("mid_epoch")},
      {"projected_cost_usd", 40.5},
      {"lost_updates", int64_t{41}},
      {"folds", int64_t{42}},
      {"list_requests", int64_t{43}},
  };
  return kExpected;
}

TEST(EpochFieldsTest, EveryRowKeepsTheContract) {
  const std::set<std::string_view> units = {
      "s", "usd", "gb_s", "MB", "count", "updates", "index", "1", ""};
  std::set<std::string_view> names, info_names;
  for (const EpochField& field : EpochFields()) {
    SCOPED_TRACE(std::string(field.name));
    EXPECT_TRUE(names.insert(field.name).second) << "duplicate name";
    EXPECT_FALSE(field.name.empty());
    EXPECT_TRUE(std::all_of(field.name.begin(), field.name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }));
    EXPECT_TRUE(units.count(field.unit)) << "unit '" << field.unit << "'";
    EXPECT_FALSE(field.description.empty());
    EXPECT_EQ(field.description.find('\n'), std::string_view::npos);
    EXPECT_EQ(field.description.back(), '.');
    if (!field.info_name.empty()) {
      EXPECT_TRUE(info_names.insert(field.info_name).second);
    }
    ASSERT_NE(field.get, nullptr);
    const EpochFieldValue value = field.get(EpochResult{});
    switch (field.type) {
      case EpochFieldType::kInt:
        EXPECT_TRUE(std::holds_alternative<int64_t>(value));
        break;
      case EpochFieldType::kFloat:
        EXPECT_TRUE(std::holds_alternative<double>(value));
        break;
      case EpochFieldType::kString:
        EXPECT_TRUE(std::holds_alternative<std::string_view>(value));
        break;
    }
    if (!field.labels.empty()) {
      EXPECT_EQ(field.type, EpochFieldType::kString);
    }
    EXPECT_EQ(FindEpochField(field.name), &field);
  }
  EXPECT_EQ(FindEpochField("no_such_field"), nullptr);
}

TEST(EpochFieldsTest, EachAccessorReadsItsMember) {
  const EpochResult r = Distinct();
  std::vector<std::string> names;
  for (const EpochField& field : EpochFields()) {
    names.emplace_back(field.name);
    const auto expected = Expected().find(std::string(field.name));
    ASSERT_NE(expected, Expected().end())
        << field.name << ": a row this test does not know; add it to "
        << "Distinct() and Expected()";
    EXPECT_EQ(field.get(r), expected->second) << field.name;
  }
  EXPECT_EQ(names.size(), Expected().size())
      << "a field of Expected() has no row in epoch_fields.cc";
}

// A tripwire for a member added to EpochResult without a row: its size moves.
// Then add the row in epoch_fields.cc, extend Distinct() and Expected(), and
// update this number.
TEST(EpochFieldsTest, EpochResultHasNoFieldWithoutARow) {
  EXPECT_EQ(sizeof(EpochResult), 304u)
      << "EpochResult changed: does every member have a row in "
         "sim/core/epoch_fields.cc?";
}

TEST(EpochFieldsTest, StatusLabelsAreTheJobStatusNames) {
  const auto labels = JobStatusLabels();
  ASSERT_EQ(labels.size(), 4u);
  const EpochField* status = FindEpochField("status");
  ASSERT_NE(status, nullptr);
  EXPECT_TRUE(std::equal(labels.begin(), labels.end(), status->labels.begin(),
                         status->labels.end()));
  for (int i = 0; i < 4; ++i) {
    EpochResult r;
    r.status = static_cast<JobStatus>(i);
    EXPECT_EQ(labels[i], JobStatusName(r.status));
    EXPECT_EQ(std::get<std::string_view>(status->get(r)), labels[i]);
    EXPECT_EQ(EpochFieldNumber(*status, r), i);
  }
}

TEST(EpochFieldsTest, InfoRowCarriesTheTableFieldsWithAnInfoName) {
  const auto& names = env::InfoNames();
  ASSERT_EQ(static_cast<int>(names.size()), env::InfoSize());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(),
            names.size());
  env::StepInfo info;
  info.epoch = Distinct();
  info.action.functions = 2;
  info.action.memory_mb = 3;
  info.action.requested_memory_mb = 1;
  info.action.memory_clamped = true;
  info.action.requested_functions = 5;
  info.action.budget_clamped = true;
  std::vector<double> row(env::InfoSize(), -1.0);
  env::WriteInfoRow(info, -7.25, 9, row.data());
  const auto column = [&](std::string_view name) {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return row[it - names.begin()];
  };
  int carried = 0;
  for (const EpochField& field : EpochFields()) {
    if (field.info_name.empty()) continue;
    ++carried;
    EXPECT_EQ(column(field.info_name), EpochFieldNumber(field, info.epoch))
        << field.name;
  }
  EXPECT_EQ(column("status"), 2.0);
  EXPECT_EQ(column("epoch_cost_usd"), 29.5 + 30.5 + 31.5);
  EXPECT_EQ(column("function_duration_usd"), 29.5);
  EXPECT_EQ(column("functions"), 2.0);
  EXPECT_EQ(column("memory_mb"), 3.0);
  EXPECT_EQ(column("requested_memory_mb"), 1.0);
  EXPECT_EQ(column("memory_clamped"), 1.0);
  EXPECT_EQ(column("requested_functions"), 5.0);
  EXPECT_EQ(column("budget_clamped"), 1.0);
  EXPECT_EQ(column("episode_return"), -7.25);
  EXPECT_EQ(column("episode_length"), 9.0);
  EXPECT_EQ(env::InfoSize(), carried + 8);
}

}  // namespace
}  // namespace siren::sim
