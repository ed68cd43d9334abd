// The libtorch trainer: determinism, exact resume, export.
#include "agent/trainer/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/trainer/anchor.h"
#include "env/observation.h"

namespace siren::agent {
namespace {

struct Stop {};

TrainerConfig Small(const std::string& name) {
  TrainerConfig config;
  config.iterations = 5;
  config.num_envs = 4;
  config.num_threads = 2;
  config.seed = 7;
  config.checkpoint_every = 2;
  config.quiet = true;
  config.overrides = {"job.max_epochs=12"};
  config.tuning_seeds = 2;  // A quick anchor search and safeguard.
  config.validation_seeds = 6;
  config.out_dir = ::testing::TempDir() + "/siren_trainer_" + name;
  std::filesystem::remove_all(config.out_dir);
  return config;
}

std::vector<float> Probe() {
  std::vector<float> obs(3 * env::kObservationSize);
  for (size_t i = 0; i < obs.size(); ++i) obs[i] = 0.05f * (i % 17);
  return obs;
}

void ExpectSameLearning(const std::vector<IterationLog>& a,
                        const std::vector<IterationLog>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].iteration, b[i].iteration);
    EXPECT_EQ(a[i].mean_return, b[i].mean_return) << "iteration " << i;
    EXPECT_EQ(a[i].mean_jct_s, b[i].mean_jct_s);
    EXPECT_EQ(a[i].mean_cost_usd, b[i].mean_cost_usd);
    EXPECT_EQ(a[i].success_rate, b[i].success_rate);
    EXPECT_EQ(a[i].entropy, b[i].entropy);
    EXPECT_EQ(a[i].env_steps, b[i].env_steps);
  }
}

TEST(TrainerTest, SameSeedSameRunWhateverTheThreadCount) {
  TrainerConfig one = Small("one");
  one.num_threads = 1;
  TrainerConfig two = Small("two");
  ExpectSameLearning(Train(one), Train(two));
  EXPECT_EQ(RunExportedPolicy(one.out_dir + "/policy.pt", Probe()),
            RunExportedPolicy(two.out_dir + "/policy.pt", Probe()));
}

TEST(TrainerTest, KilledAndResumedRunEndsLikeAnUninterruptedOne) {
  for (const std::string algorithm : {"ppo", "reinforce"}) {
    TrainerConfig straight = Small("straight_" + algorithm);
    straight.algorithm = algorithm;
    const std::vector<IterationLog> expected = Train(straight);

    TrainerConfig killed = Small("killed_" + algorithm);
    killed.algorithm = algorithm;
    int seen = 0;
    // Killed after iteration 3; the last checkpoint is after iteration 2.
    EXPECT_THROW(Train(killed,
                       [&](const IterationLog&) {
                         if (++seen == 3) throw Stop{};
                       }),
                 Stop);
    killed.resume = true;
    ExpectSameLearning(expected, Train(killed));
    EXPECT_EQ(RunExportedPolicy(straight.out_dir + "/policy.pt", Probe()),
              RunExportedPolicy(killed.out_dir + "/policy.pt", Probe()))
        << algorithm;
  }
}

TEST(TrainerTest, ExportedPolicyIsDeterministicAndInTheBox) {
  TrainerConfig config = Small("export");
  config.iterations = 2;
  Train(config);
  const std::string reexported = config.out_dir + "/again.pt";
  ExportCheckpoint(config.out_dir + "/checkpoint.pt", reexported);
  const std::vector<float> a =
      RunExportedPolicy(config.out_dir + "/policy.pt", Probe());
  const std::vector<float> b = RunExportedPolicy(reexported, Probe());
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a, b);
  for (float x : a) {
    EXPECT_GE(x, -1.0f);
    EXPECT_LE(x, 1.0f);
  }
}

TEST(TrainerTest, BadSettingsNameTheField) {
  TrainerConfig config = Small("bad");
  config.algorithm = "dqn";
  try {
    Train(config);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("algorithm"), std::string::npos);
  }
  config = Small("bad");
  config.num_envs = 0;
  EXPECT_THROW(Train(config), std::invalid_argument);
  EXPECT_THROW(ExportCheckpoint("/nonexistent/checkpoint.pt", "/tmp/x.pt"),
               std::invalid_argument);
}

