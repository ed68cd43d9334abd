// Loading, overriding and validating scenarios (OpenSpiel's GameParameters and
// EnvPool's EnvSpec habit: typed defaults in one table, load by name, validate
// at construction, throw a specific error).
//
// Order of precedence, lowest first:
//   1. the defaults of the parameter table (param_table.cc), each with its
//      source from shared CALIBRATION.md;
//   2. variant defaults implied by a selector, e.g. the Lambda generation
//      `lambda.era` (memory grid, timeout, billing granularity), unless the
//      same key is set explicitly in 3 or 4;
//   3. a preset (built-in, by name) or a YAML file;
//   4. `key=value` overrides with dotted paths, e.g. `workload.batch_size=256`.
//
// Every error is a ScenarioError whose message names the field path, the
// offending value and what was expected. Nothing is silently defaulted: an
// unknown key, a wrong type, a NaN, an out-of-range value, an inconsistent
// combination or a missing file is an error.
#ifndef SIREN_SIM_SCENARIO_SCENARIO_LOADER_H_
#define SIREN_SIM_SCENARIO_SCENARIO_LOADER_H_

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/scenario/param_spec.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// Names of the built-in presets, sorted; "default" is an alias, not listed.
std::vector<std::string> PresetNames();

// The name the alias "default" resolves to.
std::string DefaultPresetName();

// Loads `name_or_path`: a built-in preset name, "default", or a path to a YAML
// file (anything containing '/' or ending in .yaml/.yml is a path). Applies
// `overrides` ("key=value" strings) and validates.
Scenario LoadScenario(const std::string& name_or_path,
                      const std::vector<std::string>& overrides = {});

// Parses a scenario from YAML text (as a file would hold it); `origin` names
// the source in error messages.
Scenario ParseScenario(const std::string& yaml_text,
                       const std::vector<std::string>& overrides = {},
                       const std::string& origin = "<string>");

// Serialises a scenario to YAML with every parameter present, so that
// ParseScenario(ScenarioToYaml(s)) == s. Written into traces.
std::string ScenarioToYaml(const Scenario& scenario);

// Re-checks ranges and cross-field consistency; LoadScenario calls it.
void ValidateScenario(const Scenario& scenario);

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_SCENARIO_LOADER_H_
