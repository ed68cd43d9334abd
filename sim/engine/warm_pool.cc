#include "sim/engine/warm_pool.h"

#include <algorithm>

namespace siren::sim {

bool WarmPool::Acquire(int memory_mb, SimTime now) {
  auto it = idle_since_.find(memory_mb);
  if (it == idle_since_.end() || it->second.empty()) return false;
  std::vector<SimTime>& idle = it->second;
  // The newest instance is at the back; if it expired, all older ones did.
  if (now - idle.back() > keep_alive_) {
    idle.clear();
    return false;
  }
  idle.pop_back();
  return true;
}

void WarmPool::Release(int memory_mb, SimTime now) {
  std::vector<SimTime>& idle = idle_since_[memory_mb];
  // Keep the list sorted even if a caller releases out of order.
  if (!idle.empty() && idle.back() > now) {
    idle.insert(std::upper_bound(idle.begin(), idle.end(), now), now);
  } else {
    idle.push_back(now);
  }
}

int WarmPool::IdleCount(int memory_mb, SimTime now) const {
  auto it = idle_since_.find(memory_mb);
  if (it == idle_since_.end()) return 0;
  const std::vector<SimTime>& idle = it->second;
  const auto first_alive =
      std::lower_bound(idle.begin(), idle.end(), now - keep_alive_);
  return static_cast<int>(idle.end() - first_alive);
}

}  // namespace siren::sim