// A validation summary from per-seed JCTs; a negative JCT marks a seed the
// policy did not finish (its JCT is then the time the budget stopped it).
ValidationSummary Summary(const std::vector<double>& jct_s,
                          int over_budget = 0) {
  ValidationSummary s;
  s.over_budget = over_budget;
  for (double jct : jct_s) {
    ++s.episodes;
    s.successes += jct > 0 ? 1 : 0;
    s.jct_s.push_back(std::abs(jct));
    s.succeeded.push_back(jct > 0);
    s.mean_jct_s += std::abs(jct);
  }
  s.mean_jct_s /= s.episodes;
  return s;
}

TEST(TrainerTest, SafeguardKeepsTheLearnedPolicyOnlyWhenNoWorse) {
  const ValidationSummary fixed = Summary({80, 82, 81, -60});
  EXPECT_TRUE(LearnedIsNoWorse(fixed, fixed));  // Ties keep it.
  EXPECT_FALSE(LearnedIsNoWorse(Summary({80, 82, 81.01, -60}), fixed));
  // Faster, but one success fewer.
  EXPECT_FALSE(LearnedIsNoWorse(Summary({70, 70, -50, -50}), fixed));
  // Faster, but one more episode over the budget.
  EXPECT_FALSE(LearnedIsNoWorse(Summary({70, 70, 70, -60}, 1), fixed));
  // The unfinished episode's JCT (the time the budget stopped it) never
  // enters the comparison: slower there, faster where both finished.
  EXPECT_TRUE(LearnedIsNoWorse(Summary({79, 82, 81, -200}), fixed));
}

