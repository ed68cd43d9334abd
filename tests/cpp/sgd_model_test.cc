// The sgd ground-truth model, its data, NNLS and the analytic-model fitter.
#include "sim/convergence/sgd/sgd_model.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/fit/convergence_fit.h"
#include "sim/convergence/fit/nnls.h"
#include "sim/data/dataset.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/cpp/simulated_fit.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Sgd(std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {
      "convergence.model=sgd", "workload.dataset_samples=100000",
      "job.budget_usd=1000", "job.max_epochs=20", "workload.target_loss=0.3"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return std::make_shared<const Scenario>(
      LoadScenario("logreg-click-through", overrides));
}

TEST(DatasetTest, GeneratorIsDeterministicAndPlausible) {
  const Dataset a = GenerateClickThrough(20000, 4096, 39, 7);
  const Dataset b = GenerateClickThrough(20000, 4096, 39, 7);
  const Dataset c = GenerateClickThrough(20000, 4096, 39, 8);
  EXPECT_NO_THROW(a.Validate());
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.labels, c.labels);
  EXPECT_EQ(a.nnz(), 20000 * 39);
  double clicks = 0;
  for (int32_t y : a.labels) clicks += y;
  // Public click logs have click rates of roughly 20-30%.
  EXPECT_GT(clicks / a.rows(), 0.15);
  EXPECT_LT(clicks / a.rows(), 0.40);
}

TEST(DatasetTest, Hdf5RoundTripAndErrors) {
  const Dataset d = GenerateClickThrough(500, 256, 8, 3);
  const std::string path = ::testing::TempDir() + "/siren_dataset.h5";
  SaveDatasetHdf5(d, path);
  const Dataset back = LoadDatasetHdf5(path);
  EXPECT_EQ(back.indptr, d.indptr);
  EXPECT_EQ(back.indices, d.indices);
  EXPECT_EQ(back.values, d.values);
  EXPECT_EQ(back.labels, d.labels);
  EXPECT_EQ(back.features, 256);
  EXPECT_EQ(back.classes, 2);
  std::remove(path.c_str());
  try {
    LoadDatasetHdf5("/nonexistent/data.h5");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/data.h5"),
              std::string::npos);
  }
  Dataset bad = d;
  bad.labels[3] = 5;
  EXPECT_THROW(bad.Validate(), std::invalid_argument);
  Dataset unsorted = d;
  std::swap(unsorted.indices[0], unsorted.indices[1]);
  EXPECT_THROW(unsorted.Validate(), std::invalid_argument);
}

// Replaces the int64 attribute `name` of `path` with `values` (one value:
// a scalar; several: an array).
void RewriteAttribute(const std::string& path, const char* name,
                      const std::vector<int64_t>& values) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Adelete(file, name);
  const hsize_t count = values.size();
  const hid_t space = values.size() == 1 ? H5Screate(H5S_SCALAR)
                                         : H5Screate_simple(1, &count, nullptr);
  const hid_t attr =
      H5Acreate2(file, name, H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_INT64, values.data());
  H5Aclose(attr);
  H5Sclose(space);
  H5Fclose(file);
}

