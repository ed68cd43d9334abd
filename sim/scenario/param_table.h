// The table of every scenario parameter, assembled from sections.
//
// It is the single place where parameters are declared: the loader reads YAML
// through it, ValidateScenario checks ranges with it and runs each active
// section's cross-field checks, ScenarioToYaml writes every entry, and
// `siren scenario --describe` prints DescribeParameters().
//
// Sections:
// - the core sections of scenario/ (name, workload, S3, S3 prices, the
//   platform and convergence selectors, execution, job, EC2 baseline),
//   bound to typed fields of Scenario (param_table.cc);
// - one section per plug-in, registered by the plug-in itself: a platform
//   (sim/platform/), a convergence model (sim/convergence/), the env layer
//   (env/). Its values live in Scenario::params.
// A section that `implements` a selector value (e.g. {"convergence.model",
// "sgd"}) is active only when the scenario selects it: its cross-field check
// runs then, and the selector's allowed names are the registered
// implementations. Its parameters are always listed, loaded and written, so a
// scenario file is valid whatever it selects.
#ifndef SIREN_SIM_SCENARIO_PARAM_TABLE_H_
#define SIREN_SIM_SCENARIO_PARAM_TABLE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/param_spec.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

struct ParamSection {
  std::string name;  // Shown by DescribeParameters, e.g. "platform aws_lambda".
  // Position in the table: lower first. Core sections use 0-99; platforms
  // 100-199; convergence models 200-299; the env layer 300.
  int order = 0;
  // (selector path, implementation name), or empty for an always-active
  // section.
  std::pair<std::string, std::string> implements;
  std::vector<ParamSpec> params;
  // Cross-field checks once every value is set and in range; throws
  // ScenarioError (FailParamValue) naming the field. May be empty.
  std::function<void(const Scenario&)> validate;

  bool Active(const Scenario& scenario) const;
};

// Adds a section (at static-initialisation time, by a plug-in's registration
// object, or at any time before scenarios that use it are loaded). Throws
// std::logic_error when a path is already declared or the section is
// ill-formed. Returns true so that it can initialise a static.
bool RegisterParamSection(ParamSection section);

// Every section, core and registered, in table order.
std::vector<const ParamSection*> ParamSections();

// Every parameter, in the order ScenarioToYaml writes them; rebuilt when a
// section is registered, so hold no reference across registrations.
const std::vector<ParamSpec>& ParamTable();

// The entry for `path`, or nullptr when there is none.
const ParamSpec* FindParam(const std::string& path);

// The known path closest to `path` by edit distance (a path sharing the same
// last component wins ties), or "" when none is reasonably close.
std::string ClosestParamPath(const std::string& path);

// A human-readable listing of every parameter by section: path, type,
// default, range, description and source (for `siren scenario --describe`).
std::string DescribeParameters();

// The core sections, bound to Scenario's typed fields (param_table.cc).
std::vector<ParamSection> CoreParamSections();

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_PARAM_TABLE_H_
