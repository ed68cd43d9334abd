// S3 as the data and parameter store (DESIGN.md §2.4): a request takes a
// log-normal first-byte latency plus bytes / min(function bandwidth,
// per-connection cap). Optionally, GET and PUT rates are limited per prefix
// by token buckets (one second of burst); a request over the limit gets a 503
// SlowDown and the caller retries after a back-off. 503s are not charged.
#ifndef SIREN_SIM_STORAGE_S3_MODEL_H_
#define SIREN_SIM_STORAGE_S3_MODEL_H_

#include <vector>

#include "sim/core/event_queue.h"
#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

enum class S3Op { kGet, kPut };

class S3Model {
 public:
  explicit S3Model(const S3Spec& spec);

  // Time to complete `parallel_requests` concurrent requests moving `bytes`
  // in total over a link of `bandwidth_mb_per_s`: the slowest first byte plus
  // the transfer.
  SimTime RequestDuration(S3Op op, double bytes, double bandwidth_mb_per_s,
                          int parallel_requests, Rng& rng) const;

  // Whether `count` requests of `op` issued at `now` are admitted by the
  // prefix rate limit (always true when the limit is off). Consumes tokens
  // only when admitted. Calls must come in non-decreasing `now`.
  bool Admit(S3Op op, SimTime now, int count);

  // The delay a finite-capacity endpoint adds to `count` requests arriving
  // at `now`: each takes the earliest free of `server_slots` slots (no
  // earlier than `now`) and holds it `server_service_ms`; returns the last
  // one's completion minus `now` (0 when the endpoint is unlimited). Calls
  // come in non-decreasing `now` (event order), so slots serve FIFO.
  SimTime ServerDelay(SimTime now, int count);
  // Service time of one request at a finite-capacity endpoint.
  SimTime service() const { return service_; }

  // Back-off before retrying a request that got a 503.
  SimTime SlowdownBackoff() const { return slowdown_backoff_; }

  void Reset();

 private:
  struct TokenBucket {
    double rate = 0;    // Tokens per second.
    double tokens = 0;  // Currently available.
    SimTime last = 0;   // Time of the last refill.
  };
  bool Take(TokenBucket& bucket, SimTime now, int count);

  S3Spec spec_;
  double get_median_s_;
  double put_median_s_;
  SimTime slowdown_backoff_;
  TokenBucket get_bucket_;
  TokenBucket put_bucket_;
  SimTime service_;
  std::vector<SimTime> slot_free_;  // When each slot frees up (a min-heap).
};

}  // namespace siren::sim

#endif  // SIREN_SIM_STORAGE_S3_MODEL_H_
