#include "sim/scenario/workload.h"

#include <algorithm>

namespace siren::sim {

int64_t BatchesPerEpoch(const WorkloadSpec& workload) {
  return (workload.dataset_samples + workload.batch_size - 1) /
         workload.batch_size;
}

double BatchBytes(const WorkloadSpec& workload) {
  return static_cast<double>(workload.batch_size) * workload.sample_bytes;
}

double ModelBytes(const WorkloadSpec& workload) {
  return 4.0 * static_cast<double>(workload.model_params);
}

int64_t ObjectsPerBatch(const WorkloadSpec& workload) {
  const int64_t objects =
      (workload.batch_size + workload.samples_per_object - 1) /
      workload.samples_per_object;
  return std::max<int64_t>(1, objects);
}

}  // namespace siren::sim
