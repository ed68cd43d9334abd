// The EC2 cluster baseline (DESIGN.md §2.7): k instances of one type running
// synchronous data-parallel SGD on a dataset already on local disk, billed per
// second (60 s minimum) or per started hour. Closed-form per epoch: each step
// every instance computes its share of a global batch of k * b samples, then
// the instances exchange the model (parameter-server round trip).
#ifndef SIREN_SIM_EC2_EC2_CLUSTER_H_
#define SIREN_SIM_EC2_EC2_CLUSTER_H_

#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace siren::sim {

struct Ec2InstanceType {
  std::string name;
  int vcpus = 0;
  double memory_gb = 0;
  double usd_per_hour = 0;
  double network_mb_per_s = 0;
};

// The built-in instance table (m4 family, us-east-1 on demand).
const std::vector<Ec2InstanceType>& Ec2InstanceTypes();

// Looks up `name`; throws std::invalid_argument naming the value and the
// known types when it is not in the table.
const Ec2InstanceType& FindEc2InstanceType(const std::string& name);

struct Ec2JobResult {
  int epochs = 0;
  double time_s = 0;    // Startup + all epochs.
  double cost_usd = 0;  // Billed instance time x price x k.
  double final_loss = 0;
  bool converged = false;  // Target loss reached within the epoch limit.
  std::vector<double> epoch_end_time_s;  // Cumulative, per epoch.
  std::vector<double> epoch_loss;        // Loss after each epoch.
};

// Runs the job on the cluster the scenario's `ec2` section describes, with
// the same convergence model, until the target loss or `job.max_epochs`
// (the Lambda budget is not applied: the baseline reports its cost).
Ec2JobResult RunEc2Job(const Scenario& scenario);

}  // namespace siren::sim

#endif  // SIREN_SIM_EC2_EC2_CLUSTER_H_
