#include "sim/convergence/sgd/models/linear.h"

#include <algorithm>
#include <cmath>

namespace siren::sim::sgd {
namespace {

// Per-row errors (prediction - label) of `rows` at `params` (outputs = 1:
// logistic, else softmax).
template <typename Rows>
Eigen::MatrixXf Errors(const Rows& rows, const int32_t* labels,
                       const Eigen::Map<const Eigen::MatrixXf>& params) {
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

// Summed log-loss of `rows` at `params`.
template <typename Rows>
double SumLoss(const Rows& rows, const int32_t* labels,
               const Eigen::Map<const Eigen::MatrixXf>& params) {
  const Eigen::Index outputs = params.cols();
  const Eigen::MatrixXd z =
      Eigen::MatrixXf(rows * params).template cast<double>();
  double total = 0;
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    if (outputs == 1) {
      // log(1 + exp(-s z)) with s = +1 for label 1, -1 otherwise, stably.
      const double s = labels[r] == 1 ? z(r, 0) : -z(r, 0);
      total += s > 0 ? std::log1p(std::exp(-s)) : -s + std::log1p(std::exp(s));
    } else {
      const double top = z.row(r).maxCoeff();
      total += std::log((z.row(r).array() - top).exp().sum()) + top -
               z(r, labels[r]);
    }
  }
  return total;
}

}  // namespace

LinearNet::LinearNet(int64_t features, int classes)
    : features_(features), outputs_(classes == 2 ? 1 : classes) {}

void LinearNet::Initialize(uint64_t, float* params) const {
  std::fill(params, params + parameter_count(), 0.0f);
}

double LinearNet::Loss(const Batch& batch, const float* params) {
  const Eigen::Map<const Eigen::MatrixXf> w(params, features_, outputs_);
  return SumLoss(batch.sparse->middleRows(batch.begin, batch.count),
                 batch.labels, w);
}

void LinearNet::AddGradient(const Batch& batch, const float* params,
                            float* gradient) {
  const Eigen::Map<const Eigen::MatrixXf> w(params, features_, outputs_);
  Eigen::Map<Eigen::MatrixXf> g(gradient, features_, outputs_);
  const auto rows = batch.sparse->middleRows(batch.begin, batch.count);
  const Eigen::MatrixXf errors = Errors(rows, batch.labels, w);
  g.noalias() += rows.transpose() * errors;
}

}  // namespace siren::sim::sgd
