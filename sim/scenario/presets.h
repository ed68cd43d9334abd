// The built-in scenario presets: the text of experiments/scenarios/*.yaml,
// compiled into the library by cmake/EmbedPresets.cmake so that an installed
// wheel needs no data files. The definition is generated at configure time
// (build/sim/generated/presets_data.cc).
#ifndef SIREN_SIM_SCENARIO_PRESETS_H_
#define SIREN_SIM_SCENARIO_PRESETS_H_

#include <string>
#include <utility>
#include <vector>

namespace siren::sim {

// (name, YAML text) of every preset, sorted by name; the name is the file
// stem, e.g. "lenet-mnist".
const std::vector<std::pair<std::string, std::string>>& EmbeddedPresets();

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_PRESETS_H_
