#include "env/step_info.h"

#include <iterator>

#include "sim/core/epoch_fields.h"

namespace siren::env {
namespace {

// The env's own columns around the epoch-result ones.
constexpr const char* kActionColumns[] = {
    "functions",      "memory_mb",           "requested_memory_mb",
    "memory_clamped", "requested_functions", "budget_clamped"};
constexpr const char* kEpisodeColumns[] = {"episode_return", "episode_length"};

// The epoch fields the info carries (a non-empty info_name), in table order.
const std::vector<const sim::EpochField*>& InfoFields() {
  static const std::vector<const sim::EpochField*> kInfoFields = [] {
    std::vector<const sim::EpochField*> fields;
    for (const sim::EpochField& field : sim::EpochFields()) {
      if (!field.info_name.empty()) fields.push_back(&field);
    }
    return fields;
  }();
  return kInfoFields;
}

}  // namespace

const std::vector<std::string>& InfoNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names(std::begin(kActionColumns),
                                   std::end(kActionColumns));
    for (const sim::EpochField* field : InfoFields()) {
      names.emplace_back(field->info_name);
    }
    names.insert(names.end(), std::begin(kEpisodeColumns),
                 std::end(kEpisodeColumns));
    return names;
  }();
  return kNames;
}

int InfoSize() { return static_cast<int>(InfoNames().size()); }

void WriteInfoRow(const StepInfo& info, double episode_return,
                  int episode_length, double* row) {
  *row++ = static_cast<double>(info.action.functions);
  *row++ = static_cast<double>(info.action.memory_mb);
  *row++ = static_cast<double>(info.action.requested_memory_mb);
  *row++ = info.action.memory_clamped ? 1.0 : 0.0;
  *row++ = static_cast<double>(info.action.requested_functions);
  *row++ = info.action.budget_clamped ? 1.0 : 0.0;
  for (const sim::EpochField* field : InfoFields()) {
    *row++ = sim::EpochFieldNumber(*field, info.epoch);
  }
  *row++ = episode_return;
  *row = static_cast<double>(episode_length);
}

}  // namespace siren::env
