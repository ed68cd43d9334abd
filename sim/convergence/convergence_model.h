// What the epoch engine needs from a model of learning: how applied updates
// turn into loss. A new model is a new implementation in its own folder,
// registered by name (`convergence.model` in a scenario), with its own
// section of the parameter table. The reference to copy is analytic/.
//
// Lifecycle within one job (the engine calls, in simulated-event order):
//   InitialLoss()                       once, before the first epoch;
//   StartEpoch(workers, batches, seed)  at each epoch's start;
//   OnParamsFetched(w)                  worker w read the parameters;
//   OnBatchComputed(w, batch)           w computed a gradient on `batch`
//                                       (epoch batch index) and stepped
//                                       locally;
//   OnUpdateApplied(w, staleness, L)    HSP: w's update, folding L local
//                                       steps, was applied with `staleness`
//                                       (updates applied since w's read);
//   OnUpdateOverwrote(w, overwritten, L)
//                                       HSP, push_protocol overwrite: w
//                                       wrote its copy (the parameters it
//                                       read + its update of L local steps)
//                                       over the store; the `overwritten`
//                                       updates applied since its read are
//                                       gone from the store's parameters;
//   OnUpdateStored(w)                   HSP, push_protocol fold: w's update
//                                       was written to its own object, not
//                                       applied yet; w goes on with a fresh
//                                       pending update;
//   OnStoredUpdateApplied(w, staleness, L)
//                                       fold: the oldest stored, unapplied
//                                       update of w was applied with
//                                       `staleness` (updates applied since
//                                       w's read when it was computed);
//   OnRoundClosed(workers, samples)     BSP: the round's updates of
//                                       `workers` (ascending) were applied
//                                       together, `samples` in all;
//   OnLocalWorkDropped(w)               w's work since its last push was lost
//                                       (timeout);
//   EndEpoch(loss_rng)                  the epoch's loss (observed and true).
//
// Contract (every implementation):
// - Deterministic: the same calls give the same losses; randomness only from
//   the seed passed to StartEpoch and the Rng passed to EndEpoch.
// - progress() is a measure of learning done, reported in each epoch's
//   result (the analytic model's k; updates applied otherwise). It never
//   decreases, except that under push_protocol overwrite a write may set the
//   state back to the writer's read plus its own update.
// - Losses are finite and positive.
// - Clone() copies the whole state, so a search can branch a job (Simulation
//   is copyable); immutable data (a dataset) may be shared between clones.
#ifndef SIREN_SIM_CONVERGENCE_CONVERGENCE_MODEL_H_
#define SIREN_SIM_CONVERGENCE_CONVERGENCE_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/rng.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The loss after an epoch.
struct EpochLoss {
  double observed = 0;  // What a scheduler sees (may carry noise).
  double truth = 0;     // The model's noise-free loss.
};

class ConvergenceModel {
 public:
  virtual ~ConvergenceModel() = default;

  // The registered name (`convergence.model`).
  virtual std::string name() const = 0;
  // Loss before any update.
  virtual double InitialLoss() const = 0;

  virtual void StartEpoch(int workers, int64_t batches,
                          uint64_t shuffle_seed) = 0;
  virtual void OnParamsFetched(int worker) = 0;
  virtual void OnBatchComputed(int worker, int64_t batch) = 0;
  virtual void OnUpdateApplied(int worker, int64_t staleness,
                               int local_steps) = 0;
  virtual void OnUpdateOverwrote(int worker, int64_t overwritten,
                                 int local_steps) = 0;
  virtual void OnUpdateStored(int worker) = 0;
  virtual void OnStoredUpdateApplied(int worker, int64_t staleness,
                                     int local_steps) = 0;
  virtual void OnRoundClosed(const std::vector<int32_t>& workers,
                             int64_t samples) = 0;
  virtual void OnLocalWorkDropped(int worker) = 0;
  virtual EpochLoss EndEpoch(Rng& loss_rng) = 0;

  virtual double progress() const = 0;
  virtual std::unique_ptr<ConvergenceModel> Clone() const = 0;
};

// An owning handle that deep-copies its model (Clone), so that a state
// holding it stays copyable.
class ConvergenceHandle {
 public:
  ConvergenceHandle() = default;
  explicit ConvergenceHandle(std::unique_ptr<ConvergenceModel> model)
      : model_(std::move(model)) {}
  ConvergenceHandle(const ConvergenceHandle& other)
      : model_(other.model_ ? other.model_->Clone() : nullptr) {}
  ConvergenceHandle& operator=(const ConvergenceHandle& other) {
    if (this != &other) model_ = other.model_ ? other.model_->Clone() : nullptr;
    return *this;
  }
  ConvergenceHandle(ConvergenceHandle&&) noexcept = default;
  ConvergenceHandle& operator=(ConvergenceHandle&&) noexcept = default;

  ConvergenceModel* operator->() const { return model_.get(); }
  ConvergenceModel& operator*() const { return *model_; }

 private:
  std::unique_ptr<ConvergenceModel> model_;
};

using ConvergenceFactory =
    std::function<std::unique_ptr<ConvergenceModel>(const Scenario&)>;

// Registers convergence model `name` with its parameter section (its
// `implements` is set to {"convergence.model", name}) and factory. Returns
// true (for a static initialiser). Throws std::logic_error on a duplicate.
bool RegisterConvergenceModel(const std::string& name, ParamSection section,
                              ConvergenceFactory factory);

// Names of the registered models, sorted.
std::vector<std::string> ConvergenceModelNames();

// Builds a fresh model (no update applied) for the scenario's selection
// (scenario.models.convergence). Throws ScenarioError naming
// convergence.model for an unknown name, or naming the field of bad data.
std::unique_ptr<ConvergenceModel> MakeConvergenceModel(
    const Scenario& scenario);

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_CONVERGENCE_MODEL_H_
