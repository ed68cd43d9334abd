// The folder of push_protocol fold (scenario.h): one extra function per HSP
// epoch, invoked with the workers at the same memory and billed like them
// (its own cold or warm start, throttles, timeouts). Its loop:
//   every execution.fold_interval_ms (at once if the last fold took longer):
//   LIST the epoch's update prefix; if it shows new update objects, GET them
//   in parallel (their bytes over the folder's link), add them to the
//   parameters in key order (worker, then its sequence number; the adding
//   itself takes no simulated time), PUT the parameters once: the fold
//   commits when that PUT completes, and its updates are applied then, one
//   version each, with staleness = versions applied since the worker's read.
//   The folded objects are deleted with DeleteObjects: free, and not timed
//   [I] (it does not delay the next fold's reads).
// The folder ends when every worker has finished and every stored update is
// folded: after a fold whose LIST saw the store once the last worker had
// finished, or after such a LIST that showed nothing new.
// Guarantee: every pushed update is applied exactly once; a reader sees a
// prefix (in fold order) of the stored updates.
// Not modelled: a LIST page holds at most 1,000 keys (one LIST here sees
// every stored update; the largest fold of the README's runs,
// experiments/bench_param_store.py, holds 867), and the folder's own CPU
// time to add the updates.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/engine/epoch_engine.h"

namespace siren::sim {

void EpochEngine::StartFolder(SimTime now) {
  // A (re-)started folder lists at once.
  last_list_at_ = now;
  StartPhase(folder_, Phase::kFoldList, now);
}

void EpochEngine::ScheduleFold(SimTime now) {
  const SimTime next = std::max(now, AddTime(last_list_at_, fold_period_));
  if (next == now) {
    last_list_at_ = now;
    StartPhase(folder_, Phase::kFoldList, now);
  } else {
    Wait(folder_, Phase::kFoldWait, next - now, now);
  }
}

void EpochEngine::FinishOrFoldAgain(SimTime now) {
  if (workers_done_at_ <= list_seen_at_) {
    // Its last LIST came after the last worker finished: nothing is left.
    EndInvocation(folder_, now, /*timed_out=*/false);
    FinishWorker(folder_, now);
  } else {
    ScheduleFold(now);
  }
}

void EpochEngine::OnFolderPhaseDone(SimTime now) {
  Worker& f = workers_[folder_];
  switch (f.phase) {
    case Phase::kFoldWait:
      last_list_at_ = now;
      StartPhase(folder_, Phase::kFoldList, now);
      break;
    case Phase::kFoldList: {
      // The LIST shows the updates stored when the store served it: a
      // prefix of stored_ (kept in store order).
      list_seen_at_ = f.served_at;
      const auto seen = std::find_if(
          stored_.begin(), stored_.end(),
          [&](const StoredUpdate& u) { return u.stored_at > list_seen_at_; });
      folding_.assign(stored_.begin(), seen);
      if (folding_.empty()) {
        FinishOrFoldAgain(now);
        break;
      }
      // Key order: `<worker>-<seq>`, the numbers zero-padded.
      std::sort(folding_.begin(), folding_.end(),
                [](const StoredUpdate& a, const StoredUpdate& b) {
                  return a.worker != b.worker ? a.worker < b.worker
                                              : a.seq < b.seq;
                });
      StartPhase(folder_, Phase::kFoldGet, now);
      break;
    }
    case Phase::kFoldGet:
      StartPhase(folder_, Phase::kFoldPut, now);
      break;
    case Phase::kFoldPut:
      CommitFold(now);
      FinishOrFoldAgain(now);
      break;
    default:
      throw std::logic_error("epoch engine: bad folder phase");
  }
}

void EpochEngine::CommitFold(SimTime now) {
  for (const StoredUpdate& u : folding_) {
    const int64_t staleness = job_->version - u.read_version;
    job_->convergence->OnStoredUpdateApplied(u.worker, staleness,
                                             u.local_steps);
    if (scenario_.s3.server_slots > 0) apply_times_.push_back(now);
    ++job_->version;
    ++result_.updates;
    staleness_sum_ += staleness;
    result_.max_staleness = std::max(result_.max_staleness, staleness);
    for (Observer* o : *observers_) {
      o->OnUpdateApplied(u.worker, SimTimeToSeconds(now), job_->version,
                         staleness);
    }
  }
  // The folded updates are the oldest stored ones (a prefix of stored_).
  stored_.erase(stored_.begin(),
                stored_.begin() + static_cast<std::ptrdiff_t>(folding_.size()));
  folding_.clear();
  ++result_.folds;
  Worker& f = workers_[folder_];
  f.pushed_this_invocation = true;
  f.fruitless_timeouts = 0;
}

void EpochEngine::FolderTimeOut(SimTime now, SimTime deadline) {
  Worker& f = workers_[folder_];
  ++result_.timeouts;
  // An uncommitted fold is abandoned: its updates are still stored, and the
  // re-invoked folder folds them.
  folding_.clear();
  if (!f.pushed_this_invocation && !stored_.empty() &&
      ++f.fruitless_timeouts >= kMaxFruitlessTimeouts) {
    throw std::runtime_error(
        "memory_mb: got " + std::to_string(memory_mb_) +
        ", the folder timed out " + std::to_string(kMaxFruitlessTimeouts) +
        " times in a row without folding the " +
        std::to_string(stored_.size()) +
        " stored updates; expected a memory size at which one fold fits in "
        "the platform's timeout of " +
        std::to_string(platform_->timeout_s()) + " s");
  }
  EndInvocation(folder_, deadline, /*timed_out=*/true);
  f.pushed_this_invocation = false;
  f.after_timeout = true;
  ++result_.reinvocations;
  queue_.Push(now, folder_, kInvoke);
}

}  // namespace siren::sim
