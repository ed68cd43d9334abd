// The per-step info as a fixed row of doubles, so that the single env and
// the vector env (one row per env, caller-owned [N, InfoSize()] buffer) share
// one layout. Column names are InfoNames(); the Python layer turns a row into
// a dict and the vector buffer into Gymnasium's dict of arrays.
//
// Layout: the decoded action (functions, memory_mb, requested_memory_mb,
// memory_clamped, requested_functions, budget_clamped: what ran and what was
// asked, SirenEnv's budget clamp included), then every epoch-result field with
// an info column in the field table (sim/core/epoch_fields.h, `info_name`,
// table order), then episode_return and episode_length. A field enters the info
// by giving it an info_name there.
#ifndef SIREN_ENV_STEP_INFO_H_
#define SIREN_ENV_STEP_INFO_H_

#include <string>
#include <vector>

#include "env/siren_env.h"

namespace siren::env {

// Column names, in order. Integral counts are stored as exact doubles;
// "status" is the index of its label (0 running, 1 converged,
// 2 budget_exhausted, 3 epoch_limit; sim::JobStatusLabels()).
const std::vector<std::string>& InfoNames();
int InfoSize();

// Writes `info` and the episode totals into row[InfoSize()].
void WriteInfoRow(const StepInfo& info, double episode_return,
                  int episode_length, double* row);

}  // namespace siren::env

#endif  // SIREN_ENV_STEP_INFO_H_
