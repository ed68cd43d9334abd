// The discrete-event model of one epoch (DESIGN.md §2.2-2.5): n functions
// invoked at the epoch start, each looping fetch-batch -> fetch-parameters ->
// compute -> push-update over its share of the mini-batches, until the
// barrier at the end of the epoch.
//
// HSP: updates are applied one by one in arrival order to a versioned
// parameter store; an update's staleness is the number of updates applied
// between its parameter fetch and its push. With sync_every = L a function
// fetches parameters once, runs L local steps, then pushes one update.
// How a push reaches the store (execution.push_protocol, scenario.h):
// apply: applied on arrival. cas: a push whose read is no longer current is
// refused, waits U(0, min(cap, base x 2^attempt)) (full jitter), re-reads
// (GET) and pushes again. overwrite: the push writes (parameters read + own
// update) unconditionally; it is applied with staleness = updates it
// overwrote, and the epoch's lost_updates are the writes missing from the
// lineage of its final parameters. fold: the push writes the update to its
// own object (never refused); one extra function, the folder
// (epoch_folder.cc), folds the stored updates into the parameters, and the
// epoch ends when the workers have finished and every update is folded.
// BSP: every round each function with work left processes one batch and
// pushes; the round's updates are applied together (staleness 0, batch =
// pushes x b) when the last push arrives, then the next round starts.
//
// Platform effects: concurrency limit and scaling-rate limit on new
// environments (429 throttles retried with capped
// exponential back-off with jitter, not billed), warm pool reuse and cold
// starts, timeouts (the invocation is cut and billed; the batches since the
// last push are redone by a re-invocation, cold when the scenario says a
// timed-out sandbox is recycled), optional S3 503 SlowDown retries.
//
// The spend cap: Run() never lets the epoch's charges exceed `spend_cap_usd`.
// It keeps an upper bound S(t) on what is spent by time t (closed bills, S3
// requests issued, and for each open invocation its request price plus its
// duration price at the handler's elapsed time + billed INIT + one billing
// unit). An invocation or S3 request that would lift S(now) over the cap is
// not issued; S(t) grows linearly while handlers run, and when it reaches the
// cap every open invocation is stopped there (billed to that instant, its
// unpushed work dropped), nothing more runs, and the epoch reports
// BudgetStop::kMidEpoch. Actual bills never exceed the bound, so the epoch
// costs at most the cap.
#ifndef SIREN_SIM_ENGINE_EPOCH_ENGINE_H_
#define SIREN_SIM_ENGINE_EPOCH_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/core/epoch_result.h"
#include "sim/core/event_queue.h"
#include "sim/core/observer.h"
#include "sim/core/rng.h"
#include "sim/engine/billing_meter.h"
#include "sim/engine/warm_pool.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"
#include "sim/storage/s3_model.h"

namespace siren::sim {

// Everything that persists from one epoch to the next within a job.
struct JobState {
  JobState(const Scenario& scenario, const Platform& platform, uint64_t seed);
  // With a given convergence model instead of the scenario's.
  JobState(const Scenario& scenario, const Platform& platform, uint64_t seed,
           ConvergenceHandle convergence);

  uint64_t seed = 0;
  SimTime clock = 0;    // Job wall time.
  int epoch = 0;        // Epochs completed.
  int64_t version = 0;  // Parameter-store version.
  int memory_mb = 0;    // Memory of the last epoch (0 before the first).
  // The scaling-rate limit's token bucket (Platform::scaling()).
  double scaling_tokens = 0;
  SimTime scaling_refilled_at = 0;
  double loss = 0;  // Last observed loss.
  double true_loss = 0;
  double cost_usd = 0;
  JobStatus status = JobStatus::kRunning;
  int64_t total_events = 0;
  WarmPool warm_pool;
  S3Model s3;
  Rng cold_start_rng;
  Rng warm_start_rng;
  Rng compute_rng;
  Rng s3_rng;
  Rng backoff_rng;
  Rng loss_rng;
  Rng cas_backoff_rng;  // push_protocol cas: back-off after a refusal.
  // The convergence model's state (the scenario's convergence.model).
  ConvergenceHandle convergence;
};

// Copies the job's state after an epoch into `result`: loss, true loss,
// progress, cumulative time and cost, status.
void FillJobFields(const JobState& job, EpochResult& result);

// The engine knows no model by name: the platform (starts, resources,
// limits, bills) and the convergence model (loss) are reached through their
// interfaces only.
class EpochEngine {
 public:
  EpochEngine(const Scenario& scenario,
              std::shared_ptr<const Platform> platform);

