// The sgd convergence model with its deep nets (mlp, lenet): learning-rate
// schedules, momentum at the store, the parameters' checks, determinism
// (across runs, copies and threads) and learning on small images. The same
// on scikit-learn's digits is in tests/python/test_convergence.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/convergence/sgd/models/net.h"
#include "sim/convergence/sgd/sgd_convergence.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/core/rng.h"
#include "sim/data/dataset.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

// 8 x 8 images of 10 classes: class c lights row c % 8 or column c / 8 + ...
// (a bar per class) under uniform noise. Deterministic; written once.
const std::string& ImagesPath() {
  static const std::string path = [] {
    Dataset d;
    d.name = "bars";
    d.features = 64;
    d.classes = 10;
    d.height = d.width = 8;
    Rng rng(5, 1);
    for (int64_t r = 0; r < 1200; ++r) {
      const int label = static_cast<int>(r % 10);
      for (int32_t pixel = 0; pixel < 64; ++pixel) {
        const int y = pixel / 8, x = pixel % 8;
        const bool bar = label < 8 ? y == label : x == 2 * (label - 8) + 3;
        const float v =
            static_cast<float>((bar ? 0.7 : 0.0) + 0.3 * rng.Uniform());
        d.indices.push_back(pixel);
        d.values.push_back(v);
      }
      d.indptr.push_back(static_cast<int64_t>(d.indices.size()));
      d.labels.push_back(label);
    }
    const std::string p = ::testing::TempDir() + "/siren_sgd_bars_" +
                          std::to_string(::getpid()) + ".h5";
    SaveDatasetHdf5(d, p);
    return p;
  }();
  return path;
}

