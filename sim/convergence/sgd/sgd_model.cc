#include "sim/convergence/sgd/sgd_model.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "sim/convergence/sgd/sgd_convergence.h"
#include "sim/data/dataset.h"
#include "sim/scenario/param_builders.h"

namespace siren::sim {
namespace {

// A dataset file's width: as convergence.sgd.features, and classes.
constexpr int64_t kMaxFeatures = 1'000'000;
constexpr int64_t kMaxClasses = 10'000;

// Memory the functions' parameter copies may take, in bytes.
constexpr double kMaxCopyBytes = 8e9;

// Process-wide cache: identical data requests share one instance while any
// simulation holds it.
using DataKey =
    std::tuple<std::string, int64_t, int64_t, int, int64_t, int64_t>;

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
SgdData::Matrix ToMatrix(const Dataset& d, int64_t begin, int64_t end) {
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

Eigen::VectorXi Labels(const Dataset& d, int64_t begin, int64_t end) {
  return Eigen::Map<const Eigen::VectorXi>(d.labels.data() + begin,
                                           end - begin);
}

std::shared_ptr<const SgdData> Split(const Dataset& all, int64_t eval_rows,
                                     const std::string& origin) {
  if (all.rows() <= eval_rows) {
    throw std::invalid_argument(
        "convergence.sgd.eval_samples: got " + std::to_string(eval_rows) +
        ", expected fewer than the " + std::to_string(all.rows()) +
        " rows of " + origin);
  }
  const int64_t split = all.rows() - eval_rows;
  auto data = std::make_shared<SgdData>();
  data->train = ToMatrix(all, 0, split);
  data->eval = ToMatrix(all, split, all.rows());
  data->train_labels = Labels(all, 0, split);
  data->eval_labels = Labels(all, split, all.rows());
  data->classes = all.classes;
  return data;
}

// Per-row errors (prediction - label) of `rows` at `params` (outputs = 1:
// logistic, else softmax).
template <typename Rows, typename Labels>
Eigen::MatrixXf Errors(const Rows& rows, const Labels& labels,
                       const Eigen::MatrixXf& params) {
  const Eigen::Index outputs = params.cols();
  Eigen::MatrixXf z = rows * params;
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    if (outputs == 1) {
      z(r, 0) = 1.0f / (1.0f + std::exp(-z(r, 0))) - (labels[r] == 1);
    } else {
      const float top = z.row(r).maxCoeff();
      z.row(r) = (z.row(r).array() - top).exp();
      z.row(r) /= z.row(r).sum();
      z(r, labels[r]) -= 1.0f;
    }
  }
  return z;
}

// Mean log-loss of `rows` at `params`.
template <typename Rows, typename Labels>
double MeanLoss(const Rows& rows, const Labels& labels,
                const Eigen::MatrixXf& params) {
  const Eigen::Index outputs = params.cols();
  const Eigen::MatrixXd z =
      Eigen::MatrixXf(rows * params).template cast<double>();
  double total = 0;
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    if (outputs == 1) {
      // log(1 + exp(-s z)) with s = +1 for a click, -1 otherwise, stably.
      const double s = labels[r] == 1 ? z(r, 0) : -z(r, 0);
      total += s > 0 ? std::log1p(std::exp(-s)) : -s + std::log1p(std::exp(s));
    } else {
      const double top = z.row(r).maxCoeff();
      total += std::log((z.row(r).array() - top).exp().sum()) + top -
               z(r, labels[r]);
    }
  }
  return total / static_cast<double>(z.rows());
}

// The generated data needs room for its fields.
void ValidateSgd(const Scenario& s) {
  const SgdSpec sgd = SgdSpec::FromScenario(s);
  // The generated data is held in memory: at most 2e8 non-zeros (about
  // 2.4 GB as CSR).
  const int64_t rows = s.workload.dataset_samples + sgd.eval_samples;
  if (sgd.dataset == "click_through" && rows * (sgd.fields + 1) > 200'000'000) {
    FailParamValue("workload.dataset_samples",
                   std::to_string(s.workload.dataset_samples),
                   "(dataset_samples + convergence.sgd.eval_samples) x "
                   "(convergence.sgd.fields + 1) <= 2e8 non-zeros for the "
                   "generated click-through data, got " +
                       std::to_string(rows * (sgd.fields + 1)));
  }
  if (sgd.dataset == "click_through" && sgd.features < sgd.fields) {
    FailParamValue("convergence.sgd.features", std::to_string(sgd.features),
                   "an integer >= convergence.sgd.fields (" +
                       std::to_string(sgd.fields) + ")");
  }
}

// Registration: `convergence.model: sgd`.
[[maybe_unused]] const bool kRegistered = RegisterConvergenceModel(
    "sgd", SgdParamSection(), [](const Scenario& scenario) {
      return std::make_unique<SgdConvergence>(scenario, LoadSgdData(scenario));
    });

}  // namespace

