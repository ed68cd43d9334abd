#include "sim/scenario/scenario_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/scenario/param_table.h"
#include "sim/scenario/presets.h"

namespace siren::sim {
namespace {

// A value as read from a file or an override, before type conversion.
struct RawValue {
  YAML::Node node;
  std::string where;  // "line 12 of x.yaml" or "override 'k=v'".
};
using RawValues = std::map<std::string, RawValue>;

[[noreturn]] void Fail(const std::string& field, const std::string& message) {
  throw ScenarioError(field, message);
}

// "<path>: got <value>, expected <expectation>[ (<where>)]".
[[noreturn]] void FailValue(const std::string& path, const std::string& got,
                            const std::string& expected,
                            const std::string& where = "") {
  FailParamValue(path, got, expected, where);
}

// How a YAML node reads in an error message.
std::string DescribeNode(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "an empty value";
  if (node.IsScalar()) {
    return node.Tag() == "!" ? "\"" + node.Scalar() + "\"" : node.Scalar();
  }
  YAML::Emitter emitter;
  emitter << YAML::Flow << node;
  return std::string(node.IsMap() ? "a mapping " : "a list ") + emitter.c_str();
}

// True when some parameter lives under `path` (e.g. "lambda.cold_start").
bool IsSection(const std::string& path) {
  const std::string prefix = path + ".";
  for (const ParamSpec& spec : ParamTable()) {
    if (spec.path.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

// The first parameter under the section `path`.
std::string FirstParamIn(const std::string& path) {
  const std::string prefix = path + ".";
  for (const ParamSpec& spec : ParamTable()) {
    if (spec.path.compare(0, prefix.size(), prefix) == 0) return spec.path;
  }
  return path;
}

[[noreturn]] void FailUnknownKey(const std::string& path,
                                 const std::string& got,
                                 const std::string& where) {
  const std::string closest = ClosestParamPath(path);
  Fail(path, path + ": unknown key (got " + got + ", " + where +
                 "), expected a known parameter" +
                 (closest.empty() ? "" : "; did you mean " + closest + "?") +
                 " (`siren scenario --describe` lists them)");
}

// Adds the leaves of the mapping `map` under `prefix` to `out`, rejecting
// unknown and duplicate keys.
void Flatten(const YAML::Node& map, const std::string& prefix,
             const std::string& origin, RawValues& out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string where =
        "line " + std::to_string(it->first.Mark().line + 1) + " of " + origin;
    if (!it->first.IsScalar()) {
      Fail(prefix, origin + ": got key " + DescribeNode(it->first) + " (" +
                       where + "), expected a plain key name");
    }
    const std::string path =
        prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
    if (out.count(path) != 0) {
      Fail(path, path + ": duplicate key (got it again at " + where +
                     ", first at " + out.at(path).where +
                     "), expected each key once");
    }
    if (FindParam(path) != nullptr) {
      out[path] = {it->second, where};
    } else if (IsSection(path)) {
      if (it->second.IsNull()) continue;
      if (!it->second.IsMap()) {
        FailValue(path, DescribeNode(it->second),
                  "a mapping of " + path + ".* keys", where);
      }
      out[path] = {YAML::Node(YAML::NodeType::Map), where};  // Marks a section.
      Flatten(it->second, path, origin, out);
    } else {
      FailUnknownKey(path, DescribeNode(it->second), where);
    }
  }
}

YAML::Node ParseYaml(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Fail("", origin + ":" + std::to_string(e.mark.line + 1) + ":" +
                 std::to_string(e.mark.column + 1) +
                 ": malformed YAML at line " + std::to_string(e.mark.line + 1) +
                 ": " + e.msg);
  }
}

// Reads the file or preset text into flattened raw values.
RawValues ReadDocument(const std::string& text, const std::string& origin) {
  const YAML::Node root = ParseYaml(text, origin);
  RawValues out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) {
    Fail("", origin + ": got " + DescribeNode(root) +
                 ", expected a mapping of scenario keys at the top level");
  }
  Flatten(root, "", origin, out);
  // Drop the section markers used for duplicate detection.
  for (auto it = out.begin(); it != out.end();) {
    it = FindParam(it->first) == nullptr ? out.erase(it) : std::next(it);
  }
  return out;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Applies one "key=value" override; the value is parsed as a YAML node.
void ApplyOverride(const std::string& override_text, RawValues& values) {
  const size_t equals = override_text.find('=');
  const std::string where = "override '" + override_text + "'";
  if (equals == std::string::npos) {
    Fail("", "override '" + override_text +
                 "': got no '=', expected key=value, e.g. "
                 "workload.batch_size=256");
  }
  const std::string path = Trim(override_text.substr(0, equals));
  const std::string value_text = override_text.substr(equals + 1);
  if (path.empty()) {
    Fail("", "override '" + override_text +
                 "': got an empty key, expected key=value, e.g. "
                 "workload.batch_size=256");
  }
  YAML::Node node;
  try {
    node = YAML::Load(value_text);
  } catch (const YAML::Exception& e) {
    FailValue(path, "'" + value_text + "'",
              "a YAML scalar or flow list (" + e.msg + ")", where);
  }
  if (FindParam(path) == nullptr) {
    if (IsSection(path)) {
      FailValue(
          path, DescribeNode(node) + " for a whole section",
          "one parameter per override, e.g. " + FirstParamIn(path) + "=...",
          where);
    }
    FailUnknownKey(path, DescribeNode(node), where);
  }
  values[path] = {node, where};
}

// Parses a plain YAML scalar as a double; YAML's .nan/.inf spellings too.
bool ParseDouble(const std::string& text, double& value) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == ".nan") {
    value = std::nan("");
    return true;
  }
  if (lower == ".inf" || lower == "+.inf" || lower == "-.inf") {
    value = lower[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) {
    return false;
  }
  // std::from_chars is locale-independent, unlike strtod.
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(begin, end, value);
  return error == std::errc() && stop == end && begin != end &&
         (begin == text.data() || *begin != '-');
}

// Range and membership checks shared by the loader and ValidateScenario;
// `got` is how the value reads in the message.
void CheckValue(const ParamSpec& spec, const ParamValue& value,
                const std::string& got, const std::string& where) {
  const std::string expected = spec.Expectation();
  switch (spec.type) {
    case ParamType::kInt: {
      const int64_t v = std::get<int64_t>(value);
      if (!spec.range.Contains(static_cast<double>(v))) {
        FailValue(spec.path, got, expected, where);
      }
      if (v > spec.int_limit) {
        FailValue(spec.path, got,
                  expected + " and <= " + std::to_string(spec.int_limit),
                  where);
      }
      break;
    }
    case ParamType::kDouble: {
      const double v = std::get<double>(value);
      if (!std::isfinite(v) || !spec.range.Contains(v)) {
        FailValue(spec.path, got, expected, where);
      }
      break;
    }
    case ParamType::kEnum: {
      const auto& v = std::get<std::string>(value);
      if (std::find(spec.enum_names.begin(), spec.enum_names.end(), v) ==
          spec.enum_names.end()) {
        FailValue(spec.path, got, expected, where);
      }
      break;
    }
    case ParamType::kDoubleList: {
      const auto& list = std::get<std::vector<double>>(value);
      if (list.empty() && !spec.allow_empty) {
        FailValue(spec.path, got, expected, where);
      }
      for (double v : list) {
        if (!std::isfinite(v) || !spec.range.Contains(v)) {
          FailValue(spec.path, got, expected, where);
        }
      }
      break;
    }
    case ParamType::kBool:
    case ParamType::kString:
      break;
  }
}

// Converts a raw node to the parameter's type and checks it.
ParamValue Convert(const ParamSpec& spec, const RawValue& raw) {
  const YAML::Node& node = raw.node;
  const std::string got = DescribeNode(node);
  const std::string expected = spec.Expectation();
  const auto fail = [&]() { FailValue(spec.path, got, expected, raw.where); };
  if (!node.IsDefined() || node.IsNull()) fail();
  if (spec.type == ParamType::kDoubleList) {
    if (!node.IsSequence()) fail();
    std::vector<double> list;
    for (const YAML::Node& element : node) {
      double v = 0;
      if (!element.IsScalar() || element.Tag() == "!" ||
          !ParseDouble(element.Scalar(), v)) {
        fail();
      }
      list.push_back(v);
    }
    CheckValue(spec, list, got, raw.where);
    return list;
  }
  if (!node.IsScalar()) fail();
  const std::string& text = node.Scalar();
  const bool quoted = node.Tag() == "!";
  ParamValue value;
  switch (spec.type) {
    case ParamType::kInt: {
      int64_t v = 0;
      const auto [end, error] =
          std::from_chars(text.data(), text.data() + text.size(), v);
      if (quoted || text.empty()) fail();
      if (error != std::errc() || end != text.data() + text.size()) {
        // Accept integral decimals such as 1e6; reject 1.5.
        double d = 0;
        if (!ParseDouble(text, d) || !std::isfinite(d) || d != std::floor(d) ||
            std::fabs(d) > 9.0e18) {
          fail();
        }
        v = static_cast<int64_t>(d);
      }
      value = v;
      break;
    }
    case ParamType::kDouble: {
      double v = 0;
      if (quoted || !ParseDouble(text, v)) fail();
      value = v;
      break;
    }
    case ParamType::kBool: {
      if (quoted) fail();
      if (text == "true" || text == "True" || text == "TRUE") {
        value = true;
      } else if (text == "false" || text == "False" || text == "FALSE") {
        value = false;
      } else {
        fail();
      }
      break;
    }
    case ParamType::kString:
    case ParamType::kEnum:
      value = text;
      break;
    case ParamType::kDoubleList:
      break;
  }
  CheckValue(spec, value, got, raw.where);
  return value;
}

// Builds a scenario from raw values over the table and variant defaults, then
// validates it.
Scenario Build(const RawValues& values, const std::string& origin,
               const std::string& default_name) {
  // A variant selector (e.g. lambda.era) decides the defaults that depend
  // on it, so the selectors are resolved first.
  std::map<std::string, std::string> variants;
  for (const ParamSpec& spec : ParamTable()) {
    if (spec.variant_param.empty() || variants.count(spec.variant_param)) {
      continue;
    }
    const ParamSpec* selector = FindParam(spec.variant_param);
    std::string variant = std::get<std::string>(selector->default_value);
    if (auto it = values.find(selector->path); it != values.end()) {
      variant = std::get<std::string>(Convert(*selector, it->second));
    }
    variants[spec.variant_param] = variant;
  }
  // Values given in the file or overrides first, so that a bad value is
  // reported before a missing one.
  std::map<std::string, ParamValue> given;
  for (const ParamSpec& spec : ParamTable()) {
    if (auto it = values.find(spec.path); it != values.end()) {
      given[spec.path] = Convert(spec, it->second);
    }
  }
  Scenario scenario;
  for (const ParamSpec& spec : ParamTable()) {
    ParamValue value;
    if (auto it = given.find(spec.path); it != given.end()) {
      value = it->second;
    } else if (spec.path == "name") {
      value = default_name;
    } else {
      value = spec.variant_param.empty()
                  ? spec.default_value
                  : spec.DefaultFor(variants.at(spec.variant_param));
    }
    if (std::holds_alternative<std::monostate>(value)) {
      Fail(spec.path, spec.path + ": got nothing (missing required key in " +
                          origin + "), expected " + spec.Expectation());
    }
    spec.set(scenario, value);
  }
  ValidateScenario(scenario);
  return scenario;
}

Scenario ParseWithName(const std::string& yaml_text,
                       const std::vector<std::string>& overrides,
                       const std::string& origin,
                       const std::string& default_name) {
  RawValues values = ReadDocument(yaml_text, origin);
  for (const std::string& override_text : overrides) {
    ApplyOverride(override_text, values);
  }
  return Build(values, origin, default_name);
}

bool LooksLikePath(const std::string& name) {
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
               0;
  };
  return name.find('/') != std::string::npos || ends_with(".yaml") ||
         ends_with(".yml");
}

std::string JoinPresetNames() {
  std::string text;
  for (const std::string& name : PresetNames()) {
    text += (text.empty() ? "" : ", ") + name;
  }
  return text;
}

// Cross-field consistency (ranges of single fields are checked before): each
// active section's own checks, in table order.
void CheckConsistency(const Scenario& s) {
  for (const ParamSection* section : ParamSections()) {
    if (section->validate && section->Active(s)) section->validate(s);
  }
}

// The table's entries grouped for writing as nested YAML: entries keep their
// table order, except that every entry joins the first run of entries that
// shares its top-level (and then second-level) key, so that no mapping is
// opened twice.
std::vector<const ParamSpec*> GroupedForYaml() {
  std::vector<const ParamSpec*> specs;
  for (const ParamSpec& spec : ParamTable()) specs.push_back(&spec);
  // The first `parts` components of a path (the whole path if shorter).
  const auto prefix = [](const std::string& path, int parts) {
    size_t end = std::string::npos, from = 0;
    for (int i = 0; i < parts; ++i) {
      end = path.find('.', from);
      if (end == std::string::npos) return path;
      from = end + 1;
    }
    return path.substr(0, end);
  };
  for (int parts : {2, 1}) {
    std::map<std::string, size_t> first_seen;
    for (size_t i = 0; i < specs.size(); ++i) {
      first_seen.emplace(prefix(specs[i]->path, parts), i);
    }
    std::stable_sort(specs.begin(), specs.end(),
                     [&](const ParamSpec* a, const ParamSpec* b) {
                       return first_seen.at(prefix(a->path, parts)) <
                              first_seen.at(prefix(b->path, parts));
                     });
  }
  return specs;
}

}  // namespace

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : EmbeddedPresets()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string DefaultPresetName() { return "lenet-mnist"; }