Scenario Deep(const std::string& model, std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {
      "convergence.model=sgd",
      "convergence.sgd.dataset=" + ImagesPath(),
      "convergence.sgd.eval_samples=200",
      "convergence.sgd.model=" + model,
      "convergence.sgd.learning_rate=0.1",
      "convergence.sgd.mlp.hidden1=32",
      "convergence.sgd.lenet.conv1_channels=4",
      "convergence.sgd.lenet.conv2_channels=8",
      "convergence.sgd.lenet.kernel=3",
      "convergence.sgd.lenet.padding=1",
      "convergence.sgd.lenet.dense=32",
      "workload.dataset_samples=1000",
      "workload.batch_size=20",
      "job.budget_usd=1000",
      "job.max_epochs=50",
      "workload.target_loss=0.0001"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return LoadScenario("softmax-digits", overrides);
}

std::vector<double> Losses(const Scenario& scenario, uint64_t seed, int epochs,
                           int functions) {
  Simulation sim(std::make_shared<const Scenario>(scenario), seed);
  std::vector<double> losses = {sim.loss()};
  for (int e = 0; e < epochs; ++e) {
    losses.push_back(sim.RunEpoch({functions, 1024}).loss);
  }
  return losses;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(SgdScheduleTest, RatesPerEpoch) {
  LrSchedule s;
  s.rate = 0.5;
  EXPECT_EQ(s.At(0), 0.5);
  EXPECT_EQ(s.At(1000), 0.5);
  s.kind = "step";
  s.step_epochs = 3;
  s.step_factor = 0.1;
  EXPECT_EQ(s.At(2), 0.5);
  EXPECT_NEAR(s.At(3), 0.05, 1e-15);
  EXPECT_NEAR(s.At(7), 0.005, 1e-15);
  s.kind = "cosine";
  s.cosine_epochs = 4;
  s.min_factor = 0.2;
  EXPECT_EQ(s.At(0), 0.5);
  EXPECT_NEAR(s.At(2), 0.5 * (0.2 + 0.8 * 0.5), 1e-15);
  EXPECT_NEAR(s.At(4), 0.1, 1e-15);
  EXPECT_NEAR(s.At(9), 0.1, 1e-15);
  EXPECT_GT(s.At(1), s.At(2));
  s.kind = "warmup";
  EXPECT_THROW(s.At(0), std::invalid_argument);
}

TEST(SgdDeepTest, BadChoicesAreRefusedByName) {
  // lenet needs images: not the generated click-through data...
  EXPECT_NE(ErrorOf([] {
              LoadScenario(
                  "logreg-click-through",
                  {"convergence.model=sgd", "convergence.sgd.model=lenet"});
            }).find("convergence.sgd.model"),
            std::string::npos);
  // ... nor a file without image geometry.
  Dataset flat = GenerateClickThrough(300, 64, 4, 1);
  flat.classes = 2;
  const std::string path = ::testing::TempDir() + "/siren_sgd_flat_" +
                           std::to_string(::getpid()) + ".h5";
  SaveDatasetHdf5(flat, path);
  const std::string no_image = ErrorOf([&] {
    Simulation(std::make_shared<const Scenario>(
                   Deep("lenet", {"convergence.sgd.dataset=" + path,
                                  "convergence.sgd.eval_samples=100"})),
               1);
  });
  EXPECT_NE(no_image.find("convergence.sgd.model: got \"lenet\""),
            std::string::npos)
      << no_image;
  std::remove(path.c_str());
  // Padding beyond "same", and a kernel the 8 x 8 images cannot hold.
  EXPECT_NE(ErrorOf([] {
              Deep("lenet", {"convergence.sgd.lenet.padding=2"});
            }).find("convergence.sgd.lenet.padding"),
            std::string::npos);
  const std::string too_big = ErrorOf([] {
    Simulation(std::make_shared<const Scenario>(
                   Deep("lenet", {"convergence.sgd.lenet.kernel=5",
                                  "convergence.sgd.lenet.padding=0"})),
               1);
  });
  EXPECT_NE(too_big.find("convergence.sgd.lenet.kernel: got 5"),
            std::string::npos)
      << too_big;
  EXPECT_NE(too_big.find("8 x 8"), std::string::npos) << too_big;
  // A batch whose activations would not fit in memory, before allocating.
  const std::string huge_batch = ErrorOf([] {
    Simulation(std::make_shared<const Scenario>(
                   Deep("lenet", {"convergence.sgd.lenet.conv1_channels=512",
                                  "workload.dataset_samples=400000",
                                  "workload.batch_size=200000"})),
               1);
  });
  EXPECT_NE(huge_batch.find("workload.batch_size: got 200000"),
            std::string::npos)
      << huge_batch;
}

// With one function and one local step per push, the store's momentum is
// the heavy-ball method: p <- p + v, v <- mu v - lr g(p) / batch.
TEST(SgdDeepTest, MomentumAtTheStoreIsHeavyBall) {
  // One batch per epoch: every epoch trains on rows [0, 20).
  const Scenario scenario = Deep("mlp", {"convergence.sgd.momentum=0.9",
                                         "convergence.sgd.learning_rate=0.05",
                                         "workload.dataset_samples=20"});
  const auto data = LoadSgdData(scenario);
  SgdConvergence model(scenario, data);
  auto net = MakeSgdNet(SgdSpec::FromScenario(scenario), *data);
  Eigen::VectorXf p = model.parameters();
  Eigen::VectorXf v = Eigen::VectorXf::Zero(p.size());
  sgd::Batch batch;
  batch.dense = &data->train_dense;
  batch.count = 20;
  batch.labels = data->train_labels.data();
  for (int step = 0; step < 3; ++step) {
    model.StartEpoch(1, 1, step);
    model.OnParamsFetched(0);
    model.OnBatchComputed(0, 0);
    model.OnUpdateApplied(0, 0, 1);
    Eigen::VectorXf g = Eigen::VectorXf::Zero(p.size());
    net->AddGradient(batch, p.data(), g.data());
    v = 0.9f * v - (0.05f / 20) * g;
    p += v;
    EXPECT_LT((model.parameters() - p).cwiseAbs().maxCoeff(), 1e-6)
        << "step " << step;
  }
  EXPECT_GT(v.norm(), 0);
}

TEST(SgdDeepTest, TheScheduleSetsEachEpochsRate) {
  const Scenario scenario = Deep("mlp", {"convergence.sgd.lr_schedule=step",
                                         "convergence.sgd.lr_step_epochs=2",
                                         "convergence.sgd.lr_step_factor=0.5"});
  SgdConvergence model(scenario, LoadSgdData(scenario));
  std::vector<float> rates;
  for (int e = 0; e < 5; ++e) {
    model.StartEpoch(2, 50, e);
    rates.push_back(model.learning_rate());
  }
  EXPECT_EQ(rates, (std::vector<float>{0.1f, 0.1f, 0.05f, 0.05f, 0.025f}));
  // A copy continues the schedule where the original stands.
  SgdConvergence copy(model);
  copy.StartEpoch(2, 50, 5);
  EXPECT_EQ(copy.learning_rate(), 0.025f);
}

TEST(SgdDeepTest, DeepNetsLearnAndAreDeterministic) {
  for (const std::string model : {"mlp", "lenet"}) {
    const Scenario scenario = Deep(model, {"convergence.sgd.momentum=0.5"});
    const std::vector<double> a = Losses(scenario, 3, 3, 4);
    EXPECT_EQ(a, Losses(scenario, 3, 3, 4)) << model;
    // A measured initial loss of the order of log(10) (an untrained net),
    // then learning: the bars are easy.
    EXPECT_GT(a[0], 1.5) << model;
    EXPECT_LT(a[0], 5.0) << model;
    EXPECT_LT(a.back(), 0.5 * a[0]) << model;
    // Another initialisation seed starts elsewhere.
    EXPECT_NE(Losses(Deep(model, {"convergence.sgd.init_seed=2"}), 3, 0, 4)[0],
              a[0])
        << model;
  }
}

// Simulations on parallel threads (as the vector env and the baselines run
// them) give the same losses as one after another: a net's scratch is its
// own, the data is shared read-only.
TEST(SgdDeepTest, ThreadsDoNotChangeLosses) {
  const Scenario mlp = Deep("mlp"), lenet = Deep("lenet");
  const std::vector<double> mlp_alone = Losses(mlp, 7, 2, 8);
  const std::vector<double> lenet_alone = Losses(lenet, 7, 2, 8);
  std::vector<double> mlp_threaded, lenet_threaded, lenet_copy;
  // A copy of a running simulation continues as the original does.
  Simulation original(std::make_shared<const Scenario>(lenet), 7);
  original.RunEpoch({8, 1024});
  Simulation copy = original;
  std::thread t1([&] { mlp_threaded = Losses(mlp, 7, 2, 8); });
  std::thread t2([&] { lenet_threaded = Losses(lenet, 7, 2, 8); });
  std::thread t3([&] { lenet_copy = {copy.RunEpoch({8, 1024}).loss}; });
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(mlp_threaded, mlp_alone);
  EXPECT_EQ(lenet_threaded, lenet_alone);
  EXPECT_EQ(lenet_copy[0], original.RunEpoch({8, 1024}).loss);
  EXPECT_EQ(lenet_copy[0], lenet_alone[2]);
}

}  // namespace
}  // namespace siren::sim
