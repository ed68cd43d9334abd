#include "sim/engine/epoch_engine.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/engine/job_status.h"
#include "sim/scenario/workload.h"

namespace siren::sim {
namespace {

// Mean and 95th percentile (nearest rank) of `samples`; reorders them.
PhaseStats Summarise(std::vector<double>& samples) {
  PhaseStats stats;
  if (samples.empty()) return stats;
  double sum = 0;
  for (double x : samples) sum += x;
  stats.mean_s = sum / samples.size();
  const size_t rank = static_cast<size_t>(std::ceil(
                          0.95 * static_cast<double>(samples.size()))) -
                      1;
  std::nth_element(samples.begin(), samples.begin() + rank, samples.end());
  stats.p95_s = samples[rank];
  return stats;
}

}  // namespace

JobState::JobState(const Scenario& scenario, const Platform& platform,
                   uint64_t seed)
    : JobState(scenario, platform, seed,
               ConvergenceHandle(MakeConvergenceModel(scenario))) {}

JobState::JobState(const Scenario& scenario, const Platform& platform,
                   uint64_t seed, ConvergenceHandle convergence)
    : seed(seed),
      warm_pool(SecondsToSimTime(platform.sandboxes().keep_alive_s)),
      s3(scenario.s3),
      cold_start_rng(seed, RngStream::kColdStart),
      warm_start_rng(seed, RngStream::kWarmStart),
      compute_rng(seed, RngStream::kCompute),
      s3_rng(seed, RngStream::kS3Latency),
      backoff_rng(seed, RngStream::kBackoff),
      loss_rng(seed, RngStream::kLossNoise),
      cas_backoff_rng(seed, RngStream::kCasBackoff),
      convergence(std::move(convergence)) {
  true_loss = this->convergence->InitialLoss();
  loss = true_loss;
  scaling_tokens = platform.scaling().burst;
}

void FillJobFields(const JobState& job, EpochResult& result) {
  result.loss = job.loss;
  result.true_loss = job.true_loss;
  result.progress = job.convergence->progress();
  result.cumulative_time_s = SimTimeToSeconds(job.clock);
  result.cumulative_cost_usd = job.cost_usd;
  result.status = job.status;
}

EpochEngine::EpochEngine(const Scenario& scenario,
                         std::shared_ptr<const Platform> platform)
    : scenario_(scenario),
      platform_(std::move(platform)),
      concurrency_(platform_->concurrency()),
      sandboxes_(platform_->sandboxes()),
      compute_noise_sigma_(platform_->compute_noise_sigma()),
      timeout_(SecondsToSimTime(platform_->timeout_s())),
      throttle_base_(SecondsToSimTime(concurrency_.throttle_backoff_base_s)),
      throttle_cap_(SecondsToSimTime(concurrency_.throttle_backoff_cap_s)),
      scaling_(platform_->scaling()),
      meter_(*platform_, scenario.billing),
      s3_get_usd_(scenario.billing.s3_usd_per_get),
      s3_put_usd_(scenario.billing.s3_usd_per_put) {
  batch_bytes_ = BatchBytes(scenario.workload);
  model_bytes_ = ModelBytes(scenario.workload);
  objects_per_batch_ = static_cast<int>(ObjectsPerBatch(scenario.workload));
}

double EpochEngine::NominalStepSeconds(int memory_mb) const {
  const S3Spec& s3 = scenario_.s3;
  const double rate = std::min(platform_->BandwidthMbPerS(memory_mb),
                               s3.connection_cap_mb_per_s) *
                      1024.0 * 1024.0;
  const double compute =
      platform_->ComputeSecondsPerBatch(scenario_.workload, memory_mb);
  const double batch = s3.get_latency_median_ms * 1e-3 + batch_bytes_ / rate;
  const double params = s3.get_latency_median_ms * 1e-3 + model_bytes_ / rate;
  const double push = s3.put_latency_median_ms * 1e-3 + model_bytes_ / rate;
  return scenario_.execution.sync_every * (batch + compute) + params + push;
}

EpochResult EpochEngine::Run(const Action& action, JobState& job,
                             const std::vector<Observer*>& observers,
                             double spend_cap_usd) {
  job_ = &job;
  observers_ = &observers;
  memory_mb_ = action.memory_mb;
  // Reconfiguring the one deployed function retires its warm instances.
  if (sandboxes_.single_function && job.memory_mb != 0 &&
      job.memory_mb != memory_mb_) {
    job.warm_pool.Clear();
  }
  job.memory_mb = memory_mb_;
  bandwidth_mb_per_s_ = platform_->BandwidthMbPerS(memory_mb_);
  compute_median_s_ =
      platform_->ComputeSecondsPerBatch(scenario_.workload, memory_mb_);

  // Split the epoch's batches as evenly as possible over the functions.
  const int64_t batches = BatchesPerEpoch(scenario_.workload);
  const int used =
      static_cast<int>(std::min<int64_t>(action.functions, batches));
  workers_.assign(used, Worker{});
  int64_t next_batch = 0;
  for (int i = 0; i < used; ++i) {
    Worker& w = workers_[i];
    w.batches_assigned =
        static_cast<int32_t>(batches / used + (i < batches % used ? 1 : 0));
    w.batches_left = w.batches_assigned;
    w.first_batch = next_batch;
    next_batch += w.batches_assigned;
  }
  job.convergence->StartEpoch(
      used, batches, job.seed ^ (0x5851F42D4C957F2Dull * (job.epoch + 1)));
  // Under fold one more function, the folder, runs beside the workers.
  workers_used_ = used;
  workers_finished_ = 0;
  folder_ = -1;
  if (scenario_.execution.mode == ExecutionMode::kHsp &&
      scenario_.execution.push_protocol == PushProtocol::kFold && used > 0) {
    folder_ = used;
    workers_.push_back(Worker{});
  }
  stored_.clear();
  folding_.clear();
  overwrite_parent_.clear();
  fold_period_ = SecondsToSimTime(scenario_.execution.fold_interval_ms * 1e-3);
  workers_done_at_ = kMaxSimTime;

  result_ = EpochResult{};
  result_.epoch = job.epoch;
  result_.action = action;
  result_.functions_used = used;
  result_.batches = batches;
  queue_.Clear();
  queue_.Reserve(static_cast<size_t>(used) * 2);
  barrier_waiting_.clear();
  fetch_samples_.clear();
  compute_samples_.clear();
  update_samples_.clear();
  meter_.Clear();
  running_ = finished_ = round_pushes_ = 0;
  round_pending_ = used;
  staleness_sum_ = 0;
  apply_times_.clear();
  epoch_base_version_ = job.version;
  compute_seconds_ = billed_seconds_ = 0;
  const SimTime start = job.clock;
  last_finish_ = start;
  rates_ = platform_->Rates(memory_mb_);
  spend_cap_usd_ = spend_cap_usd;
  bound_const_usd_ = bound_rate_usd_per_s_ = 0;
  handlers_open_ = 0;
  epoch_start_ = start;
  budget_stop_at_ = kMaxSimTime;
  stopped_ = false;
  last_event_time_ = start;

  for (Observer* o : observers) {
    o->OnEpochStart(job.epoch, SimTimeToSeconds(start), action);
  }
  last_list_at_ = list_seen_at_ = start;
  const auto functions = static_cast<int32_t>(workers_.size());
  for (int32_t i = 0; i < functions; ++i) queue_.Push(start, i, kInvoke);
  // The coordinator's own requests (execution.coordinator_s3_*), reserved
  // up front: an epoch whose budget cannot pay them stops before it starts.
  const int64_t coordinator_gets = scenario_.execution.coordinator_s3_gets;
  const int64_t coordinator_puts = scenario_.execution.coordinator_s3_puts;
  if (coordinator_gets + coordinator_puts > 0) {
    if (Reserve(static_cast<double>(coordinator_gets) * s3_get_usd_ +
                    static_cast<double>(coordinator_puts) * s3_put_usd_,
                start)) {
      result_.s3_gets += coordinator_gets;
      result_.s3_puts += coordinator_puts;
    } else {
      StopForBudget(start);
    }
  }

  // The event loop.
  int64_t events = 0;
  while (!queue_.empty()) {
    const Event event = queue_.Pop();
    ++events;
    if (event.time > budget_stop_at_) {
      StopForBudget(std::max(budget_stop_at_, last_event_time_));
      break;
    }
    last_event_time_ = event.time;
    switch (event.kind) {
      case kInvoke:
        Invoke(event.target, event.time);
        break;
      case kHandler:
        StartHandler(event.target, event.time);
        break;
      case kPhaseDone:
        OnPhaseDone(event.target, event.time);
        break;
      case kTimeout:
        TimeOut(event.target, event.time, event.time);
        break;
      case kS3Retry:
        StartPhase(event.target, workers_[event.target].phase, event.time);
        break;
    }
    if (stopped_) break;
  }
  if (finished_ != functions) {
    throw std::logic_error(
        "epoch engine: " + std::to_string(functions - finished_) +
        " functions never finished");
  }

  // Simulated time is bounded: a job past kMaxJobTime is refused rather than
  // reported with saturated (meaningless) times.
  if (last_finish_ >= kMaxJobTime) {
    throw std::runtime_error(
        "simulated time: epoch " + std::to_string(job.epoch) +
        " would end after " + std::to_string(SimTimeToSeconds(kMaxJobTime)) +
        " s of simulated time; expected a job that finishes within it "
        "(check the latency spreads, timeouts and back-off parameters)");
  }

  // Close the epoch: charges, statistics, loss and job status.
  meter_.ChargeS3Gets(result_.s3_gets);
  meter_.ChargeS3Puts(result_.s3_puts);
  meter_.ChargeS3Lists(result_.list_requests);
  if (scenario_.execution.mode == ExecutionMode::kHsp &&
      scenario_.execution.push_protocol == PushProtocol::kOverwrite) {
    result_.lost_updates = CountLostUpdates();
  }
  result_.events = events;
  result_.duration_s = SimTimeToSeconds(last_finish_ - start);
  result_.cost = meter_.cost();
  result_.billed_gb_s = meter_.billed_gb_s();
  FillStats(result_);

  job.clock = last_finish_;
  job.epoch += 1;
  job.total_events += events;
  job.cost_usd += result_.cost.total_usd();
  const EpochLoss loss = job.convergence->EndEpoch(job.loss_rng);
  job.true_loss = loss.truth;
  job.loss = loss.observed;
  job.status = DecideJobStatus(scenario_, job.loss, job.cost_usd, job.epoch);
  // A cut epoch did not finish: the job ends there, whatever its loss.
  if (stopped_) job.status = JobStatus::kBudgetExhausted;
  FillJobFields(job, result_);

  for (Observer* o : observers) o->OnEpochEnd(result_);
  job_ = nullptr;
  observers_ = nullptr;
  return result_;
}

void EpochEngine::FillStats(EpochResult& result) {
  result.fetch = Summarise(fetch_samples_);
  result.compute = Summarise(compute_samples_);
  result.update = Summarise(update_samples_);
  result.mean_staleness =
      result.updates > 0 ? static_cast<double>(staleness_sum_) / result.updates
                         : 0.0;
  result.cpu_utilisation =
      billed_seconds_ > 0 ? std::min(1.0, compute_seconds_ / billed_seconds_)
                          : 0.0;
  result.memory_utilisation =
      std::min(1.0, MemoryNeedMb(scenario_) / memory_mb_);
}

SimTime EpochEngine::ThrottleBackoff(int32_t attempts) {
  // Capped exponential back-off with equal jitter: d/2 + U(0, d/2).
  const SimTime ceiling =
      std::min(throttle_cap_, throttle_base_ << std::min(attempts, 20));
  const double half = static_cast<double>(ceiling) / 2;
  return static_cast<SimTime>(half + half * job_->backoff_rng.Uniform()) + 1;
}

void EpochEngine::Throttle(int32_t i, SimTime now) {
  // 429: retry later; nothing is billed.
  Worker& w = workers_[i];
  const SimTime retry_at = AddTime(now, ThrottleBackoff(w.throttle_attempts++));
  ++result_.throttles;
  for (Observer* o : *observers_) {
    o->OnThrottle(i, SimTimeToSeconds(now), SimTimeToSeconds(retry_at));
  }
  queue_.Push(retry_at, i, kInvoke);
}

bool EpochEngine::TakeScalingToken(SimTime now) {
  if (scaling_.burst <= 0) return true;
  // Refill continuously since the last take, never above the burst.
  JobState& job = *job_;
  if (now > job.scaling_refilled_at) {
    job.scaling_tokens = std::min<double>(
        scaling_.burst,
        job.scaling_tokens + SimTimeToSeconds(now - job.scaling_refilled_at) *
                                 scaling_.refill_per_s);
    job.scaling_refilled_at = now;
  }
  if (job.scaling_tokens < 1) return false;
  job.scaling_tokens -= 1;
  return true;
}

double EpochEngine::SpendBound(SimTime now) const {
  return bound_const_usd_ +
         bound_rate_usd_per_s_ * SimTimeToSeconds(now - epoch_start_);
}

bool EpochEngine::Reserve(double usd, SimTime now) {
  if (SpendBound(now) + usd > spend_cap_usd_) return false;
  bound_const_usd_ += usd;
  UpdateBudgetStop();
  return true;
}

void EpochEngine::UpdateBudgetStop() {
  if (bound_rate_usd_per_s_ <= 0) {
    budget_stop_at_ = kMaxSimTime;
    return;
  }
  // Where S(t) meets the cap, rounded down (S there is within the cap).
  const double seconds =
      (spend_cap_usd_ - bound_const_usd_) / bound_rate_usd_per_s_;
  budget_stop_at_ =
      seconds >= SimTimeToSeconds(kMaxSimTime - epoch_start_)
          ? kMaxSimTime
          : epoch_start_ + static_cast<SimTime>(std::floor(seconds * 1e9));
}

void EpochEngine::StopForBudget(SimTime at) {
  // Every open invocation stops here (its worker returns at the budget's
  // deadline), billed to this instant; its unpushed work is dropped.
  result_.budget_stop = BudgetStop::kMidEpoch;
  stopped_ = true;
  for (int32_t i = 0; i < static_cast<int32_t>(workers_.size()); ++i) {
    Worker& w = workers_[i];
    if (w.phase == Phase::kDone) continue;
    if (w.local_steps > 0 || w.phase == Phase::kBarrier) {
      job_->convergence->OnLocalWorkDropped(i);
      w.local_steps = 0;
    }
    if (w.in_invocation) {
      if (!w.handler_started) w.invocation_start = at;
      EndInvocation(i, std::max(at, w.invocation_start), /*timed_out=*/false);
    }
    FinishWorker(i, at);
  }
  barrier_waiting_.clear();
  queue_.Clear();
}

void EpochEngine::Invoke(int32_t i, SimTime now) {
  if (stopped_) return;
  Worker& w = workers_[i];
  if (running_ >= concurrency_.limit) {
    Throttle(i, now);
    return;
  }
  const bool recycled = w.after_timeout && sandboxes_.cold_after_timeout;
  const bool warm = !recycled && job_->warm_pool.Acquire(memory_mb_, now);
  if (!warm && !TakeScalingToken(now)) {
    // No token for a new execution environment: 429 as well.
    ++result_.scaling_throttles;
    Throttle(i, now);
    return;
  }
  const double latency_s =
      warm ? platform_->SampleWarmStartS(job_->warm_start_rng)
           : platform_->SampleColdStartS(memory_mb_,
                                         scenario_.workload.package_mb,
                                         job_->cold_start_rng);
  const SimTime init_billed =
      warm ? 0
           : SecondsToSimTime(platform_->BilledInitS(
                 latency_s, scenario_.workload.package_mb));
  // The invocation's bound: its request, its billed INIT and one unit.
  const double reserve =
      rates_.request_usd +
      (SimTimeToSeconds(init_billed) + rates_.granularity_s) * rates_.usd_per_s;
  if (!Reserve(reserve, now)) {
    // The budget cannot pay for it: give back what it took, stop here.
    if (warm) job_->warm_pool.Release(memory_mb_, now);
    if (!warm && scaling_.burst > 0) job_->scaling_tokens += 1;
    StopForBudget(now);
    return;
  }
  ++running_;
  ++result_.invocations;
  w.throttle_attempts = 0;
  w.after_timeout = false;
  w.in_invocation = true;
  w.handler_started = false;
  w.init_billed = init_billed;
  if (warm) {
    ++result_.warm_starts;
  } else {
    ++result_.cold_starts;
    for (Observer* o : *observers_) {
      o->OnColdStart(i, SimTimeToSeconds(now), latency_s);
    }
  }
  w.cold = !warm;
  queue_.Push(AddTime(now, SecondsToSimTime(latency_s)), i, kHandler);
}

void EpochEngine::StartHandler(int32_t i, SimTime now) {
  Worker& w = workers_[i];
  // From here the bound grows with the handler's elapsed time.
  w.handler_started = true;
  bound_const_usd_ -= SimTimeToSeconds(now - epoch_start_) * rates_.usd_per_s;
  bound_rate_usd_per_s_ = ++handlers_open_ * rates_.usd_per_s;
  UpdateBudgetStop();
  w.pushed_this_invocation = false;
  w.invocation_start = now;
  w.deadline = AddTime(now, timeout_);
  for (Observer* o : *observers_) {
    o->OnInvocationStart(i, SimTimeToSeconds(now), w.cold);
  }
  if (IsFolder(i)) {
    StartFolder(now);
  } else {
    BeginStep(i, now);
  }
}

void EpochEngine::BeginStep(int32_t i, SimTime now) {
  workers_[i].step_start = now;
  StartPhase(i, Phase::kFetchBatch, now);
}

void EpochEngine::StartPhase(int32_t i, Phase phase, SimTime now) {
  if (stopped_) return;
  Worker& w = workers_[i];
  w.phase = phase;
  if (now >= w.deadline) {
    TimeOut(i, now, w.deadline);
    return;
  }
  // S3 phases may be refused by the prefix rate limit (503 SlowDown).
  // A LIST is a GET on the bucket (its rate and latency), billed at the PUT
  // price.
  const bool is_get = phase == Phase::kFetchBatch ||
                      phase == Phase::kFetchParams ||
                      phase == Phase::kRereadParams ||
                      phase == Phase::kFoldList || phase == Phase::kFoldGet;
  const bool is_put = phase == Phase::kPush || phase == Phase::kFoldPut;
  const int requests = phase == Phase::kFetchBatch ? objects_per_batch_
                       : phase == Phase::kFoldGet
                           ? static_cast<int>(folding_.size())
                           : 1;
  const double price =
      is_put || phase == Phase::kFoldList ? s3_put_usd_ : s3_get_usd_;
  if ((is_get || is_put) &&
      !job_->s3.Admit(is_get ? S3Op::kGet : S3Op::kPut, now, requests)) {
    ++result_.s3_slowdowns;
    const SimTime retry_at = AddTime(now, job_->s3.SlowdownBackoff());
    if (retry_at > w.deadline) {
      queue_.Push(w.deadline, i, kTimeout);
    } else {
      queue_.Push(retry_at, i, kS3Retry);
    }
    return;
  }
  if ((is_get || is_put) && !Reserve(requests * price, now)) {
    StopForBudget(now);
    return;
  }
  SimTime duration = 0;
  switch (phase) {
    case Phase::kFetchBatch:
      result_.s3_gets += requests;
      duration =
          job_->s3.RequestDuration(S3Op::kGet, batch_bytes_,
                                   bandwidth_mb_per_s_, requests, job_->s3_rng);
      break;
    case Phase::kFetchParams:
    case Phase::kRereadParams:
      result_.s3_gets += 1;
      duration = job_->s3.RequestDuration(S3Op::kGet, model_bytes_,
                                          bandwidth_mb_per_s_, 1, job_->s3_rng);
      break;
    case Phase::kCompute:
      duration = SecondsToSimTime(
          job_->compute_rng.LogNormal(compute_median_s_, compute_noise_sigma_));
      break;
    case Phase::kPush:
    case Phase::kFoldPut:
      // Under fold a worker's update object is as large as the parameters.
      result_.s3_puts += 1;
      duration = job_->s3.RequestDuration(S3Op::kPut, model_bytes_,
                                          bandwidth_mb_per_s_, 1, job_->s3_rng);
      break;
    case Phase::kFoldList:
      // The key listing's bytes are negligible next to the parameters [I].
      result_.list_requests += 1;
      duration = job_->s3.RequestDuration(S3Op::kGet, 0, bandwidth_mb_per_s_, 1,
                                          job_->s3_rng);
      break;
    case Phase::kFoldGet:
      // The new update objects in parallel over the folder's link.
      result_.s3_gets += requests;
      duration =
          job_->s3.RequestDuration(S3Op::kGet, requests * model_bytes_,
                                   bandwidth_mb_per_s_, requests, job_->s3_rng);
      break;
    default:
      throw std::logic_error("epoch engine: bad phase");
  }
  if ((is_get || is_put) && scenario_.s3.server_slots > 0) {
    // At a finite-capacity endpoint a request queues and is served first;
    // the latency and transfer follow. A read sees the store when the server
    // starts on it, a write commits when the server is done. Approximation:
    // the write's compare-and-swap is decided at its completion, against the
    // updates applied (at their completions) before its commit time. Deciding
    // it at the commit instead (half the latency before the server, half
    // after) keeps commits in order but predicted the local stand-in worse:
    // on held-out click-through runs +7.8 % cost against +0.3 % (its moto
    // server is not a FIFO queue).
    const SimTime server = job_->s3.ServerDelay(now, requests);
    duration = AddTime(duration, server);
    w.served_at = AddTime(now, server) - (is_get ? job_->s3.service() : 0);
  } else {
    w.served_at = AddTime(now, duration);
  }
  w.phase_start = now;
  const SimTime end = AddTime(now, duration);
  if (end > w.deadline) {
    queue_.Push(w.deadline, i, kTimeout);
  } else {
    queue_.Push(end, i, kPhaseDone);
  }
}

void EpochEngine::OnPhaseDone(int32_t i, SimTime now) {
  if (IsFolder(i)) {
    OnFolderPhaseDone(now);
    return;
  }
  Worker& w = workers_[i];
  switch (w.phase) {
    case Phase::kFetchBatch:
      // Parameters are fetched once per sync group, after its first batch.
      if (w.local_steps == 0) {
        StartPhase(i, Phase::kFetchParams, now);
      } else {
        fetch_samples_.push_back(SimTimeToSeconds(now - w.step_start));
        StartPhase(i, Phase::kCompute, now);
      }
      break;
    case Phase::kFetchParams:
      // Under HSP the versions this worker saw are those applied when the
      // store served its read (its completion unless the endpoint queues).
      w.read_version = scenario_.execution.mode == ExecutionMode::kHsp
                           ? VersionAt(w.served_at)
                           : job_->version;
      w.fetched_version = w.read_version;
      job_->convergence->OnParamsFetched(i);
      fetch_samples_.push_back(SimTimeToSeconds(now - w.step_start));
      StartPhase(i, Phase::kCompute, now);
      break;
    case Phase::kRereadParams:
      w.read_version = VersionAt(w.served_at);
      StartPhase(i, Phase::kPush, now);
      break;
    case Phase::kCasBackoff:
      StartPhase(i, Phase::kRereadParams, now);
      break;
    case Phase::kCompute: {
      const double seconds = SimTimeToSeconds(now - w.phase_start);
      compute_samples_.push_back(seconds);
      compute_seconds_ += seconds;
      job_->convergence->OnBatchComputed(
          i, w.first_batch + (w.batches_assigned - w.batches_left));
      ++w.local_steps;
      --w.batches_left;
      if (w.local_steps == scenario_.execution.sync_every ||
          w.batches_left == 0) {
        w.push_start = now;
        w.cas_attempts = 0;
        StartPhase(i, Phase::kPush, now);
      } else {
        BeginStep(i, now);
      }
      break;
    }
    case Phase::kPush: {
      // A compare-and-swap push fails when another update landed after this
      // worker's last read: back off, re-read the parameters, push again.
      const bool hsp = scenario_.execution.mode == ExecutionMode::kHsp;
      const PushProtocol protocol = scenario_.execution.push_protocol;
      if (hsp && protocol == PushProtocol::kCas &&
          VersionAt(w.served_at) != w.read_version) {
        ++result_.update_conflicts;
        const SimTime wait = CasBackoff(w.cas_attempts++);
        if (wait > 0) {
          Wait(i, Phase::kCasBackoff, wait, now);
        } else {
          StartPhase(i, Phase::kRereadParams, now);
        }
        break;
      }
      update_samples_.push_back(SimTimeToSeconds(now - w.push_start));
      w.pushed_this_invocation = true;
      w.fruitless_timeouts = 0;
      if (!hsp) {
        ArriveAtBarrier(i, now);
      } else if (protocol == PushProtocol::kOverwrite) {
        OverwriteParams(i, now);
      } else if (protocol == PushProtocol::kFold) {
        StoreUpdate(i, now);
      } else {
        ApplyAsyncUpdate(i, now);
      }
      break;
    }
    default:
      throw std::logic_error("epoch engine: phase event in a passive phase");
  }
}

int64_t EpochEngine::VersionAt(SimTime t) const {
  // Without a finite-capacity endpoint a request is served at its
  // completion, which is now: the current version, nothing to look up.
  if (scenario_.s3.server_slots == 0) return job_->version;
  return epoch_base_version_ +
         (std::upper_bound(apply_times_.begin(), apply_times_.end(), t) -
          apply_times_.begin());
}

void EpochEngine::ApplyAsyncUpdate(int32_t i, SimTime now) {
  Worker& w = workers_[i];
  const int64_t staleness = job_->version - w.fetched_version;
  job_->convergence->OnUpdateApplied(i, staleness, w.local_steps);
  CommitVersion(i, now, staleness);
}

void EpochEngine::CommitVersion(int32_t i, SimTime now, int64_t staleness) {
  if (scenario_.s3.server_slots > 0) apply_times_.push_back(now);
  ++job_->version;
  ++result_.updates;
  staleness_sum_ += staleness;
  result_.max_staleness = std::max(result_.max_staleness, staleness);
  workers_[i].local_steps = 0;
  for (Observer* o : *observers_) {
    o->OnUpdateApplied(i, SimTimeToSeconds(now), job_->version, staleness);
  }
  ContinueAfterPush(i, now);
}

void EpochEngine::OverwriteParams(int32_t i, SimTime now) {
  Worker& w = workers_[i];
  // Its write replaces every update applied since its read.
  const int64_t overwritten = job_->version - w.fetched_version;
  job_->convergence->OnUpdateOverwrote(i, overwritten, w.local_steps);
  overwrite_parent_.push_back(w.fetched_version);
  CommitVersion(i, now, overwritten);
}

int64_t EpochEngine::CountLostUpdates() const {
  // The final parameters hold the updates on their lineage: each version
  // written this epoch holds its parent's updates and its writer's own.
  const int64_t base = epoch_base_version_;
  int64_t kept = 0;
  for (int64_t v = job_->version; v > base;
       v = overwrite_parent_[static_cast<size_t>(v - base - 1)]) {
    ++kept;
  }
  return static_cast<int64_t>(overwrite_parent_.size()) - kept;
}

void EpochEngine::StoreUpdate(int32_t i, SimTime now) {
  Worker& w = workers_[i];
  stored_.push_back({i, w.push_seq++, w.fetched_version, w.local_steps, now});
  job_->convergence->OnUpdateStored(i);
  w.local_steps = 0;
  ContinueAfterPush(i, now);
}

void EpochEngine::ContinueAfterPush(int32_t i, SimTime now) {
  if (workers_[i].batches_left > 0) {
    BeginStep(i, now);
  } else {
    EndInvocation(i, now, /*timed_out=*/false);
    FinishWorker(i, now);
  }
}

void EpochEngine::Wait(int32_t i, Phase phase, SimTime duration, SimTime now) {
  if (stopped_) return;
  Worker& w = workers_[i];
  w.phase = phase;
  w.phase_start = now;
  const SimTime end = AddTime(now, duration);
  if (end > w.deadline) {
    queue_.Push(w.deadline, i, kTimeout);
  } else {
    queue_.Push(end, i, kPhaseDone);
  }
}

SimTime EpochEngine::CasBackoff(int32_t attempt) {
  // Full jitter: U(0, min(cap, base x 2^attempt)).
  const double base_ms = scenario_.execution.cas_backoff_ms;
  const double cap_ms = scenario_.execution.cas_backoff_cap_ms;
  if (base_ms <= 0 || cap_ms <= 0) return 0;
  const double ceiling_ms =
      std::min(cap_ms, base_ms * std::ldexp(1.0, std::min(attempt, 40)));
  return SecondsToSimTime(ceiling_ms * 1e-3 * job_->cas_backoff_rng.Uniform());
}

void EpochEngine::ArriveAtBarrier(int32_t i, SimTime now) {
  Worker& w = workers_[i];
  w.local_steps = 0;
  w.phase = Phase::kBarrier;
  ++round_pushes_;
  barrier_waiting_.push_back(i);
  if (--round_pending_ == 0) CloseRound(now);
}

void EpochEngine::CloseRound(SimTime now) {
  // One synchronous update of round_pushes_ x b samples, staleness 0.
  // Every push of the round, computed on the same version, lands now, in
  // worker order (also the order they are released in, for determinism).
  std::sort(barrier_waiting_.begin(), barrier_waiting_.end());
  job_->convergence->OnRoundClosed(
      barrier_waiting_,
      static_cast<int64_t>(round_pushes_) * scenario_.workload.batch_size);
  ++job_->version;
  ++result_.updates;
  for (Observer* o : *observers_) {
    o->OnUpdateApplied(-1, SimTimeToSeconds(now), job_->version, 0);
  }
  round_pushes_ = 0;
  // Release the waiting functions in index order (sorted above).
  std::vector<int32_t> released;
  released.swap(barrier_waiting_);
  for (int32_t i : released) {
    if (workers_[i].batches_left > 0) ++round_pending_;
  }
  for (int32_t i : released) {
    if (stopped_) break;  // The budget cut the epoch in this loop.
    Worker& w = workers_[i];
    if (now > w.deadline) {
      // The sandbox was cut while it waited at the barrier.
      TimeOut(i, now, w.deadline);
    } else if (w.batches_left > 0) {
      BeginStep(i, now);
    } else {
      EndInvocation(i, now, /*timed_out=*/false);
      FinishWorker(i, now);
    }
  }
  // Hand the buffer back so later rounds do not allocate.
  released.clear();
  barrier_waiting_.swap(released);
}

void EpochEngine::TimeOut(int32_t i, SimTime now, SimTime deadline) {
  if (IsFolder(i)) {
    FolderTimeOut(now, deadline);
    return;
  }
  Worker& w = workers_[i];
  ++result_.timeouts;
  // Batches computed since the last push are lost and redone.
  w.batches_left += w.local_steps;
  w.local_steps = 0;
  job_->convergence->OnLocalWorkDropped(i);
  if (!w.pushed_this_invocation &&
      ++w.fruitless_timeouts >= kMaxFruitlessTimeouts) {
    throw std::runtime_error(
        "memory_mb: got " + std::to_string(memory_mb_) + ", function " +
        std::to_string(i) + " timed out " +
        std::to_string(kMaxFruitlessTimeouts) +
        " times in a row without pushing an update; expected a memory size "
        "at which one step fits in the platform's timeout of " +
        std::to_string(platform_->timeout_s()) + " s");
  }
  EndInvocation(i, deadline, /*timed_out=*/true);
  w.pushed_this_invocation = false;
  w.after_timeout = true;
  if (w.batches_left > 0) {
    ++result_.reinvocations;
    queue_.Push(now, i, kInvoke);
  } else {
    FinishWorker(i, now);
  }
}

void EpochEngine::EndInvocation(int32_t i, SimTime now, bool timed_out) {
  Worker& w = workers_[i];
  const InvocationBill bill = meter_.ChargeInvocation(
      AddTime(now - w.invocation_start, w.init_billed), memory_mb_);
  const SimTime billed = bill.billed;
  billed_seconds_ += SimTimeToSeconds(billed);
  result_.init_billed_s += SimTimeToSeconds(w.init_billed);
  // Its bound (request, INIT, one unit, elapsed handler time) becomes its
  // bill, which is no larger.
  bound_const_usd_ -= rates_.request_usd +
                      (SimTimeToSeconds(w.init_billed) + rates_.granularity_s) *
                          rates_.usd_per_s;
  if (w.handler_started) {
    bound_const_usd_ +=
        SimTimeToSeconds(w.invocation_start - epoch_start_) * rates_.usd_per_s;
    bound_rate_usd_per_s_ = --handlers_open_ * rates_.usd_per_s;
  }
  bound_const_usd_ += bill.duration_usd + bill.request_usd;
  UpdateBudgetStop();
  w.in_invocation = false;
  w.handler_started = false;
  w.init_billed = 0;
  --running_;
  if (!timed_out || !sandboxes_.cold_after_timeout) {
    job_->warm_pool.Release(memory_mb_, now);
  }
  for (Observer* o : *observers_) {
    o->OnInvocationEnd(i, SimTimeToSeconds(now), SimTimeToSeconds(billed),
                       timed_out);
  }
}

void EpochEngine::FinishWorker(int32_t i, SimTime now) {
  workers_[i].phase = Phase::kDone;
  ++finished_;
  last_finish_ = std::max(last_finish_, now);
  if (!IsFolder(i) && ++workers_finished_ == workers_used_) {
    workers_done_at_ = now;
  }
}

}  // namespace siren::sim
