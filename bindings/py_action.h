// Conversions of actions shared by the translation units of siren._core.
#ifndef SIREN_BINDINGS_PY_ACTION_H_
#define SIREN_BINDINGS_PY_ACTION_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <sstream>
#include <string>

#include "env/action_codec.h"

namespace siren::bindings {

// "(2, 3)" / "(4,)": the shape of `a` for error messages.
inline std::string ShapeText(const pybind11::array& a) {
  std::ostringstream text;
  text << "(";
  for (pybind11::ssize_t i = 0; i < a.ndim(); ++i) {
    text << (i ? ", " : "") << a.shape(i);
  }
  text << (a.ndim() == 1 ? ",)" : ")");
  return text.str();
}

// A decoded action as a dict: functions, memory_mb, requested_memory_mb,
// memory_clamped.
inline pybind11::dict DecodedToDict(const env::DecodedAction& d) {
  pybind11::dict out;
  out["functions"] = d.functions;
  out["memory_mb"] = d.memory_mb;
  out["requested_memory_mb"] = d.requested_memory_mb;
  out["memory_clamped"] = d.memory_clamped;
  return out;
}

// Two action values as doubles, from any array-like of size 2.
inline std::array<double, 2> ActionPair(
    const pybind11::array_t<double, pybind11::array::forcecast>& a) {
  if (a.size() != 2) {
    throw pybind11::value_error(
        "action: expected 2 values (functions, memory), got "
        "shape " +
        ShapeText(a));
  }
  const double* data = a.data();
  return {data[0], data[1]};
}

// `codec`'s decoding of the action array-like `a` as DecodedToDict's dict.
inline pybind11::dict DecodeToDict(
    const env::ActionCodec& codec,
    const pybind11::array_t<double, pybind11::array::forcecast>& a) {
  const std::array<double, 2> values = ActionPair(a);
  return DecodedToDict(codec.Decode(values.data()));
}

// An action in `codec`'s encoding that decodes to the nearest (n, m).
inline pybind11::array_t<double> EncodeToArray(const env::ActionCodec& codec,
                                               int functions, int memory_mb) {
  const std::array<double, 2> a = codec.Encode(functions, memory_mb);
  pybind11::array_t<double> out(2);
  out.mutable_data()[0] = a[0];
  out.mutable_data()[1] = a[1];
  return out;
}

}  // namespace siren::bindings

#endif  // SIREN_BINDINGS_PY_ACTION_H_
