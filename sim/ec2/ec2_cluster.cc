#include "sim/ec2/ec2_cluster.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/scenario/workload.h"

namespace siren::sim {

const std::vector<Ec2InstanceType>& Ec2InstanceTypes() {
  // m4 family, us-east-1 on demand (CALIBRATION.md: public price tables;
  // m4.2xlarge price [I]). Network: "moderate" ~450 Mbps for m4.large,
  // "high" ~750 Mbps for xlarge, ~1 Gbps for 2xlarge, ~2 Gbps for 4xlarge [I].
  static const std::vector<Ec2InstanceType> kTypes = {
      {"m4.large", 2, 8, 0.10, 56},
      {"m4.xlarge", 4, 16, 0.20, 94},
      {"m4.2xlarge", 8, 32, 0.40, 125},
      {"m4.4xlarge", 16, 64, 0.80, 250},
  };
  return kTypes;
}

const Ec2InstanceType& FindEc2InstanceType(const std::string& name) {
  std::string known;
  for (const Ec2InstanceType& type : Ec2InstanceTypes()) {
    if (type.name == name) return type;
    known += (known.empty() ? "" : ", ") + type.name;
  }
  throw std::invalid_argument("ec2.instance_type: got '" + name +
                              "', expected one of " + known);
}

Ec2JobResult RunEc2Job(const Scenario& scenario) {
  const Ec2Spec& ec2 = scenario.ec2;
  const WorkloadSpec& workload = scenario.workload;
  const Ec2InstanceType& type = FindEc2InstanceType(ec2.instance_type);
  const AnalyticConvergence convergence(AnalyticSpec::FromScenario(scenario));
  const int k = ec2.instances;

  // One synchronous step: every instance computes a batch of b, then a ring
  // all-reduce moves 2 (k-1)/k model sizes per instance.
  const double compute_s = workload.flops_per_sample * workload.batch_size /
                           (type.vcpus * ec2.gflops_per_vcpu * 1e9);
  const double model_mb = ModelBytes(workload) / (1024.0 * 1024.0);
  const double exchange_s =
      k > 1 ? 2.0 * (k - 1) / k * model_mb / type.network_mb_per_s +
                  2.0 * (k - 1) * ec2.network_latency_ms * 1e-3
            : 0.0;
  const int64_t steps_per_epoch =
      (workload.dataset_samples +
       static_cast<int64_t>(k) * workload.batch_size - 1) /
      (static_cast<int64_t>(k) * workload.batch_size);
  const double epoch_s = steps_per_epoch * (compute_s + exchange_s);
  const double step_gain =
      convergence.StepGain(static_cast<double>(k) * workload.batch_size, 1);

  Ec2JobResult result;
  double progress = 0;
  double time_s = ec2.startup_s;
  while (result.epochs < scenario.job.max_epochs) {
    const AnalyticConvergence::LrScale lr =
        convergence.LrScaleAt(result.epochs);
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      progress += convergence.UpdateProgress(progress, 0, step_gain, lr);
    }
    time_s += epoch_s;
    ++result.epochs;
    result.final_loss = convergence.Loss(progress);
    result.epoch_end_time_s.push_back(time_s);
    result.epoch_loss.push_back(result.final_loss);
    if (result.final_loss <= workload.target_loss) {
      result.converged = true;
      break;
    }
  }
  result.time_s = time_s;
  // Per-second billing has a 60 s minimum; per-hour bills started hours.
  const double billed_s = ec2.billing == Ec2Billing::kPerSecond
                              ? std::max(60.0, std::ceil(time_s))
                              : 3600.0 * std::ceil(time_s / 3600.0);
  result.cost_usd = k * type.usd_per_hour * billed_s / 3600.0;
  return result;
}

}  // namespace siren::sim