ParamSection SgdParamSection() {
  using namespace params;  // NOLINT: the builders read as a table.
  std::vector<ParamSpec> p;
  // The sgd ground-truth model.
  p.push_back(StoredString(
      "convergence.sgd.dataset", std::string("click_through"),
      "\"click_through\" (the seeded generator) or an HDF5 dataset path "
      "(`siren data`).",
      "DESIGN.md 2.6"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.features", 4096,
      Between(1, 1e6,
              "[I] each function holds a copy of the parameters (features + 1) "
              "x classes"),
      "Columns of the generated click-through data (hashed features).",
      "[I] small enough for per-function parameter copies"));
  p.push_back(StoredInt<int>(
      "convergence.sgd.fields", 39,
      Between(1, 10000, "[I] the generated data is held in memory"),
      "Active one-hot fields per generated row.",
      "[I] 13 numeric + 26 categorical fields of public click logs"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.data_seed", 1,
      Between(0, 9007199254740992, "any seed a double holds exactly (2^53)"),
      "Seed of the generated data (fixed across simulation seeds).", "[I]"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.eval_samples", 10000,
      Between(1, 1e7, "[I] held-out rows, held in memory"),
      "Held-out rows (the last rows of the data) for the loss.", "[I]"));
  p.push_back(StoredDouble(
      "convergence.sgd.learning_rate", 0.1,
      PositiveUpTo(1000, "[I] far above any stable rate"),
      "SGD step size on the mean batch gradient.",
      "[I] stable on the generated click-through data up to ~60 functions"));

  ParamSection section;
  section.order = 210;
  section.params = std::move(p);
  section.validate = &ValidateSgd;
  return section;
}

SgdSpec SgdSpec::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  SgdSpec spec;
  spec.dataset = p.String("convergence.sgd.dataset");
  spec.features = p.Int("convergence.sgd.features");
  spec.fields = static_cast<int>(p.Int("convergence.sgd.fields"));
  spec.data_seed = p.Int("convergence.sgd.data_seed");
  spec.eval_samples = p.Int("convergence.sgd.eval_samples");
  spec.learning_rate = p.Double("convergence.sgd.learning_rate");
  return spec;
}

std::shared_ptr<const SgdData> LoadSgdData(const Scenario& scenario) {
  const SgdSpec sgd = SgdSpec::FromScenario(scenario);
  if (sgd.dataset == "click_through") {
    const int64_t rows = scenario.workload.dataset_samples + sgd.eval_samples;
    return CachedData(
        {sgd.dataset, rows, sgd.features, sgd.fields, sgd.data_seed,
         sgd.eval_samples},
        [&] {
          return Split(GenerateClickThrough(rows, sgd.features, sgd.fields,
                                            sgd.data_seed),
                       sgd.eval_samples, "the generated click-through data");
        });
  }
  return CachedData({sgd.dataset, 0, 0, 0, 0, sgd.eval_samples}, [&] {
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
          std::to_string(kMaxFeatures) + " and " + std::to_string(kMaxClasses) +
          " (every function holds a copy of the parameters)");
    }
    return Split(all, sgd.eval_samples, "'" + sgd.dataset + "'");
  });
}

