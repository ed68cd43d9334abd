#include "sim/scenario/param_value.h"

#include <stdexcept>

namespace siren::sim {
namespace {

template <typename T>
const T& Typed(const ParamValue& value, const std::string& path,
               const char* type) {
  if (const T* typed = std::get_if<T>(&value)) return *typed;
  throw std::logic_error("scenario parameter " + path + " is not " + type);
}

}  // namespace

const ParamValue& ParamValues::Get(const std::string& path) const {
  const auto it = values_.find(path);
  if (it == values_.end()) {
    throw std::logic_error("scenario parameter " + path +
                           " is not declared by any registered section");
  }
  return it->second;
}

int64_t ParamValues::Int(const std::string& path) const {
  return Typed<int64_t>(Get(path), path, "an integer");
}

double ParamValues::Double(const std::string& path) const {
  return Typed<double>(Get(path), path, "a number");
}

bool ParamValues::Bool(const std::string& path) const {
  return Typed<bool>(Get(path), path, "a bool");
}

const std::string& ParamValues::String(const std::string& path) const {
  return Typed<std::string>(Get(path), path, "a string");
}

const std::vector<double>& ParamValues::DoubleList(
    const std::string& path) const {
  return Typed<std::vector<double>>(Get(path), path, "a list");
}

}  // namespace siren::sim