TEST(TrainerTest, SafeguardPutsSuccessFirst) {
  // The fixed policy finishes 3 of 8 seeds; the learned one all 8, slower on
  // every seed the fixed one does not finish (which the mean over all
  // episodes would count against it).
  const ValidationSummary fixed =
      Summary({80, 80, 80, -20, -20, -20, -20, -20});
  ValidationSummary learned = Summary({80, 80, 80, 95, 95, 95, 95, 95});
  EXPECT_GT(learned.mean_jct_s, fixed.mean_jct_s);
  const PairedValidation pair = PairOnValidation(learned, fixed);
  EXPECT_EQ(pair.learned_only, 5);
  EXPECT_EQ(pair.fixed_only, 0);
  EXPECT_EQ(pair.common, 3);
  EXPECT_NEAR(pair.success_p, 1.0 / 32, 1e-12);  // 5 of 5 fair coins.
  EXPECT_TRUE(LearnedIsNoWorse(learned, fixed, 1.645, 0.01));
  // More successes are not bought with a much slower finish.
  learned = Summary({82, 82, 82, 95, 95, 95, 95, 95});
  EXPECT_FALSE(LearnedIsNoWorse(learned, fixed, 1.645, 0.01));
  EXPECT_TRUE(LearnedIsNoWorse(learned, fixed, 1.645, 0.03));
  // 3 more successes out of 3 is within chance at 5 % (p = 1/8): the rule
  // falls back to JCT on the 5 seeds both finished (87.2 s > 80 s) and
  // fails, whatever slowdown the success rule would accept.
  const ValidationSummary five = Summary({80, 80, 80, 80, 80, -20, -20, -20});
  EXPECT_FALSE(LearnedIsNoWorse(learned, five, 1.645, 0.1));
  // With z = 0 any success more counts (and 87.2 s is within 10 %).
  EXPECT_TRUE(LearnedIsNoWorse(learned, five, 0, 0.1));
  EXPECT_THROW(LearnedIsNoWorse(learned, fixed, 1.645, -0.1),
               std::invalid_argument);
  const std::string line =
      DescribeSafeguard(learned, fixed, true, "oracle static", 1.645, 0.03);
  EXPECT_NE(line.find("finished by one only: learned 5, oracle static 0"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("more successes beyond chance"), std::string::npos)
      << line;
}

TEST(TrainerTest, SafeguardSignTestAtItsBoundaryAndWithoutCommonSeeds) {
  // 5 seeds only the learned policy finished against 4 only the fixed one
  // did: the exact p is 0.5, which z = 0 ("any success more") accepts.
  const ValidationSummary fixed =
      Summary({-9, -9, -9, -9, -9, 10, 10, 10, 10, 10});
  const ValidationSummary learned =
      Summary({10, 10, 10, 10, 10, -9, -9, -9, -9, 11});
  const PairedValidation pair = PairOnValidation(learned, fixed);
  EXPECT_EQ(pair.learned_only, 5);
  EXPECT_EQ(pair.fixed_only, 4);
  EXPECT_NEAR(pair.success_p, 0.5, 1e-12);
  // Within the 20 % allowed on the one seed both finished (11 s vs 10 s).
  EXPECT_TRUE(LearnedIsNoWorse(learned, fixed, 0, 0.2));
  // At z = 1.645 it is within chance, and the JCT rule fails it.
  EXPECT_FALSE(LearnedIsNoWorse(learned, fixed, 1.645, 0.2));
  // No seed finished by both: more successes beyond chance keep the
  // learned policy; as many successes keep the fixed one.
  const ValidationSummary none = Summary({-9, -9, -9, -9, -9});
  const ValidationSummary all = Summary({10, 10, 10, 10, 10});
  EXPECT_EQ(PairOnValidation(all, none).common, 0);
  EXPECT_TRUE(LearnedIsNoWorse(all, none, 1.645, 0.01));
  EXPECT_FALSE(LearnedIsNoWorse(none, none, 0, 0));
  EXPECT_NE(DescribeSafeguard(none, none, false)
                .find("no seed finished by "
                      "both"),
            std::string::npos);
}

TEST(TrainerTest, SafeguardMarginAsksForAWinBeyondTheSeedsNoise) {
  // Four seeds; the learned policy is 0.5 s faster on average with paired
  // differences -1.5, +0.5, -1.5, +0.5 (sample sd 1.155, SE 0.577).
  const ValidationSummary fixed = Summary({80, 80, 80, 80});
  ValidationSummary learned = Summary({78.5, 80.5, 78.5, 80.5});
  EXPECT_NEAR(PairOnValidation(learned, fixed).common_se_s, 0.57735, 1e-5);
  EXPECT_TRUE(LearnedIsNoWorse(learned, fixed, 0));
  // 0.5 s < 1.645 x 0.577 s: within the noise, the fixed policy stays.
  EXPECT_FALSE(LearnedIsNoWorse(learned, fixed, 1.645));
  // A consistent 0.5 s win on every seed has SE 0 and passes any margin.
  learned = Summary({79.5, 79.5, 79.5, 79.5});
  EXPECT_DOUBLE_EQ(PairOnValidation(learned, fixed).common_se_s, 0);
  EXPECT_TRUE(LearnedIsNoWorse(learned, fixed, 1.645));
  EXPECT_THROW(LearnedIsNoWorse(learned, fixed, -1), std::invalid_argument);
  learned.jct_s.pop_back();
  EXPECT_THROW(PairOnValidation(learned, fixed), std::invalid_argument);
}

TEST(TrainerTest, ExportIsTheSafeguardsChoiceAndStaticPlaysTheAnchor) {
  TrainerConfig config = Small("safeguard");
  config.iterations = 2;
  TrainReport report;
  Train(config, {}, &report);
  ASSERT_TRUE(report.anchored);
  ASSERT_TRUE(report.validated);
  EXPECT_NE(report.safeguard.find(report.exported_learned
                                      ? "exported the learned"
                                      : "exported the oracle static"),
            std::string::npos)
      << report.safeguard;
  const std::vector<float> actions =
      RunExportedPolicy(config.out_dir + "/policy.pt", Probe());
  if (!report.exported_learned) {
    // A zero residual: every observation gets the anchor.
    for (size_t i = 2; i < actions.size(); ++i) {
      EXPECT_EQ(actions[i], actions[i % 2]);
    }
  }
  // The checkpoint carries the choice: its export is the same file's policy.
  const std::string again = config.out_dir + "/again.pt";
  ExportCheckpoint(config.out_dir + "/checkpoint.pt", again);
  EXPECT_EQ(RunExportedPolicy(again, Probe()), actions);
}

TEST(TrainerTest, WithoutAnchorTheMeanStartsAtTheCentre) {
  TrainerConfig config = Small("free");
  config.iterations = 1;
  config.anchor = "none";
  TrainReport report;
  Train(config, {}, &report);
  EXPECT_FALSE(report.anchored);
  EXPECT_FALSE(report.validated);
  for (float x : RunExportedPolicy(config.out_dir + "/policy.pt", Probe())) {
    EXPECT_LT(std::abs(x), 0.2f);  // Near the box's centre after 1 step.
  }
}

}  // namespace
}  // namespace siren::agent