  const Platform& platform() const { return *platform_; }
  const std::shared_ptr<const Platform>& shared_platform() const {
    return platform_;
  }

  // Runs one epoch of `action` (already validated) from `job.clock`, updating
  // `job` and notifying `observers`, spending at most `spend_cap_usd` (see
  // the spend cap above; infinity: no cap). Throws std::runtime_error if a
  // function times out 100 times in a row without pushing an update (the
  // workload cannot make progress at this memory size).
  EpochResult Run(const Action& action, JobState& job,
                  const std::vector<Observer*>& observers,
                  double spend_cap_usd);

  // A rough, noise-free duration of one sync group (L batches and one push)
  // at `memory_mb`: used to reject actions that can never beat the timeout.
  double NominalStepSeconds(int memory_mb) const;

 private:
  // Event kinds of the epoch model.
  enum EventKind : int32_t {
    kInvoke = 0,     // Try to start an invocation (may be throttled).
    kHandler = 1,    // The handler starts after the cold or warm start.
    kPhaseDone = 2,  // The worker's current phase completed.
    kTimeout = 3,    // The invocation hit its timeout.
    kS3Retry = 4,    // Re-issue a request that got a 503 SlowDown.
  };
  // Timeouts in a row without a push (a fold, for the folder) after which
  // the epoch is refused.
  static constexpr int kMaxFruitlessTimeouts = 100;

  enum class Phase : uint8_t {
    kIdle,
    kFetchBatch,
    kFetchParams,
    kCompute,
    kPush,
    kRereadParams,  // After a refused CAS push (push_protocol cas).
    kCasBackoff,    // Waiting before that re-read.
    // The folder function (push_protocol fold).
    kFoldWait,  // Until its next LIST.
    kFoldList,  // LIST of the stored update objects.
    kFoldGet,   // GETs of the new update objects, in parallel.
    kFoldPut,   // PUT of the folded parameters.
    kBarrier,
    kDone
  };

  struct Worker {
    SimTime invocation_start = 0;
    SimTime deadline = 0;
    SimTime step_start = 0;
    SimTime phase_start = 0;
    int64_t fetched_version = 0;
    int64_t read_version = 0;  // Store version at the last parameter read.
    SimTime push_start = 0;    // First attempt of the current push.
    // When the current S3 request is served: at a finite-capacity endpoint
    // after its queue wait and service, else at its completion. A read sees,
    // and a compare-and-swap write is checked against, the store then.
    SimTime served_at = 0;
    int32_t batches_left = 0;
    int32_t batches_assigned = 0;  // This epoch's share.
    int64_t first_batch = 0;       // Index of the share's first batch.
    int32_t local_steps = 0;
    int32_t throttle_attempts = 0;
    int32_t cas_attempts = 0;  // Refusals of the current push.
    int64_t push_seq = 0;      // Updates this worker stored (fold).
    int32_t fruitless_timeouts = 0;
    bool pushed_this_invocation = false;
    bool after_timeout = false;
    bool cold = false;  // The current invocation paid a cold start.
    // Between an accepted invoke and the invocation's end; whether its
    // handler has started; the INIT time its bill includes.
    bool in_invocation = false;
    bool handler_started = false;
    SimTime init_billed = 0;
    Phase phase = Phase::kIdle;
  };

  void Invoke(int32_t i, SimTime now);
  void StartHandler(int32_t i, SimTime now);
  void BeginStep(int32_t i, SimTime now);
  void StartPhase(int32_t i, Phase phase, SimTime now);
  void OnPhaseDone(int32_t i, SimTime now);
  void ApplyAsyncUpdate(int32_t i, SimTime now);
  // push_protocol overwrite: worker i's write replaces the parameters.
  void OverwriteParams(int32_t i, SimTime now);
  // push_protocol fold: worker i's update is stored in its own object.
  void StoreUpdate(int32_t i, SimTime now);
  // A new version from worker i's push (applied or overwritten) with
  // `staleness`: counted, observed, then the worker goes on.
  void CommitVersion(int32_t i, SimTime now, int64_t staleness);
  // After worker i's push: its next step, or the end of its share.
  void ContinueAfterPush(int32_t i, SimTime now);
  // Worker i waits `duration` in `phase` (no request), or times out.
  void Wait(int32_t i, Phase phase, SimTime duration, SimTime now);
  SimTime CasBackoff(int32_t attempt);
  // The folder (epoch_folder.cc): its handler starts, one of its phases
  // completes, it times out.
  void StartFolder(SimTime now);
  void OnFolderPhaseDone(SimTime now);
  void FolderTimeOut(SimTime now, SimTime deadline);
  // The folder's next LIST, at its next period tick (or now if late).
  void ScheduleFold(SimTime now);
  // After a fold (or an empty LIST): the folder ends when its last LIST
  // came after the last worker finished, else it folds again.
  void FinishOrFoldAgain(SimTime now);
  // Commits the current fold: its updates applied in key order.
  void CommitFold(SimTime now);
  // Lost updates of an overwrite epoch (see the class comment).
  int64_t CountLostUpdates() const;
  void ArriveAtBarrier(int32_t i, SimTime now);
  void CloseRound(SimTime now);
  void TimeOut(int32_t i, SimTime now, SimTime deadline);
  void EndInvocation(int32_t i, SimTime now, bool timed_out);
  void FinishWorker(int32_t i, SimTime now);
  bool IsFolder(int32_t i) const { return i == folder_; }
  SimTime ThrottleBackoff(int32_t attempts);
  void Throttle(int32_t i, SimTime now);
  bool TakeScalingToken(SimTime now);
  // The spend bound S(now) (see the spend cap above).
  double SpendBound(SimTime now) const;
  // Adds `usd` to the bound if S(now) + usd stays within the cap.
  bool Reserve(double usd, SimTime now);
  void UpdateBudgetStop();
  void StopForBudget(SimTime at);
  void FillStats(EpochResult& result);

