// The training log as HDF5 (one 1-D dataset per IterationLog field, the
// configuration as attributes), rewritten whole after every iteration so a
// killed run leaves a readable log. torch-free.
#ifndef SIREN_AGENT_TRAINER_TRAIN_LOG_H_
#define SIREN_AGENT_TRAINER_TRAIN_LOG_H_

#include <map>
#include <string>
#include <vector>

#include "agent/trainer/trainer.h"

namespace siren::agent {

void WriteTrainLog(const std::string& path,
                   const std::vector<IterationLog>& log,
                   const std::map<std::string, std::string>& attributes);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_TRAIN_LOG_H_
