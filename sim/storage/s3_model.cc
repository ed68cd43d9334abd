#include "sim/storage/s3_model.h"

#include <algorithm>
#include <functional>

namespace siren::sim {

S3Model::S3Model(const S3Spec& spec)
    : spec_(spec),
      get_median_s_(spec.get_latency_median_ms * 1e-3),
      put_median_s_(spec.put_latency_median_ms * 1e-3),
      slowdown_backoff_(SecondsToSimTime(spec.slowdown_backoff_s)),
      service_(SecondsToSimTime(spec.server_service_ms * 1e-3)) {
  Reset();
}

void S3Model::Reset() {
  get_bucket_ = {spec_.get_rate_per_prefix * spec_.prefixes,
                 spec_.get_rate_per_prefix * spec_.prefixes, 0};
  put_bucket_ = {spec_.put_rate_per_prefix * spec_.prefixes,
                 spec_.put_rate_per_prefix * spec_.prefixes, 0};
  slot_free_.assign(std::max(0, spec_.server_slots), 0);
}

SimTime S3Model::ServerDelay(SimTime now, int count) {
  if (slot_free_.empty()) return 0;
  // slot_free_ is a min-heap of the times the slots free up: the request
  // takes the earliest free slot (slots are identical, so which one does
  // not matter), in O(log slots).
  SimTime done = now;
  const auto later = std::greater<SimTime>();
  for (int i = 0; i < count; ++i) {
    std::pop_heap(slot_free_.begin(), slot_free_.end(), later);
    SimTime& slot = slot_free_.back();
    slot = std::max(slot, now) + service_;
    done = std::max(done, slot);
    std::push_heap(slot_free_.begin(), slot_free_.end(), later);
  }
  return done - now;
}

SimTime S3Model::RequestDuration(S3Op op, double bytes,
                                 double bandwidth_mb_per_s,
                                 int parallel_requests, Rng& rng) const {
  const double median = op == S3Op::kGet ? get_median_s_ : put_median_s_;
  double first_byte = 0;
  for (int i = 0; i < parallel_requests; ++i) {
    first_byte =
        std::max(first_byte, rng.LogNormal(median, spec_.latency_sigma));
  }
  const double rate_mb_s =
      std::min(bandwidth_mb_per_s, spec_.connection_cap_mb_per_s);
  const double transfer = bytes / (1024.0 * 1024.0) / rate_mb_s;
  return SecondsToSimTime(first_byte + transfer);
}

bool S3Model::Take(TokenBucket& bucket, SimTime now, int count) {
  const double elapsed =
      SimTimeToSeconds(std::max<SimTime>(0, now - bucket.last));
  // The bucket holds at most one second of requests.
  bucket.tokens = std::min(bucket.rate, bucket.tokens + elapsed * bucket.rate);
  bucket.last = std::max(bucket.last, now);
  if (bucket.tokens < count) return false;
  bucket.tokens -= count;
  return true;
}

bool S3Model::Admit(S3Op op, SimTime now, int count) {
  if (!spec_.rate_limit) return true;
  return Take(op == S3Op::kGet ? get_bucket_ : put_bucket_, now, count);
}

}  // namespace siren::sim