// An attribute that is not one integer, or classes beyond int, is refused
// by name: never read past a one-value buffer (an array once overran it)
// nor narrowed to another number (2^32 + 3 once read as 3 classes).
TEST(DatasetTest, Hdf5AttributesMustBeOneIntegerInRange) {
  const Dataset d = GenerateClickThrough(50, 64, 4, 3);
  const std::string path = ::testing::TempDir() + "/siren_dataset_attrs.h5";
  const auto load_error = [&]() -> std::string {
    try {
      LoadDatasetHdf5(path);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  SaveDatasetHdf5(d, path);
  RewriteAttribute(path, "features", {64, 64, 64, 64});
  EXPECT_NE(load_error().find("'features' is not one integer"),
            std::string::npos)
      << load_error();
  SaveDatasetHdf5(d, path);
  RewriteAttribute(path, "classes", {(int64_t{1} << 32) + 3});
  EXPECT_NE(load_error().find("classes: got 4294967299"), std::string::npos)
      << load_error();
  SaveDatasetHdf5(d, path);
  RewriteAttribute(path, "classes", {2});
  EXPECT_EQ(LoadDatasetHdf5(path).classes, 2);
  std::remove(path.c_str());
}

// Image datasets carry their geometry (height x width = features); other
// datasets carry none, and files without it still load.
TEST(DatasetTest, ImageGeometryRoundTripsAndIsChecked) {
  Dataset d = GenerateClickThrough(40, 64, 4, 3);
  const std::string path = ::testing::TempDir() + "/siren_dataset_image.h5";
  SaveDatasetHdf5(d, path);
  EXPECT_FALSE(LoadDatasetHdf5(path).is_image());
  d.height = 8;
  d.width = 8;
  SaveDatasetHdf5(d, path);
  const Dataset back = LoadDatasetHdf5(path);
  EXPECT_EQ(back.height, 8);
  EXPECT_EQ(back.width, 8);
  EXPECT_EQ(back.Slice(0, 10).height, 8);
  for (const auto& [h, w] :
       {std::pair{8, 0}, std::pair{4, 8}, std::pair{-8, -8}, std::pair{0, 8}}) {
    Dataset bad = d;
    bad.height = h;
    bad.width = w;
    try {
      bad.Validate();
      FAIL() << h << " x " << w;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(
          std::string(e.what()).find("height, width: got " + std::to_string(h) +
                                     " x " + std::to_string(w)),
          std::string::npos)
          << e.what();
    }
  }
  // A file whose geometry disagrees with its features is refused by name.
  RewriteAttribute(path, "width", {9});
  try {
    LoadDatasetHdf5(path);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("height, width: got 8 x 9"),
              std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
}

TEST(NnlsTest, MatchesKnownSolutions) {
  // Unconstrained optimum is feasible: plain least squares.
  Eigen::MatrixXd a(3, 2);
  a << 1, 0, 0, 1, 1, 1;
  Eigen::VectorXd b(3);
  b << 1, 2, 3;
  Eigen::VectorXd x = SolveNnls(a, b);
  EXPECT_NEAR(x[0], 1, 1e-9);
  EXPECT_NEAR(x[1], 2, 1e-9);
  // Optimum has a negative coordinate: it is clamped to 0.
  b << -1, 2, 1;
  x = SolveNnls(a, b);
  EXPECT_EQ(x[0], 0.0);
  EXPECT_NEAR(x[1], 1.5, 1e-9);
}

TEST(SgdModelTest, LossFallsAndRunsAreDeterministic) {
  auto scenario = Sgd();
  Simulation a(scenario, 1), b(scenario, 1);
  const double initial = a.loss();
  EXPECT_NEAR(initial, std::log(2.0), 1e-12);
  EpochResult last;
  for (int e = 0; e < 3; ++e) {
    last = a.RunEpoch({10, 1024});
    EXPECT_EQ(last.loss, b.RunEpoch({10, 1024}).loss);
  }
  EXPECT_LT(last.loss, initial - 0.1);
}

TEST(SgdModelTest, StalenessGrowsWithFunctionsAndSlowsConvergence) {
  // Same data, same number of updates (one per batch); only the number of
  // concurrent functions, and with it the staleness, differs.
  auto scenario = Sgd();
  std::vector<double> staleness, loss;
  for (int n : {2, 20, 100}) {
    Simulation sim(scenario, 3);
    EpochResult r;
    for (int e = 0; e < 3; ++e) r = sim.RunEpoch({n, 1024});
    staleness.push_back(r.mean_staleness);
    loss.push_back(r.loss);
  }
  EXPECT_LT(staleness[0], staleness[1]);
  EXPECT_LT(staleness[1], staleness[2]);
  // Stale updates from 100 functions leave a measurably higher loss.
  EXPECT_GT(loss[2], loss[0] * 1.01);
}

TEST(SgdModelTest, TimeoutDropsLocalWorkAndBspAppliesRounds) {
  auto bsp = Sgd({"execution.mode=bsp"});
  Simulation sim(bsp, 1);
  const EpochResult r = sim.RunEpoch({10, 1024});
  EXPECT_EQ(r.max_staleness, 0);
  EXPECT_LT(r.loss, std::log(2.0));
  auto cut = Sgd({"lambda.timeout_s=1", "execution.sync_every=3"});
  Simulation timed(cut, 1);
  const EpochResult t = timed.RunEpoch({4, 1024});
  EXPECT_GT(t.timeouts, 0);
  EXPECT_LT(t.loss, std::log(2.0));
}

TEST(ConvergenceFitTest, FittedAnalyticModelTracksSgdWithinTenPercent) {
  // The logistic-regression preset, smaller so the test stays fast.
  const Scenario base =
      LoadScenario("logreg-click-through", {"workload.dataset_samples=200000"});
  const std::vector<FitRun> runs = {
      {{{5, 1024}}, {}, 1},
      {{{20, 1024}}, {}, 2},
      {{{50, 1024}}, {}, 3},
      {{{50, 1024}, {20, 1024}, {5, 1024}}, {}, 4},
      {{{5, 1024}, {20, 2048}, {50, 1024}}, {}, 5}};
  const int epochs = 6;
  const FitResult fit = FitConvergence(base, runs, epochs);
  EXPECT_LE(fit.max_relative_error, 0.10);

  // The fitted model inside the simulator (noise off) gives the same loss
  // after each epoch as the fitter predicted, so the check above is the
  // simulator's, not only the replay's.
  const std::vector<std::vector<double>> simulated =
      testing::SimulateFit(base, runs, fit, epochs);
  for (size_t r = 0; r < runs.size(); ++r) {
    for (int e = 0; e < epochs; ++e) {
      EXPECT_NEAR(simulated[r][e], fit.fitted_loss[r][e], 1e-9);
      EXPECT_LE(
          std::abs(simulated[r][e] - fit.sgd_loss[r][e]) / fit.sgd_loss[r][e],
          0.10)
          << "run " << r << " epoch " << e;
    }
  }
}

}  // namespace
}  // namespace siren::sim
