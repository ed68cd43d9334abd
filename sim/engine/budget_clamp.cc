#include "sim/engine/budget_clamp.h"

#include <algorithm>

namespace siren::sim {
namespace {

// The largest count in [lo, hi] the predicate accepts at `memory_mb`, given
// that it accepts `lo`: bisection on the (assumed) monotone cost.
int LargestAffordable(int lo, int hi, int memory_mb,
                      const std::function<bool(const Action&)>& affordable,
                      int* checks) {
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    ++*checks;
    if (affordable({mid, memory_mb})) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace

BudgetClamp ClampToBudget(
    const Action& requested, const std::vector<int>& memory_sizes,
    int min_functions, const std::function<bool(const Action&)>& affordable) {
  BudgetClamp out;
  out.action = requested;
  ++out.checks;
  if (affordable(requested)) {
    out.affordable = true;
    return out;
  }
  const auto accept = [&](int functions, int memory_mb) {
    out.action = {functions, memory_mb};
    out.clamped = true;
    out.affordable = true;
    return out;
  };
  if (requested.functions < 1) return out;
  const int lo_n = std::clamp(min_functions, 1, requested.functions);
  // 2. Fewer functions at the requested memory.
  if (requested.functions > lo_n) {
    ++out.checks;
    if (affordable({lo_n, requested.memory_mb})) {
      return accept(
          LargestAffordable(lo_n, requested.functions - 1, requested.memory_mb,
                            affordable, &out.checks),
          requested.memory_mb);
    }
  }
  // 3. A smaller memory: the sizes below the requested one, ascending.
  const auto below = std::lower_bound(memory_sizes.begin(), memory_sizes.end(),
                                      requested.memory_mb);
  const int count = static_cast<int>(below - memory_sizes.begin());
  if (count == 0) return out;
  ++out.checks;
  if (!affordable({lo_n, memory_sizes[0]})) return out;
  // The largest index in [0, count - 1] affordable with lo_n functions.
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    ++out.checks;
    if (affordable({lo_n, memory_sizes[mid]})) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const int memory_mb = memory_sizes[lo];
  return accept(LargestAffordable(lo_n, requested.functions, memory_mb,
                                  affordable, &out.checks),
                memory_mb);
}

}  // namespace siren::sim
