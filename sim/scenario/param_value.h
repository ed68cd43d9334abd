// A scenario parameter's value, and the store of the values that plug-in
// sections declare (Scenario::params).
#ifndef SIREN_SIM_SCENARIO_PARAM_VALUE_H_
#define SIREN_SIM_SCENARIO_PARAM_VALUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace siren::sim {

// A parameter value. Enums are held by their YAML name ("2020+", "hsp");
// std::monostate means "no value" (a required parameter has no default).
using ParamValue = std::variant<std::monostate, int64_t, double, bool,
                                std::string, std::vector<double>>;

// Values by dotted path. The loader fills it with every parameter of every
// registered plug-in section, so a lookup of a declared path never misses;
// a miss (a path no section declares) is a programming error and throws
// std::logic_error naming the path. Enums read as strings.
class ParamValues {
 public:
  int64_t Int(const std::string& path) const;
  double Double(const std::string& path) const;
  bool Bool(const std::string& path) const;
  const std::string& String(const std::string& path) const;
  const std::vector<double>& DoubleList(const std::string& path) const;
  const ParamValue& Get(const std::string& path) const;
  bool Has(const std::string& path) const { return values_.count(path) != 0; }
  // Sets a value without checking it; use the loader (or ValidateScenario
  // afterwards) for checked values.
  void Set(const std::string& path, ParamValue value) {
    values_[path] = std::move(value);
  }
  bool operator==(const ParamValues& other) const = default;

 private:
  std::map<std::string, ParamValue> values_;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_PARAM_VALUE_H_