  const Scenario& scenario_;
  std::shared_ptr<const Platform> platform_;
  ConcurrencyRules concurrency_;
  SandboxRules sandboxes_;
  double compute_noise_sigma_;
  SimTime timeout_;
  SimTime throttle_base_;
  SimTime throttle_cap_;
  ScalingRules scaling_;

  // Per-epoch scratch, reused across epochs.
  JobState* job_ = nullptr;
  const std::vector<Observer*>* observers_ = nullptr;
  EventQueue queue_;
  std::vector<Worker> workers_;
  std::vector<int32_t> barrier_waiting_;
  std::vector<double> fetch_samples_;
  std::vector<double> compute_samples_;
  std::vector<double> update_samples_;
  BillingMeter meter_;
  EpochResult result_;
  int memory_mb_ = 0;
  double bandwidth_mb_per_s_ = 0;
  double compute_median_s_ = 0;
  double batch_bytes_ = 0;
  double model_bytes_ = 0;
  int objects_per_batch_ = 1;
  int running_ = 0;
  int finished_ = 0;
  int round_pending_ = 0;
  int round_pushes_ = 0;
  int64_t staleness_sum_ = 0;
  // push_protocol fold: the folder's index in workers_ (-1: none), its
  // stored updates not yet folded (in store order), the current fold's
  // updates (key order), its last LIST start and when the last worker
  // finished.
  struct StoredUpdate {
    int32_t worker = 0;
    int64_t seq = 0;           // The worker's update number (its key).
    int64_t read_version = 0;  // Version its gradients were computed on.
    int32_t local_steps = 0;
    SimTime stored_at = 0;
  };
  int32_t folder_ = -1;
  int workers_used_ = 0;
  int workers_finished_ = 0;
  SimTime list_seen_at_ = 0;  // When the fold's LIST saw the store.
  std::vector<StoredUpdate> stored_;
  std::vector<StoredUpdate> folding_;
  SimTime fold_period_ = 0;
  SimTime last_list_at_ = 0;
  SimTime workers_done_at_ = kMaxSimTime;
  // push_protocol overwrite: for each version written this epoch, the
  // version its writer read (its parent in the lineage).
  std::vector<int64_t> overwrite_parent_;
  // When each of this epoch's updates was applied, in order, and the store
  // version before the first: VersionAt(t) for compare-and-swap checks at a
  // finite-capacity endpoint (recorded only there).
  std::vector<SimTime> apply_times_;
  int64_t epoch_base_version_ = 0;
  int64_t VersionAt(SimTime t) const;
  double compute_seconds_ = 0;
  double billed_seconds_ = 0;
  SimTime last_finish_ = 0;
  // The spend cap: S(t) = bound_const_usd_ + bound_rate_usd_per_s_ x
  // (seconds since epoch_start_); budget_stop_at_ is where it meets the cap.
  BillingRates rates_;
  double s3_get_usd_ = 0;
  double s3_put_usd_ = 0;
  double spend_cap_usd_ = 0;
  double bound_const_usd_ = 0;
  double bound_rate_usd_per_s_ = 0;
  int handlers_open_ = 0;
  SimTime epoch_start_ = 0;
  SimTime budget_stop_at_ = kMaxSimTime;
  SimTime last_event_time_ = 0;
  bool stopped_ = false;  // The budget cut the epoch.
};

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_EPOCH_ENGINE_H_
