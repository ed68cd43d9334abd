// The training log as HDF5 (one 1-D dataset per IterationLog field, each
// with `units` and `description` attributes; the configuration as file
// attributes: strings as UTF-8 strings, numbers as numbers), rewritten whole
// after every iteration so a killed run leaves a readable log. torch-free.
#ifndef SIREN_AGENT_TRAINER_TRAIN_LOG_H_
#define SIREN_AGENT_TRAINER_TRAIN_LOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "agent/trainer/trainer.h"

namespace siren::agent {

// A file attribute of the log: a string, an integer, an unsigned integer
// (the seed) or a floating-point number.
using LogAttribute = std::variant<std::string, int64_t, uint64_t, double>;

// One dataset of the log: its name, unit and one-line description.
struct LogColumn {
  const char* name;
  const char* unit;
  const char* description;
};

// The log's datasets, in file order.
const std::vector<LogColumn>& TrainLogColumns();

void WriteTrainLog(const std::string& path,
                   const std::vector<IterationLog>& log,
                   const std::map<std::string, LogAttribute>& attributes);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_TRAIN_LOG_H_
