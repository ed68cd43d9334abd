// The `sgd` model's implementation (see sgd_model.h): the data as Eigen
// matrices, the network, and the model's state. Private to convergence/sgd/
// (Eigen stays inside this library).
#ifndef SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_
#define SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_

#include <Eigen/Dense>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/convergence/sgd/models/net.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The immutable training and evaluation data, shared by every copy, in the
// form the network reads: sparse rows with a constant 1 appended (the bias
// feature) for the linear net, dense rows for the deep nets.
struct SgdData {
  using Matrix = sgd::SparseRows;
  Matrix train, eval;                      // Linear net.
  sgd::RowMatrix train_dense, eval_dense;  // Deep nets.
  Eigen::VectorXi train_labels, eval_labels;
  int64_t features = 0;  // Of the dataset (no bias column).
  int classes = 2;
  int64_t height = 0, width = 0;  // Image geometry (0: not images).

  int64_t train_rows() const { return train_labels.size(); }
  int64_t eval_rows() const { return eval_labels.size(); }
};

// Builds the network the spec selects for `data`. Throws
// std::invalid_argument naming the convergence.sgd field that does not fit
// the data (lenet on rows that are not images, layers that shrink the
// image to nothing).
std::unique_ptr<sgd::Net> MakeSgdNet(const SgdSpec& spec, const SgdData& data);

class SgdConvergence final : public ConvergenceModel {
 public:
  SgdConvergence(const Scenario& scenario, std::shared_ptr<const SgdData> data);
  SgdConvergence(const SgdConvergence& other);
  SgdConvergence& operator=(const SgdConvergence&) = delete;

  std::string name() const override { return "sgd"; }
  // Prepares an epoch of `batches` batches over `workers` functions;
  // `shuffle_seed` orders the batches; sets the epoch's learning rate.
  void StartEpoch(int workers, int64_t batches, uint64_t shuffle_seed) override;
  // Function `worker` copies the global parameters.
  void OnParamsFetched(int worker) override;
  // Function `worker` computes the gradient of epoch batch `batch` on its
  // copy and takes a local step.
  void OnBatchComputed(int worker, int64_t batch) override;
  // HSP: the worker's pending difference is applied to the global
  // parameters (staleness is genuine here: it is in the copy the gradient
  // used).
  void OnUpdateApplied(int worker, int64_t staleness, int local_steps) override;
  // Overwrite: the global parameters become the worker's copy, i.e.
  // exactly the parameters it read plus its local steps; the overwritten
  // updates are gone (momentum, a store-side velocity, does not apply: the
  // store is a plain object).
  void OnUpdateOverwrote(int worker, int64_t overwritten,
                         int local_steps) override;
  // Fold: the worker's pending update is set aside in its own queue (the
  // object it wrote); the worker starts a fresh pending update.
  void OnUpdateStored(int worker) override;
  // Fold: the worker's oldest set-aside update is applied to the global
  // parameters (through the velocity when momentum is on).
  void OnStoredUpdateApplied(int worker, int64_t staleness,
                             int local_steps) override;
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

  // Mean cross-entropy of the global parameters on the held-out rows.
  double EvalLoss() const;
  // The loss before any update: log(classes) for the zero linear model,
  // measured on the held-out rows for the deep nets.
  double InitialLoss() const override { return initial_loss_; }

  int64_t parameter_count() const { return global_.size(); }
  // The store's parameters (the net's layout, models/).
  const Eigen::VectorXf& parameters() const { return global_; }
  // This epoch's learning rate.
  float learning_rate() const { return learning_rate_; }

 private:
  // Adds `update` to the global parameters, through the velocity when
  // momentum is on.
  void ApplyUpdate(const Eigen::VectorXf& update);

  std::shared_ptr<const SgdData> data_;
  std::unique_ptr<sgd::Net> net_;  // Holds scratch: one per copy.
  int64_t batch_size_;
  LrSchedule schedule_;
  float momentum_;
  float learning_rate_ = 0;
  int64_t epochs_started_ = 0;
  double initial_loss_ = 0;
  Eigen::VectorXf global_;              // The store's parameters.
  Eigen::VectorXf velocity_;            // The store's velocity (momentum).
  Eigen::VectorXf gradient_;            // Scratch of a local step.
  std::vector<Eigen::VectorXf> local_;  // Per worker: its copy.
  std::vector<Eigen::VectorXf> delta_;  // Per worker: its pending update.
  // Per worker: its stored, not yet applied updates (fold), oldest first.
  std::vector<std::deque<Eigen::VectorXf>> stored_;
  std::vector<int64_t> batch_order_;  // Epoch batch -> data batch.
  double progress_ = 0;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_SGD_SGD_CONVERGENCE_H_
