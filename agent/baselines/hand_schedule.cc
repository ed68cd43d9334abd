#include "agent/baselines/hand_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "env/env_spec.h"
#include "sim/platform/platform.h"

namespace siren::baselines {
namespace {

// Preferred memory of the default hand schedule.
constexpr int kPreferredHandMemoryMb = 2048;

}  // namespace

Schedule HandSchedule(const sim::Scenario& scenario,
                      const HandScheduleOptions& options) {
  if (!std::isfinite(options.scale) || options.scale <= 0) {
    std::ostringstream message;
    message << "scale: got " << options.scale
            << ", expected a finite number > 0";
    throw std::invalid_argument(message.str());
  }
  if (options.mid_epochs < 0) {
    throw std::invalid_argument("mid_epochs: got " +
                                std::to_string(options.mid_epochs) +
                                ", expected an integer >= 0");
  }
  for (const auto& [name, count] :
       {std::pair{"high", options.high}, std::pair{"mid", options.mid},
        std::pair{"low", options.low}}) {
    if (count < 1) {
      throw std::invalid_argument(std::string(name) + ": got " +
                                  std::to_string(count) +
                                  ", expected an integer >= 1");
    }
  }
  const std::string problem = sim::MemoryError(scenario, options.memory_mb);
  if (!problem.empty()) throw std::invalid_argument("memory_mb: " + problem);

  const env::EnvSpec env_spec = env::EnvSpec::FromScenario(scenario);
  auto scaled = [&](int count) {
    const long n = std::lround(count * options.scale);
    return static_cast<int>(
        std::clamp<long>(n, env_spec.min_functions, env_spec.max_functions));
  };
  Schedule schedule;
  schedule.push_back({scaled(options.high), options.memory_mb});
  for (int e = 0; e < options.mid_epochs; ++e) {
    schedule.push_back({scaled(options.mid), options.memory_mb});
  }
  schedule.push_back({scaled(options.low), options.memory_mb});
  return schedule;
}

int DefaultHandMemoryMb(const sim::Scenario& scenario) {
  const std::vector<int> grid = sim::MemoryGrid(scenario);
  const int floor =
      std::max(sim::MinFeasibleMemoryMb(scenario), kPreferredHandMemoryMb);
  for (int m : grid) {
    if (m >= floor) return m;
  }
  return grid.back();
}

}  // namespace siren::baselines
