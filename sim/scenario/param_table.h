// The table of every scenario parameter: its dotted path, type, default,
// allowed range, a one-line description and the source of the default
// (a row of shared CALIBRATION.md, or "[I]" for an inference of ours).
//
// It is the single place where parameters are declared: the loader reads YAML
// through it, ValidateScenario checks ranges with it, ScenarioToYaml writes
// every entry, and `siren scenario --describe` prints DescribeParameters().
// Adding a field to `Scenario` means adding one entry in param_table.cc.
#ifndef SIREN_SIM_SCENARIO_PARAM_TABLE_H_
#define SIREN_SIM_SCENARIO_PARAM_TABLE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sim/scenario/scenario.h"

namespace siren::sim {

enum class ParamType { kInt, kDouble, kBool, kString, kEnum, kDoubleList };

// A parameter value. Enums are held by their YAML name ("2020+", "hsp");
// std::monostate means "no value" (a required parameter has no default).
using ParamValue = std::variant<std::monostate, int64_t, double, bool,
                                std::string, std::vector<double>>;

// A numeric interval; for kDoubleList it applies to every element. The
// infinite defaults mean "unbounded".
struct ParamRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;

  bool Contains(double value) const;
  // "> 0", ">= 1 and <= 100000", "in [0, 1]", or "" when unbounded.
  std::string Describe() const;
};

struct ParamSpec {
  std::string path;  // Dotted path, e.g. "workload.batch_size".
  ParamType type = ParamType::kDouble;
  ParamValue default_value;  // std::monostate when required.
  // Defaults that depend on `lambda.era`: (era name, value) pairs. When not
  // empty they replace `default_value` for the scenario's era.
  std::vector<std::pair<std::string, ParamValue>> era_defaults;
  std::vector<std::string> enum_names;  // Allowed names, for kEnum only.
  ParamRange range;                     // For kInt, kDouble and kDoubleList.
  // Largest value the C++ field can hold, for kInt (2^31 - 1 for an `int`).
  int64_t int_limit = std::numeric_limits<int64_t>::max();
  std::string doc;     // One line: what the parameter means.
  std::string source;  // CALIBRATION.md row, or "[I] ..." inference.
  // Read and write the field of a Scenario. `set` receives a value of the
  // parameter's type (already checked); enums are mapped by name.
  std::function<ParamValue(const Scenario&)> get;
  std::function<void(Scenario&, const ParamValue&)> set;

  bool required() const {
    return std::holds_alternative<std::monostate>(default_value) &&
           era_defaults.empty();
  }
  // The default for the era named `era` (an era default if any, else
  // `default_value`).
  const ParamValue& DefaultFor(const std::string& era) const;
  // What a valid value looks like, for error messages:
  // "an integer > 0", "a finite number in [0, 1]", "one of \"hsp\", \"bsp\"".
  std::string Expectation() const;
};

// Every parameter, in the order ScenarioToYaml writes them. Built once.
const std::vector<ParamSpec>& ParamTable();

// The entry for `path`, or nullptr when there is none.
const ParamSpec* FindParam(const std::string& path);

// The known path closest to `path` by edit distance (a path sharing the same
// last component wins ties), or "" when none is reasonably close.
std::string ClosestParamPath(const std::string& path);

// Formats a value as YAML text: shortest round-trip decimal for doubles,
// "true"/"false", flow lists "[1, 2]", quoted strings where YAML needs it.
std::string FormatParamValue(const ParamValue& value);

// A human-readable listing of every parameter: path, type, default, range,
// description and source (for `siren scenario --describe`).
std::string DescribeParameters();

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_PARAM_TABLE_H_