SgdConvergence::SgdConvergence(const Scenario& scenario,
                               std::shared_ptr<const SgdData> data)
    : data_(std::move(data)),
      outputs_(data_->classes == 2 ? 1 : data_->classes),
      batch_size_(scenario.workload.batch_size),
      learning_rate_(
          static_cast<float>(SgdSpec::FromScenario(scenario).learning_rate)) {
  global_ = Eigen::MatrixXf::Zero(data_->train.cols(), outputs_);
}

void SgdConvergence::StartEpoch(int workers, int64_t batches,
                                uint64_t shuffle_seed) {
  // Each function holds a copy of the parameters and its pending update.
  const double bytes = 2.0 * sizeof(float) * static_cast<double>(workers) *
                       static_cast<double>(global_.size());
  if (bytes > kMaxCopyBytes) {
    throw std::runtime_error(
        "functions: got " + std::to_string(workers) + ", whose copies of the " +
        std::to_string(global_.size()) + " sgd parameters need " +
        std::to_string(bytes / 1e9) + " GB; expected at most " +
        std::to_string(kMaxCopyBytes / 1e9) +
        " GB (fewer functions or convergence.sgd.features)");
  }
  local_.assign(workers, Eigen::MatrixXf::Zero(global_.rows(), outputs_));
  delta_.assign(workers, Eigen::MatrixXf::Zero(global_.rows(), outputs_));
  // Fisher-Yates over the epoch's batches.
  batch_order_.resize(batches);
  for (int64_t b = 0; b < batches; ++b) batch_order_[b] = b;
  Rng rng(shuffle_seed, 201);
  for (int64_t b = batches - 1; b > 0; --b) {
    const int64_t j = static_cast<int64_t>(rng.Uniform() * (b + 1));
    std::swap(batch_order_[b], batch_order_[std::min(j, b)]);
  }
}

void SgdConvergence::OnParamsFetched(int worker) { local_[worker] = global_; }

void SgdConvergence::OnBatchComputed(int worker, int64_t batch) {
  const int64_t rows = data_->train.rows();
  const int64_t first = (batch_order_[batch] * batch_size_) % rows;
  // The batch's rows, wrapping around the end of the data: one or two blocks.
  Eigen::MatrixXf gradient = Eigen::MatrixXf::Zero(global_.rows(), outputs_);
  int64_t begin = first, left = batch_size_;
  while (left > 0) {
    const int64_t count = std::min(left, rows - begin);
    const auto block = data_->train.middleRows(begin, count);
    const Eigen::MatrixXf errors = Errors(
        block, data_->train_labels.segment(begin, count), local_[worker]);
    gradient.noalias() += block.transpose() * errors;
    left -= count;
    begin = 0;
  }
  // One local step along the mean gradient.
  const Eigen::MatrixXf step =
      (learning_rate_ / static_cast<float>(batch_size_)) * gradient;
  local_[worker] -= step;
  delta_[worker] -= step;
}

void SgdConvergence::ApplyPush(int worker) {
  global_ += delta_[worker];
  delta_[worker].setZero();
}

void SgdConvergence::DropLocalWork(int worker) { delta_[worker].setZero(); }

void SgdConvergence::OnUpdateApplied(int worker, int64_t, int) {
  ApplyPush(worker);
  progress_ += 1;
}

void SgdConvergence::OnRoundClosed(const std::vector<int32_t>& workers,
                                   int64_t) {
  // Every push of the round, computed on the same version, lands now.
  for (int32_t worker : workers) ApplyPush(worker);
  progress_ += 1;
}

EpochLoss SgdConvergence::EndEpoch(Rng&) {
  const double loss = EvalLoss();
  return {loss, loss};
}

double SgdConvergence::EvalLoss() const {
  return MeanLoss(data_->eval, data_->eval_labels, global_);
}

double SgdConvergence::InitialLoss() const {
  return std::log(static_cast<double>(data_->classes));
}

}  // namespace siren::sim
