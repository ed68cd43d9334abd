#include "sim/convergence/convergence_model.h"

#include <map>
#include <stdexcept>

namespace siren::sim {
namespace {

std::map<std::string, ConvergenceFactory>& Factories() {
  static auto* factories = new std::map<std::string, ConvergenceFactory>();
  return *factories;
}

}  // namespace

bool RegisterConvergenceModel(const std::string& name, ParamSection section,
                              ConvergenceFactory factory) {
  if (!Factories().emplace(name, std::move(factory)).second) {
    throw std::logic_error("convergence model '" + name + "' registered twice");
  }
  section.implements = {"convergence.model", name};
  if (section.name.empty()) section.name = "convergence " + name;
  RegisterParamSection(std::move(section));
  return true;
}

std::vector<std::string> ConvergenceModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  return names;
}

std::unique_ptr<ConvergenceModel> MakeConvergenceModel(
    const Scenario& scenario) {
  const auto it = Factories().find(scenario.models.convergence);
  if (it == Factories().end()) {
    std::string known;
    for (const std::string& name : ConvergenceModelNames()) {
      known += (known.empty() ? "\"" : ", \"") + name + "\"";
    }
    FailParamValue("convergence.model",
                   "\"" + scenario.models.convergence + "\"",
                   "one of " + known);
  }
  return it->second(scenario);
}

}  // namespace siren::sim
