// The parameter-store protocols (execution.push_protocol): the S3 requests
// each spends per applied update, the updates overwrite loses, the folder's
// exactly-once application and its bill, the compare-and-swap back-off, and
// what the convergence models make of overwritten and folded updates.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/core/observer.h"
#include "sim/core/rng.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

// LeNet on MNIST cut to 100 mini-batches (one S3 object each) per epoch.
std::shared_ptr<const Scenario> Small(std::vector<std::string> extra = {},
                                      const std::string& preset = "default") {
  std::vector<std::string> overrides = {"workload.dataset_samples=6400",
                                        "job.budget_usd=1000",
                                        "job.max_epochs=50"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return std::make_shared<const Scenario>(LoadScenario(preset, overrides));
}

EpochResult OneEpoch(const std::vector<std::string>& overrides, int n,
                     uint64_t seed = 5) {
  Simulation sim(Small(overrides), seed);
  return sim.RunEpoch({n, 1024});
}

// Per function: its billed seconds, and the staleness of every update.
class Recorder : public Observer {
 public:
  void OnInvocationEnd(int function, double, double billed_s, bool) override {
    billed_s_by_function[function] += billed_s;
  }
  void OnUpdateApplied(int, double, int64_t version,
                       int64_t staleness) override {
    versions.push_back(version);
    staleness_of_updates.push_back(staleness);
  }
  std::map<int, double> billed_s_by_function;
  std::vector<int64_t> versions, staleness_of_updates;
};

TEST(PushProtocolTest, ApplyAndOverwriteSpendOneGetAndOnePutPerUpdate) {
  for (const char* protocol : {"apply", "overwrite"}) {
    SCOPED_TRACE(protocol);
    const EpochResult r =
        OneEpoch({std::string("execution.push_protocol=") + protocol}, 8);
    EXPECT_EQ(r.updates, 100);
    EXPECT_EQ(r.s3_puts, 100);
    EXPECT_EQ(r.s3_gets, 100 + 100);  // Batch + parameter read per update.
    EXPECT_EQ(r.update_conflicts, 0);
    EXPECT_EQ(r.list_requests, 0);
    EXPECT_EQ(r.folds, 0);
    EXPECT_EQ(r.invocations, 8);
  }
}

TEST(PushProtocolTest, OverwriteLosesUpdatesOnlyWithConcurrency) {
  const EpochResult lone = OneEpoch({"execution.push_protocol=overwrite"}, 1);
  EXPECT_EQ(lone.updates, 100);
  EXPECT_EQ(lone.lost_updates, 0);
  EXPECT_EQ(lone.max_staleness, 0);
  const EpochResult many = OneEpoch({"execution.push_protocol=overwrite"}, 16);
  EXPECT_EQ(many.updates, 100);
  EXPECT_GT(many.lost_updates, 0);
  EXPECT_LT(many.lost_updates, many.updates);
  // Apply loses nothing at the same concurrency.
  EXPECT_EQ(OneEpoch({"execution.push_protocol=apply"}, 16).lost_updates, 0);
}

TEST(PushProtocolTest, OverwriteLosesProgressUnderTheAnalyticModel) {
  // Same pushes; the overwritten ones add nothing.
  const EpochResult apply = OneEpoch({"execution.push_protocol=apply"}, 16);
  const EpochResult overwrite =
      OneEpoch({"execution.push_protocol=overwrite"}, 16);
  EXPECT_LT(overwrite.progress, apply.progress);
  EXPECT_GT(overwrite.true_loss, apply.true_loss);
  // Alone, overwrite is apply: every write was made on the current version.
  EXPECT_EQ(OneEpoch({"execution.push_protocol=overwrite"}, 1).progress,
            OneEpoch({"execution.push_protocol=apply"}, 1).progress);
}

TEST(PushProtocolTest, FoldAppliesEveryUpdateOnceAndCountsTheFolderRequests) {
  for (int n : {1, 8, 32}) {
    SCOPED_TRACE("n " + std::to_string(n));
    Simulation sim(Small({"execution.push_protocol=fold"}), 5);
    Recorder recorder;
    sim.AddObserver(&recorder);
    const EpochResult r = sim.RunEpoch({n, 1024});
    EXPECT_EQ(r.updates, 100);  // Pushes: one per batch.
    EXPECT_EQ(r.lost_updates, 0);
    EXPECT_EQ(r.update_conflicts, 0);
    EXPECT_GE(r.folds, 1);
    EXPECT_LE(r.folds, r.updates);
    // Each fold follows a LIST; the last LIST may show nothing.
    EXPECT_GE(r.list_requests, r.folds);
    // Workers: a PUT per update, a GET per batch and per parameter read;
    // the folder: a GET per update and a PUT per fold.
    EXPECT_EQ(r.s3_puts, 100 + r.folds);
    EXPECT_EQ(r.s3_gets, 100 + 100 + 100);
    // Versions are applied one by one, each exactly once.
    ASSERT_EQ(recorder.versions.size(), 100u);
    for (size_t k = 0; k < recorder.versions.size(); ++k) {
      EXPECT_EQ(recorder.versions[k], static_cast<int64_t>(k) + 1);
      EXPECT_GE(recorder.staleness_of_updates[k], 0);
    }
    // The folder is the (n+1)-th function, billed like the workers.
    EXPECT_EQ(r.invocations, n + 1);
    ASSERT_EQ(recorder.billed_s_by_function.count(n), 1u);
    EXPECT_GT(recorder.billed_s_by_function[n], 0);
    double billed_s = 0;
    for (const auto& [function, seconds] : recorder.billed_s_by_function) {
      billed_s += seconds;
    }
    EXPECT_NEAR(r.billed_gb_s, billed_s, 1e-9);  // 1024 MB: GB-s = s.
    const auto scenario = Small();
    const Scenario& s = *scenario;
    EXPECT_NEAR(r.cost.s3_request_usd,
                r.s3_gets * s.billing.s3_usd_per_get +
                    (r.s3_puts + r.list_requests) * s.billing.s3_usd_per_put,
                1e-15);
  }
}

TEST(PushProtocolTest, FoldFolderOutlivesItsTimeoutByReinvocation) {
  // The epoch lasts several function timeouts: workers and the folder are
  // cut and re-invoked; still every update is folded exactly once.
  Simulation sim(Small({"execution.push_protocol=fold", "lambda.timeout_s=4"}),
                 5);
  Recorder recorder;
  sim.AddObserver(&recorder);
  const EpochResult r = sim.RunEpoch({2, 1024});
  EXPECT_GT(r.duration_s, 3 * 4.0);
  EXPECT_GT(r.timeouts, 0);
  EXPECT_EQ(r.reinvocations, r.timeouts);
  EXPECT_EQ(r.invocations, 3 + r.reinvocations);
  EXPECT_EQ(r.updates, 100);
  ASSERT_EQ(recorder.versions.size(), 100u);
  EXPECT_EQ(recorder.versions.back(), 100);
  // The folder (function 2) was billed for more than one timeout.
  EXPECT_GT(recorder.billed_s_by_function[2], 4.0);
}

TEST(PushProtocolTest, FoldStalenessCountsTheFoldLag) {
  // Alone, a worker still reads parameters that lack its own latest
  // updates until the folder has folded them: staleness > 0 although
  // nobody else pushes. A longer fold interval, more lag.
  const EpochResult quick = OneEpoch(
      {"execution.push_protocol=fold", "execution.fold_interval_ms=1"}, 1);
  const EpochResult slow = OneEpoch(
      {"execution.push_protocol=fold", "execution.fold_interval_ms=2000"}, 1);
  EXPECT_GT(slow.mean_staleness, quick.mean_staleness);
  EXPECT_LT(slow.folds, quick.folds);
  EXPECT_EQ(slow.updates, 100);
  EXPECT_EQ(quick.updates, 100);
}

TEST(PushProtocolTest, FoldRequestsPerUpdateStayFlatInN) {
  // Requests per applied update do not grow with n while the folder keeps
  // up (here within 10 % from n = 4 to n = 32), unlike cas.
  const auto per_update = [](const EpochResult& r) {
    return static_cast<double>(r.s3_gets + r.s3_puts + r.list_requests) /
           static_cast<double>(r.updates);
  };
  const double fold4 =
      per_update(OneEpoch({"execution.push_protocol=fold"}, 4));
  const double fold32 =
      per_update(OneEpoch({"execution.push_protocol=fold"}, 32));
  EXPECT_LT(fold32, 1.1 * fold4);
  const double cas4 = per_update(OneEpoch({"execution.push_protocol=cas"}, 4));
  const double cas32 =
      per_update(OneEpoch({"execution.push_protocol=cas"}, 32));
  EXPECT_GT(cas32, 1.5 * cas4);
}

TEST(PushProtocolTest, CasBackoffChangesTimingDeterministically) {
  const std::vector<std::string> off = {"execution.push_protocol=cas",
                                        "execution.cas_backoff_ms=0"};
  const std::vector<std::string> on = {"execution.push_protocol=cas",
                                       "execution.cas_backoff_ms=200",
                                       "execution.cas_backoff_cap_ms=400"};
  const EpochResult a = OneEpoch(off, 16), b = OneEpoch(on, 16);
  const EpochResult b_again = OneEpoch(on, 16);
  EXPECT_GT(a.update_conflicts, 0);
  EXPECT_GT(b.update_conflicts, 0);
  // Same seed, same draws.
  EXPECT_EQ(b.duration_s, b_again.duration_s);
  EXPECT_EQ(b.update_conflicts, b_again.update_conflicts);
  // Every refusal waits up to 400 ms: the pushes take longer.
  EXPECT_GT(b.update.mean_s, a.update.mean_s);
  // Every refused push still costs one re-read and one more PUT.
  EXPECT_EQ(b.s3_puts, b.updates + b.update_conflicts);
  EXPECT_EQ(b.s3_gets, 200 + b.update_conflicts);
  // A lone worker is never refused: the back-off draws nothing and the
  // epoch is the one without back-off.
  EXPECT_EQ(OneEpoch(on, 1).duration_s, OneEpoch(off, 1).duration_s);
}

// The convergence models, driven by hand.
std::unique_ptr<ConvergenceModel> Model(const std::string& name) {
  const Scenario s = LoadScenario(
      "softmax-digits",
      {"convergence.model=" + name, "convergence.sgd.eval_samples=500"});
  return MakeConvergenceModel(s);
}

TEST(PushProtocolTest, SgdOverwriteWritesExactlyTheWritersCopy) {
  // Workers 0 and 1 read the same parameters; 0 writes, then 1 overwrites:
  // the parameters are exactly 1's read plus its update, as if 0 had never
  // pushed.
  auto both = Model("sgd");
  both->StartEpoch(2, 8, 3);
  both->OnParamsFetched(0);
  both->OnParamsFetched(1);
  both->OnBatchComputed(0, 0);
  both->OnBatchComputed(1, 1);
  both->OnUpdateOverwrote(0, 0, 1);
  both->OnUpdateOverwrote(1, 1, 1);
  auto alone = Model("sgd");
  alone->StartEpoch(2, 8, 3);
  alone->OnParamsFetched(1);
  alone->OnBatchComputed(1, 1);
  alone->OnUpdateOverwrote(1, 0, 1);
  Rng r1(1, 1), r2(1, 1), r3(1, 1);
  const double lost = both->EndEpoch(r1).truth;
  EXPECT_EQ(lost, alone->EndEpoch(r2).truth);
  // Applying both instead gives other parameters.
  auto applied = Model("sgd");
  applied->StartEpoch(2, 8, 3);
  applied->OnParamsFetched(0);
  applied->OnParamsFetched(1);
  applied->OnBatchComputed(0, 0);
  applied->OnBatchComputed(1, 1);
  applied->OnUpdateApplied(0, 0, 1);
  applied->OnUpdateApplied(1, 1, 1);
  EXPECT_NE(applied->EndEpoch(r3).truth, lost);
}

TEST(PushProtocolTest, SgdFoldAppliesTheStoredUpdatesAsPushed) {
  // Stored updates applied later equal the same updates applied on
  // arrival, even when the workers go on (and read) in between.
  auto fold = Model("sgd");
  auto apply = Model("sgd");
  for (auto* m : {fold.get(), apply.get()}) m->StartEpoch(2, 8, 3);
  for (auto* m : {fold.get(), apply.get()}) {
    m->OnParamsFetched(0);
    m->OnParamsFetched(1);
    m->OnBatchComputed(0, 0);
    m->OnBatchComputed(1, 1);
  }
  fold->OnUpdateStored(0);
  fold->OnUpdateStored(1);
  // Worker 0 goes on before the fold: a fresh read, a step, stored again.
  fold->OnParamsFetched(0);
  fold->OnBatchComputed(0, 2);
  fold->OnUpdateStored(0);
  fold->OnStoredUpdateApplied(0, 0, 1);
  fold->OnStoredUpdateApplied(0, 1, 1);
  fold->OnStoredUpdateApplied(1, 2, 1);
  apply->OnUpdateApplied(0, 0, 1);
  apply->OnUpdateApplied(1, 1, 1);
  apply->OnParamsFetched(0);
  EXPECT_EQ(fold->progress(), 3);
  EXPECT_EQ(apply->progress(), 2);
  // Worker 0's second step read the unfolded parameters (the initial ones):
  // not the same as apply's; its first updates were applied exactly once.
  auto first_only = Model("sgd");
  first_only->StartEpoch(2, 8, 3);
  first_only->OnParamsFetched(0);
  first_only->OnParamsFetched(1);
  first_only->OnBatchComputed(0, 0);
  first_only->OnBatchComputed(1, 1);
  first_only->OnUpdateStored(0);
  first_only->OnUpdateStored(1);
  first_only->OnStoredUpdateApplied(0, 0, 1);
  first_only->OnStoredUpdateApplied(1, 1, 1);
  Rng r1(1, 1), r2(1, 1);
  EXPECT_EQ(first_only->EndEpoch(r1).truth, apply->EndEpoch(r2).truth);
}

TEST(PushProtocolTest, AnalyticOverwriteKeepsOnlyTheWritersLineage) {
  // Two concurrent writers: the second's write holds its read (the
  // start) plus its own update, so progress is one staleness-free update.
  auto both = Model("analytic");
  both->StartEpoch(2, 8, 3);
  both->OnParamsFetched(0);
  both->OnParamsFetched(1);
  both->OnUpdateOverwrote(0, 0, 1);
  const double one = both->progress();
  EXPECT_GT(one, 0);
  both->OnUpdateOverwrote(1, 1, 1);
  EXPECT_DOUBLE_EQ(both->progress(), one);
  // In sequence, each write builds on the last.
  auto chain = Model("analytic");
  chain->StartEpoch(2, 8, 3);
  chain->OnParamsFetched(0);
  chain->OnUpdateOverwrote(0, 0, 1);
  chain->OnParamsFetched(1);
  chain->OnUpdateOverwrote(1, 0, 1);
  EXPECT_GT(chain->progress(), 1.5 * one);
}

}  // namespace
}  // namespace siren::sim
