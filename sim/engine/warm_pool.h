// Idle Lambda execution environments, keyed by memory configuration (one
// deployed function per memory size), surviving across epochs. An instance
// released at time r is reusable until r + keep_alive; reuse takes the most
// recently released instance first, as Lambda's routing tends to.
#ifndef SIREN_SIM_ENGINE_WARM_POOL_H_
#define SIREN_SIM_ENGINE_WARM_POOL_H_

#include <map>
#include <vector>

#include "sim/core/event_queue.h"

namespace siren::sim {

class WarmPool {
 public:
  explicit WarmPool(SimTime keep_alive) : keep_alive_(keep_alive) {}

  // Takes an idle, unexpired instance of `memory_mb` at `now`; false when
  // there is none (the caller then pays a cold start). Drops expired ones.
  bool Acquire(int memory_mb, SimTime now);

  // Returns an instance to the pool at `now` (times must not decrease).
  void Release(int memory_mb, SimTime now);

  // Idle instances of `memory_mb` still alive at `now`.
  int IdleCount(int memory_mb, SimTime now) const;

  void Clear() { idle_since_.clear(); }

 private:
  SimTime keep_alive_;
  // Release times per memory size, ascending.
  std::map<int, std::vector<SimTime>> idle_since_;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_WARM_POOL_H_