Scenario LoadScenario(const std::string& name_or_path,
                      const std::vector<std::string>& overrides) {
  if (LooksLikePath(name_or_path)) {
    std::ifstream file(name_or_path);
    if (!file) {
      Fail("", "scenario file '" + name_or_path + "' not found");
    }
    std::stringstream text;
    text << file.rdbuf();
    return ParseWithName(text.str(), overrides, name_or_path,
                         std::filesystem::path(name_or_path).stem().string());
  }
  const std::string name =
      name_or_path == "default" ? DefaultPresetName() : name_or_path;
  for (const auto& [preset, text] : EmbeddedPresets()) {
    if (preset == name) {
      return ParseWithName(text, overrides, "preset " + preset + ".yaml",
                           preset);
    }
  }
  Fail("", "unknown scenario preset '" + name_or_path +
               "', expected one of: default, " + JoinPresetNames() +
               ", or a path to a .yaml file");
}

Scenario ParseScenario(const std::string& yaml_text,
                       const std::vector<std::string>& overrides,
                       const std::string& origin) {
  return ParseWithName(yaml_text, overrides, origin, "custom");
}

std::string ScenarioToYaml(const Scenario& scenario) {
  std::ostringstream out;
  out << "# Siren scenario, every parameter (written by ScenarioToYaml).\n";
  std::vector<std::string> open_sections;
  for (const ParamSpec* entry : GroupedForYaml()) {
    const ParamSpec& spec = *entry;
    // Split the path into sections and the leaf key.
    std::vector<std::string> parts;
    std::stringstream path(spec.path);
    for (std::string part; std::getline(path, part, '.');) {
      parts.push_back(part);
    }
    const std::string leaf = parts.back();
    parts.pop_back();
    // Open the sections this key needs beyond those already open.
    size_t common = 0;
    while (common < parts.size() && common < open_sections.size() &&
           parts[common] == open_sections[common]) {
      ++common;
    }
    for (size_t depth = common; depth < parts.size(); ++depth) {
      out << std::string(2 * depth, ' ') << parts[depth] << ":\n";
    }
    open_sections = parts;
    out << std::string(2 * parts.size(), ' ') << leaf << ": "
        << FormatParamValue(spec.get(scenario)) << "\n";
  }
  return out.str();
}

void ValidateScenario(const Scenario& scenario) {
  for (const ParamSpec& spec : ParamTable()) {
    const ParamValue value = spec.get(scenario);
    CheckValue(spec, value, FormatParamValue(value), "");
  }
  CheckConsistency(scenario);
}

}  // namespace siren::sim
