// The `sgd` model's implementation (see sgd_model.h): the data as Eigen
// sparse matrices and the model's state. Private to convergence/sgd/ (Eigen
// stays inside this library).
#ifndef SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_
#define SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The immutable training and evaluation data, shared by every copy: the
// dataset's rows with a constant 1 appended (the bias feature).
struct SgdData {
  using Matrix = Eigen::SparseMatrix<float, Eigen::RowMajor, int64_t>;
  Matrix train, eval;
  Eigen::VectorXi train_labels, eval_labels;
  int classes = 2;
};

class SgdConvergence final : public ConvergenceModel {
 public:
  SgdConvergence(const Scenario& scenario, std::shared_ptr<const SgdData> data);

  std::string name() const override { return "sgd"; }
  // Prepares an epoch of `batches` batches over `workers` functions;
  // `shuffle_seed` orders the batches.
  void StartEpoch(int workers, int64_t batches, uint64_t shuffle_seed) override;
  // Function `worker` copies the global parameters.
  void OnParamsFetched(int worker) override;
  // Function `worker` computes the gradient of epoch batch `batch` on its
  // copy and takes a local step.
  void OnBatchComputed(int worker, int64_t batch) override;
  // HSP: the worker's pending difference is added to the global parameters
  // (staleness is genuine here: it is in the copy the gradient used).
  void OnUpdateApplied(int worker, int64_t staleness, int local_steps) override;
  // BSP: every push of the round, in worker order.
  void OnRoundClosed(const std::vector<int32_t>& workers,
                     int64_t samples) override;
  void OnLocalWorkDropped(int worker) override { DropLocalWork(worker); }
  // The held-out loss, measured: observed = truth, no artificial noise.
  EpochLoss EndEpoch(Rng& loss_rng) override;
  // Updates applied (a round counts once).
  double progress() const override { return progress_; }
  std::unique_ptr<ConvergenceModel> Clone() const override {
    return std::make_unique<SgdConvergence>(*this);
  }
  // The update of `worker` is applied to the global parameters.
  void ApplyPush(int worker);
  // The update of `worker` was lost (timeout): drop it.
  void DropLocalWork(int worker);

  // Mean log-loss of the global parameters on the held-out rows.
  double EvalLoss() const;
  // Loss of the all-zero model (log classes), the starting point.
  double InitialLoss() const override;

  int64_t parameter_count() const { return global_.size(); }

 private:
  std::shared_ptr<const SgdData> data_;
  int outputs_;  // 1 for logistic, classes for softmax.
  int64_t batch_size_;
  float learning_rate_;
  Eigen::MatrixXf global_;              // (features + 1) x outputs.
  std::vector<Eigen::MatrixXf> local_;  // Per worker: its copy.
  std::vector<Eigen::MatrixXf> delta_;  // Per worker: its pending update.
  std::vector<int64_t> batch_order_;    // Epoch batch -> data batch.
  double progress_ = 0;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_
