// One scenario parameter as the parameter table declares it: dotted path,
// type, default, allowed range, a one-line description and the source of the
// default (a row of shared CALIBRATION.md, or "[I]" for an inference of ours).
//
// Parameters come in sections (param_table.h). The core sections (workload,
// S3, job, execution, EC2) bind each parameter to a typed field of Scenario;
// a plug-in's section (a platform, a convergence model, the env layer) keeps
// its values in Scenario::params by path and reads them into its own typed
// struct when it is built (param_builders.h has both kinds of builders).
#ifndef SIREN_SIM_SCENARIO_PARAM_SPEC_H_
#define SIREN_SIM_SCENARIO_PARAM_SPEC_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/param_value.h"

namespace siren::sim {

struct Scenario;

enum class ParamType { kInt, kDouble, kBool, kString, kEnum, kDoubleList };

// A numeric interval; for kDoubleList it applies to every element. The
// infinite defaults mean "unbounded".
struct ParamRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;
  // Why the bounds are where they are (physical limit, source, or the
  // simulator's own limit); shown by `siren scenario --describe`.
  std::string reason;

  bool Contains(double value) const;
  // "> 0", ">= 1 and <= 100000", "in [0, 1]", or "" when unbounded.
  std::string Describe() const;
};

struct ParamSpec {
  std::string path;  // Dotted path, e.g. "workload.batch_size".
  ParamType type = ParamType::kDouble;
  ParamValue default_value;  // std::monostate when required.
  // Defaults that depend on the value of another (enum) parameter, the
  // variant selector `variant_param` (e.g. a platform's generation,
  // "lambda.era"): (selector value, default) pairs. When not empty they
  // replace `default_value` for the scenario's selector value.
  std::string variant_param;
  std::vector<std::pair<std::string, ParamValue>> variant_defaults;
  std::vector<std::string> enum_names;  // Allowed names, for kEnum only.
  ParamRange range;                     // For kInt, kDouble and kDoubleList.
  // For kDoubleList: whether [] is a valid value (e.g. "no range").
  bool allow_empty = false;
  // Largest value the C++ field can hold, for kInt (2^31 - 1 for an `int`).
  int64_t int_limit = std::numeric_limits<int64_t>::max();
  std::string doc;     // One line: what the parameter means.
  std::string source;  // CALIBRATION.md row, or "[I] ..." inference.
  // Read and write the value in a Scenario. `set` receives a value of the
  // parameter's type (already checked); enums are mapped by name.
  std::function<ParamValue(const Scenario&)> get;
  std::function<void(Scenario&, const ParamValue&)> set;

  bool required() const {
    return std::holds_alternative<std::monostate>(default_value) &&
           variant_defaults.empty();
  }
  // The default when the variant selector has the value `variant` (a variant
  // default if any, else `default_value`).
  const ParamValue& DefaultFor(const std::string& variant) const;
  // What a valid value looks like, for error messages:
  // "an integer > 0", "a finite number in [0, 1]", "one of \"hsp\", \"bsp\"".
  std::string Expectation() const;
};

// Thrown for any invalid scenario input. `field()` is the dotted path (empty
// when the error is not about one field, e.g. an unknown preset name).
class ScenarioError : public std::invalid_argument {
 public:
  ScenarioError(std::string field, const std::string& message);
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Throws ScenarioError "<path>: got <got>, expected <expected>[ (<where>)]".
[[noreturn]] void FailParamValue(const std::string& path,
                                 const std::string& got,
                                 const std::string& expected,
                                 const std::string& where = "");

// Formats a value as YAML text: shortest round-trip decimal for doubles,
// "true"/"false", flow lists "[1, 2]", quoted strings where YAML needs it.
std::string FormatParamValue(const ParamValue& value);

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_PARAM_SPEC_H_
