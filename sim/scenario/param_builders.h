// Builders for parameter-table entries (param_spec.h).
//
// Field-bound builders (Int, Double, Bool, String, DoubleList, Enum) take a
// generic lambda returning a reference to a typed field of Scenario; the core
// sections use them. Stored builders (StoredInt, StoredDouble, ...) keep the
// value in Scenario::params under its path; plug-in sections use them, so
// that a new model declares its parameters without editing Scenario. A
// plug-in reads its values once, when it is built, through
// scenario.params.Double("my_model.alpha") and friends.
#ifndef SIREN_SIM_SCENARIO_PARAM_BUILDERS_H_
#define SIREN_SIM_SCENARIO_PARAM_BUILDERS_H_

#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/scenario/param_spec.h"
#include "sim/scenario/scenario.h"

namespace siren::sim::params {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::nullopt_t kRequired = std::nullopt;

inline ParamRange Unbounded() { return {}; }
inline ParamRange Positive() { return {0, kInf, true, false, ""}; }
inline ParamRange NonNegative() { return {0, kInf, false, false, ""}; }
inline ParamRange AtLeast(double min) { return {min, kInf, false, false, ""}; }
inline ParamRange Closed(double min, double max) {
  return {min, max, false, false, ""};
}
inline ParamRange PositiveAtMost(double max) {
  return {0, max, true, false, ""};
}

// Bounded ranges with the reason for their bounds (every numeric parameter
// has one: simulated time, memory and money stay finite by construction).
inline ParamRange Between(double min, double max, std::string reason) {
  return {min, max, false, false, std::move(reason)};
}
inline ParamRange PositiveUpTo(double max, std::string reason) {
  return {0, max, true, false, std::move(reason)};
}

namespace internal {

inline ParamSpec Base(std::string path, ParamType type, std::string doc,
                      std::string source) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = type;
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  return spec;
}

// get/set through Scenario::params.
inline void BindStored(ParamSpec& spec) {
  const std::string path = spec.path;
  spec.get = [path](const Scenario& s) { return s.params.Get(path); };
  spec.set = [path](Scenario& s, const ParamValue& v) {
    s.params.Set(path, v);
  };
}

}  // namespace internal

// ---- Field-bound builders (core sections) --------------------------------

template <typename Ref>
ParamSpec Int(std::string path, std::optional<int64_t> def, ParamRange range,
              std::string doc, std::string source, Ref ref) {
  using Field =
      std::remove_reference_t<decltype(ref(std::declval<Scenario&>()))>;
  static_assert(std::is_integral_v<Field>);
  ParamSpec spec = internal::Base(std::move(path), ParamType::kInt,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  spec.range = range;
  spec.int_limit = std::numeric_limits<Field>::max();
  spec.get = [ref](const Scenario& s) {
    return ParamValue(static_cast<int64_t>(ref(s)));
  };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = static_cast<Field>(std::get<int64_t>(v));
  };
  return spec;
}

template <typename Ref>
ParamSpec Double(std::string path, std::optional<double> def, ParamRange range,
                 std::string doc, std::string source, Ref ref) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kDouble,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  spec.range = range;
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<double>(v);
  };
  return spec;
}

template <typename Ref>
ParamSpec Bool(std::string path, bool def, std::string doc, std::string source,
               Ref ref) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kBool,
                                  std::move(doc), std::move(source));
  spec.default_value = def;
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<bool>(v);
  };
  return spec;
}

template <typename Ref>
ParamSpec String(std::string path, std::optional<std::string> def,
                 std::string doc, std::string source, Ref ref) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kString,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<std::string>(v);
  };
  return spec;
}

// An enum field (a C++ enum class, or a std::string restricted to `names`).
// Reading an enum value outside `names` yields "<invalid N>", which then
// fails validation. An empty `names` list with a std::string field is filled
// by the table from the registered implementations of a selector
// (param_table.h, ParamSection::implements).
template <typename E, typename Ref>
ParamSpec Enum(std::string path, std::vector<std::pair<std::string, E>> names,
               std::string def, std::string doc, std::string source, Ref ref) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kEnum,
                                  std::move(doc), std::move(source));
  spec.default_value = std::move(def);
  for (const auto& [name, value] : names) spec.enum_names.push_back(name);
  spec.get = [ref, names](const Scenario& s) {
    if constexpr (std::is_same_v<E, std::string>) {
      return ParamValue(ref(s));
    } else {
      for (const auto& [name, value] : names) {
        if (value == ref(s)) return ParamValue(name);
      }
      return ParamValue("<invalid " + std::to_string(static_cast<int>(ref(s))) +
                        ">");
    }
  };
  spec.set = [ref, names](Scenario& s, const ParamValue& v) {
    const auto& wanted = std::get<std::string>(v);
    if constexpr (std::is_same_v<E, std::string>) {
      ref(s) = wanted;
    } else {
      for (const auto& [name, value] : names) {
        if (name == wanted) ref(s) = value;
      }
    }
  };
  return spec;
}

// ---- Stored builders (plug-in sections) ----------------------------------

// `Field` is the C++ type the plug-in reads the value into; it bounds the
// accepted range (2^31 - 1 for an `int`).
template <typename Field = int64_t>
ParamSpec StoredInt(std::string path, std::optional<int64_t> def,
                    ParamRange range, std::string doc, std::string source) {
  static_assert(std::is_integral_v<Field>);
  ParamSpec spec = internal::Base(std::move(path), ParamType::kInt,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  spec.range = range;
  spec.int_limit = std::numeric_limits<Field>::max();
  internal::BindStored(spec);
  return spec;
}

inline ParamSpec StoredDouble(std::string path, std::optional<double> def,
                              ParamRange range, std::string doc,
                              std::string source) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kDouble,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  spec.range = range;
  internal::BindStored(spec);
  return spec;
}

inline ParamSpec StoredBool(std::string path, bool def, std::string doc,
                            std::string source) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kBool,
                                  std::move(doc), std::move(source));
  spec.default_value = def;
  internal::BindStored(spec);
  return spec;
}

inline ParamSpec StoredString(std::string path, std::optional<std::string> def,
                              std::string doc, std::string source) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kString,
                                  std::move(doc), std::move(source));
  if (def) spec.default_value = *def;
  internal::BindStored(spec);
  return spec;
}

inline ParamSpec StoredEnum(std::string path, std::vector<std::string> names,
                            std::string def, std::string doc,
                            std::string source) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kEnum,
                                  std::move(doc), std::move(source));
  spec.default_value = std::move(def);
  spec.enum_names = std::move(names);
  internal::BindStored(spec);
  return spec;
}

inline ParamSpec StoredDoubleList(std::string path, std::vector<double> def,
                                  ParamRange range, std::string doc,
                                  std::string source) {
  ParamSpec spec = internal::Base(std::move(path), ParamType::kDoubleList,
                                  std::move(doc), std::move(source));
  spec.default_value = std::move(def);
  spec.range = range;
  internal::BindStored(spec);
  return spec;
}

// Marks `spec` as depending on the selector `variant_param`: its default is
// the value paired with the selector's value (the last pair is also the
// plain default, used when no pair matches).
inline ParamSpec Variants(
    ParamSpec spec, std::string variant_param,
    std::vector<std::pair<std::string, ParamValue>> defaults) {
  spec.variant_param = std::move(variant_param);
  spec.default_value = defaults.back().second;
  spec.variant_defaults = std::move(defaults);
  return spec;
}

}  // namespace siren::sim::params

#endif  // SIREN_SIM_SCENARIO_PARAM_BUILDERS_H_
