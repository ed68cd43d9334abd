// The `sgd` model's data: generated or read from HDF5, split into training
// and held-out rows, in the form the network reads, cached process-wide.
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

#include "sim/convergence/sgd/sgd_convergence.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/data/dataset.h"

namespace siren::sim {
namespace {

// A dataset file's width: as convergence.sgd.features, and classes.
constexpr int64_t kMaxFeatures = 1'000'000;
constexpr int64_t kMaxClasses = 10'000;
// Memory the dense copy of the data (mlp, lenet) may take, in bytes.
constexpr double kMaxDenseBytes = 4e9;

// Process-wide cache: identical data requests share one instance while any
// simulation holds it. Key: source, rows, features, fields, seed, eval
// rows, dense.
using DataKey =
    std::tuple<std::string, int64_t, int64_t, int, int64_t, int64_t, bool>;

std::shared_ptr<const SgdData> CachedData(
    const DataKey& key,
    const std::function<std::shared_ptr<const SgdData>()>& make) {
  static std::mutex mutex;
  static std::map<DataKey, std::weak_ptr<const SgdData>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto hit = cache[key].lock()) return hit;
  auto data = make();
  cache[key] = data;
  return data;
}

// Rows of `d` as a sparse matrix with the bias column (index d.features).
SgdData::Matrix ToSparse(const Dataset& d, int64_t begin, int64_t end) {
  // Filled in storage order in O(nnz): columns ascend within each row
  // (Dataset::Validate) and the bias column comes last.
  SgdData::Matrix m(end - begin, d.features + 1);
  m.reserve(d.indptr[end] - d.indptr[begin] + (end - begin));
  for (int64_t r = begin; r < end; ++r) {
    m.startVec(r - begin);
    for (int64_t p = d.indptr[r]; p < d.indptr[r + 1]; ++p) {
      m.insertBack(r - begin, d.indices[p]) = d.values[p];
    }
    m.insertBack(r - begin, d.features) = 1.0f;
  }
  m.finalize();
  return m;
}

// Rows of `d` as a dense row-major matrix (no bias column).
sgd::RowMatrix ToDense(const Dataset& d, int64_t begin, int64_t end) {
  sgd::RowMatrix m = sgd::RowMatrix::Zero(end - begin, d.features);
  for (int64_t r = begin; r < end; ++r) {
    for (int64_t p = d.indptr[r]; p < d.indptr[r + 1]; ++p) {
      m(r - begin, d.indices[p]) = d.values[p];
    }
  }
  return m;
}

Eigen::VectorXi Labels(const Dataset& d, int64_t begin, int64_t end) {
  return Eigen::Map<const Eigen::VectorXi>(d.labels.data() + begin,
                                           end - begin);
}

std::shared_ptr<const SgdData> Split(const Dataset& all, int64_t eval_rows,
                                     bool dense, const std::string& origin) {
  if (all.rows() <= eval_rows) {
    throw std::invalid_argument(
        "convergence.sgd.eval_samples: got " + std::to_string(eval_rows) +
        ", expected fewer than the " + std::to_string(all.rows()) +
        " rows of " + origin);
  }
  const double bytes =
      4.0 * static_cast<double>(all.rows()) * static_cast<double>(all.features);
  if (dense && bytes > kMaxDenseBytes) {
    throw std::invalid_argument(
        "convergence.sgd.model: mlp and lenet read the data dense, and the " +
        std::to_string(all.rows()) + " x " + std::to_string(all.features) +
        " rows of " + origin + " would take " + std::to_string(bytes / 1e9) +
        " GB; expected at most " + std::to_string(kMaxDenseBytes / 1e9) +
        " GB (fewer rows or features, or convergence.sgd.model=linear)");
  }
  const int64_t split = all.rows() - eval_rows;
  auto data = std::make_shared<SgdData>();
  if (dense) {
    data->train_dense = ToDense(all, 0, split);
    data->eval_dense = ToDense(all, split, all.rows());
  } else {
    data->train = ToSparse(all, 0, split);
    data->eval = ToSparse(all, split, all.rows());
  }
  data->train_labels = Labels(all, 0, split);
  data->eval_labels = Labels(all, split, all.rows());
  data->features = all.features;
  data->classes = all.classes;
  data->height = all.height;
  data->width = all.width;
  return data;
}

}  // namespace

std::shared_ptr<const SgdData> LoadSgdData(const Scenario& scenario) {
  const SgdSpec sgd = SgdSpec::FromScenario(scenario);
  if (sgd.dataset == "click_through") {
    const int64_t rows = scenario.workload.dataset_samples + sgd.eval_samples;
    return CachedData({sgd.dataset, rows, sgd.features, sgd.fields,
                       sgd.data_seed, sgd.eval_samples, sgd.dense()},
                      [&] {
                        return Split(
                            GenerateClickThrough(rows, sgd.features, sgd.fields,
                                                 sgd.data_seed),
                            sgd.eval_samples, sgd.dense(),
                            "the generated click-through data");
                      });
  }
  return CachedData(
      {sgd.dataset, 0, 0, 0, 0, sgd.eval_samples, sgd.dense()}, [&] {
        Dataset all;
        try {
          all = LoadDatasetHdf5(sgd.dataset);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(std::string("convergence.sgd.dataset: ") +
                                      e.what());
        }
        // Each function holds (features + 1) x classes parameters: the same
        // bound as convergence.sgd.features for the generated data.
        if (all.features > kMaxFeatures || all.classes > kMaxClasses) {
          throw std::invalid_argument(
              "convergence.sgd.dataset: '" + sgd.dataset + "' has " +
              std::to_string(all.features) + " features and " +
              std::to_string(all.classes) + " classes, expected at most " +
              std::to_string(kMaxFeatures) + " and " +
              std::to_string(kMaxClasses) +
              " (every function holds a copy of the parameters)");
        }
        return Split(all, sgd.eval_samples, sgd.dense(),
                     "'" + sgd.dataset + "'");
      });
}

}  // namespace siren::sim
