// The table of every field an epoch reports: one row per flattened field of
// EpochResult (nested structs flattened with their prefix, as in
// `fetch_mean_s` or `cost_total_usd`), with its type, unit, a one-line
// description, its column in the Gym step info (if any) and an accessor.
//
// Contract:
//  - EpochFields() lists every field exactly once, in the order of the
//    struct; names are unique, lower_snake_case, and never change without a
//    line in the README's changelog (traces and tables are keyed by them).
//  - `get` reads the field from an EpochResult without side effects and
//    returns the alternative its `type` names: kInt -> int64_t (exact),
//    kFloat -> double, kString -> std::string_view into static storage.
//    A kString field with `labels` only ever takes one of them; numeric
//    layouts (the Gym info row) store it as the label's index.
//  - `unit` is one of: "s", "usd", "gb_s" (GB-seconds), "MB", "count",
//    "updates" (a staleness, in parameter versions), "index" (0-based),
//    "1" (a dimensionless ratio or loss), "" (a label).
//  - `info_name` is the field's column in the Gym step info
//    (env/step_info.h), empty when the info does not carry it.
//
// Consumers: the Python dict of Simulation.run_epoch (bindings), the cost
// keys of bill_epoch, `_core.epoch_fields()` and through it the HDF5 traces
// (one dataset per field with `units` and `description` attributes), the
// runner's epoch records, the Gym info's epoch columns, the `.pyi` stub
// (scripts/gen_epoch_fields_pyi.py) and the tests' expectations.
//
// Adding a field = one member in EpochResult (epoch_result.h) and one row in
// epoch_fields.cc; everything above follows.
#ifndef SIREN_SIM_CORE_EPOCH_FIELDS_H_
#define SIREN_SIM_CORE_EPOCH_FIELDS_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "sim/core/epoch_result.h"

namespace siren::sim {

enum class EpochFieldType { kInt, kFloat, kString };

// A field's value; the alternative matches the field's type.
using EpochFieldValue = std::variant<int64_t, double, std::string_view>;

struct EpochField {
  std::string_view name;  // Flattened name, e.g. "fetch_p95_s".
  EpochFieldType type = EpochFieldType::kFloat;
  std::string_view unit;         // See the contract above.
  std::string_view description;  // One line.
  std::string_view info_name;    // Gym info column; empty when not carried.
  EpochFieldValue (*get)(const EpochResult&) = nullptr;
  // The values a kString field can take, in code order; empty otherwise.
  std::span<const std::string_view> labels;
};

// Every field, in the struct's order.
std::span<const EpochField> EpochFields();

// The row named `name`, or nullptr.
const EpochField* FindEpochField(std::string_view name);

// "int", "float" or "string".
std::string_view EpochFieldTypeName(EpochFieldType type);

// The value as a double: ints and floats as they are, a labelled string as
// its label's index (-1 if it has none of them).
double EpochFieldNumber(const EpochField& field, const EpochResult& result);

// The names of JobStatus values, indexed by the enum ("running",
// "converged", "budget_exhausted", "epoch_limit").
std::span<const std::string_view> JobStatusLabels();

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_EPOCH_FIELDS_H_
