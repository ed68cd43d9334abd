#include "sim/platform/platform.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "sim/scenario/workload.h"

namespace siren::sim {
namespace {

constexpr double kBytesPerMb = 1024.0 * 1024.0;

std::map<std::string, PlatformFactory>& Factories() {
  static auto* factories = new std::map<std::string, PlatformFactory>();
  return *factories;
}

}  // namespace

bool Platform::IsOnMemoryGrid(int memory_mb) const {
  const std::vector<int>& grid = MemoryGrid();
  return std::binary_search(grid.begin(), grid.end(), memory_mb);
}

SimTime BilledDuration(SimTime duration, SimTime granularity) {
  if (duration <= 0) return 0;
  return (duration + granularity - 1) / granularity * granularity;
}

double GbSeconds(SimTime billed, int memory_mb) {
  return SimTimeToSeconds(billed) * (memory_mb / 1024.0);
}

double MemoryNeedMb(const Scenario& scenario) {
  const WorkloadSpec& w = scenario.workload;
  return w.runtime_memory_mb +
         scenario.execution.memory_overhead_factor * ModelBytes(w) /
             kBytesPerMb +
         BatchBytes(w) / kBytesPerMb;
}

int MinFeasibleMemoryMb(const Platform& platform, const Scenario& scenario) {
  const double need = MemoryNeedMb(scenario);
  const std::vector<int>& grid = platform.MemoryGrid();
  const auto it = std::lower_bound(
      grid.begin(), grid.end(), need,
      [](int memory, double wanted) { return memory < wanted; });
  return it == grid.end() ? -1 : *it;
}

std::string MemoryError(const Platform& platform, const Scenario& scenario,
                        int memory_mb) {
  std::ostringstream message;
  if (!platform.IsOnMemoryGrid(memory_mb)) {
    message << "memory_mb: got " << memory_mb << ", expected "
            << platform.DescribeMemoryGrid();
    return message.str();
  }
  const int min_feasible = MinFeasibleMemoryMb(platform, scenario);
  if (memory_mb < min_feasible) {
    message << "memory_mb: got " << memory_mb
            << ", expected >= " << min_feasible << " MB: the workload '"
            << scenario.workload.name << "' needs " << MemoryNeedMb(scenario)
            << " MB (out of memory below that)";
    return message.str();
  }
  return "";
}

std::vector<int> MemoryGrid(const Scenario& scenario) {
  return MakePlatform(scenario)->MemoryGrid();
}

int MinFeasibleMemoryMb(const Scenario& scenario) {
  return MinFeasibleMemoryMb(*MakePlatform(scenario), scenario);
}

std::string MemoryError(const Scenario& scenario, int memory_mb) {
  return MemoryError(*MakePlatform(scenario), scenario, memory_mb);
}

bool RegisterPlatform(const std::string& name, ParamSection section,
                      PlatformFactory factory) {
  if (!Factories().emplace(name, std::move(factory)).second) {
    throw std::logic_error("platform '" + name + "' registered twice");
  }
  section.implements = {"platform.model", name};
  if (section.name.empty()) section.name = "platform " + name;
  RegisterParamSection(std::move(section));
  return true;
}

std::vector<std::string> PlatformNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  return names;
}

std::shared_ptr<const Platform> MakePlatform(const Scenario& scenario) {
  const auto it = Factories().find(scenario.models.platform);
  if (it == Factories().end()) {
    std::string known;
    for (const std::string& name : PlatformNames()) {
      known += (known.empty() ? "\"" : ", \"") + name + "\"";
    }
    FailParamValue("platform.model", "\"" + scenario.models.platform + "\"",
                   "one of " + known);
  }
  return it->second(scenario);
}

}  // namespace siren::sim
