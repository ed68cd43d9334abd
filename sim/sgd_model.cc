#include "sim/sgd_model.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace siren::sim {
namespace {

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

std::shared_ptr<const SgdData> Split(const Dataset& all, int64_t eval_rows,
                                     const std::string& origin) {
  if (all.rows() <= eval_rows) {
    throw std::invalid_argument(
        "convergence.sgd.eval_samples: got " + std::to_string(eval_rows) +
        ", expected fewer than the " + std::to_string(all.rows()) +
        " rows of " + origin);
  }
  auto data = std::make_shared<SgdData>();
  data->train = all.Slice(0, all.rows() - eval_rows);
  data->eval = all.Slice(all.rows() - eval_rows, all.rows());
  return data;
}

}  // namespace

std::shared_ptr<const SgdData> LoadSgdData(const Scenario& scenario) {
  const SgdSpec& sgd = scenario.convergence.sgd;
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
    return Split(all, sgd.eval_samples, "'" + sgd.dataset + "'");
  });
}

SgdConvergence::SgdConvergence(const Scenario& scenario,
                               std::shared_ptr<const SgdData> data)
    : data_(std::move(data)),
      outputs_(data_->train.classes == 2 ? 1 : data_->train.classes),
      batch_size_(scenario.workload.batch_size),
      learning_rate_(
          static_cast<float>(scenario.convergence.sgd.learning_rate)) {
  global_.assign((data_->train.features + 1) * outputs_, 0.0f);
  scratch_.resize(batch_size_ * std::max(outputs_, 1));
}

void SgdConvergence::StartEpoch(int workers, int64_t batches,
                                uint64_t shuffle_seed) {
  local_.resize(workers);
  delta_.resize(workers);
  for (int w = 0; w < workers; ++w) {
    local_[w].assign(global_.size(), 0.0f);
    delta_[w].assign(global_.size(), 0.0f);
  }
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
  const int64_t first = batch_order_[batch] * batch_size_;
  LocalStep(local_[worker], delta_[worker], first, first + batch_size_);
}

void SgdConvergence::ApplyPush(int worker) {
  std::vector<float>& delta = delta_[worker];
  for (size_t i = 0; i < global_.size(); ++i) global_[i] += delta[i];
  std::fill(delta.begin(), delta.end(), 0.0f);
}

void SgdConvergence::DropLocalWork(int worker) {
  std::fill(delta_[worker].begin(), delta_[worker].end(), 0.0f);
}

void SgdConvergence::LocalStep(std::vector<float>& params,
                               std::vector<float>& delta, int64_t begin,
                               int64_t end) {
  const Dataset& d = data_->train;
  const int64_t rows = d.rows();
  const int64_t bias = d.features * outputs_;
  const int64_t count = end - begin;
  // Errors of every row at the parameters before the step.
  for (int64_t j = 0; j < count; ++j) {
    const int64_t r = (begin + j) % rows;
    float* err = &scratch_[j * outputs_];
    for (int k = 0; k < outputs_; ++k) err[k] = params[bias + k];
    for (int64_t p = d.indptr[r]; p < d.indptr[r + 1]; ++p) {
      const float x = d.values[p];
      const float* w = &params[static_cast<int64_t>(d.indices[p]) * outputs_];
      for (int k = 0; k < outputs_; ++k) err[k] += x * w[k];
    }
    if (outputs_ == 1) {
      err[0] =
          1.0f / (1.0f + std::exp(-err[0])) - (d.labels[r] == 1 ? 1.0f : 0.0f);
    } else {
      const float top = *std::max_element(err, err + outputs_);
      float sum = 0;
      for (int k = 0; k < outputs_; ++k)
        sum += (err[k] = std::exp(err[k] - top));
      for (int k = 0; k < outputs_; ++k) {
        err[k] = err[k] / sum - (d.labels[r] == k ? 1.0f : 0.0f);
      }
    }
  }
  // One step along the mean gradient.
  const float scale = learning_rate_ / static_cast<float>(count);
  for (int64_t j = 0; j < count; ++j) {
    const int64_t r = (begin + j) % rows;
    const float* err = &scratch_[j * outputs_];
    for (int64_t p = d.indptr[r]; p < d.indptr[r + 1]; ++p) {
      const int64_t base = static_cast<int64_t>(d.indices[p]) * outputs_;
      const float x = d.values[p];
      for (int k = 0; k < outputs_; ++k) {
        const float step = scale * err[k] * x;
        params[base + k] -= step;
        delta[base + k] -= step;
      }
    }
    for (int k = 0; k < outputs_; ++k) {
      params[bias + k] -= scale * err[k];
      delta[bias + k] -= scale * err[k];
    }
  }
}

double SgdConvergence::RowLoss(const std::vector<float>& params,
                               const Dataset& d, int64_t row) const {
  const int64_t bias = d.features * outputs_;
  std::vector<double> z(outputs_);
  for (int k = 0; k < outputs_; ++k) z[k] = params[bias + k];
  for (int64_t p = d.indptr[row]; p < d.indptr[row + 1]; ++p) {
    const int64_t base = static_cast<int64_t>(d.indices[p]) * outputs_;
    for (int k = 0; k < outputs_; ++k) z[k] += d.values[p] * params[base + k];
  }
  if (outputs_ == 1) {
    // log(1 + exp(-s z)) with s = +1 for a click, -1 otherwise, stably.
    const double s = d.labels[row] == 1 ? z[0] : -z[0];
    return s > 0 ? std::log1p(std::exp(-s)) : -s + std::log1p(std::exp(s));
  }
  const double top = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (double v : z) sum += std::exp(v - top);
  return std::log(sum) + top - z[d.labels[row]];
}

double SgdConvergence::EvalLoss() const {
  const Dataset& eval = data_->eval;
  double total = 0;
  for (int64_t r = 0; r < eval.rows(); ++r) total += RowLoss(global_, eval, r);
  return total / static_cast<double>(eval.rows());
}

double SgdConvergence::InitialLoss() const {
  return std::log(static_cast<double>(data_->train.classes));
}

}  // namespace siren::sim
