// Quantities derived from the workload that the epoch model uses.
#ifndef SIREN_SIM_SCENARIO_WORKLOAD_H_
#define SIREN_SIM_SCENARIO_WORKLOAD_H_

#include <cstdint>

#include "sim/scenario/scenario.h"

namespace siren::sim {

// Mini-batches in one pass over the dataset: ceil(N / b).
int64_t BatchesPerEpoch(const WorkloadSpec& workload);

// Bytes of one mini-batch as fetched from S3.
double BatchBytes(const WorkloadSpec& workload);

// Bytes of the model's parameters (float32), also the size of one update.
double ModelBytes(const WorkloadSpec& workload);

// S3 GET requests to fetch one mini-batch: the objects it spans (>= 1).
int64_t ObjectsPerBatch(const WorkloadSpec& workload);

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_WORKLOAD_H_
