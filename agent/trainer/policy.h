// The actor-critic networks, the observation normaliser and the TorchScript
// export (torch; included only by the trainer's translation units).
//
// Exported file (policy.pt): a TorchScript module whose forward(obs) takes a
// float32 [B, 12] batch of raw observations (env/observation.h) and returns
// the deterministic action, the Gaussian mean (anchor + residual) clamped to
// [-1, 1], as float32 [B, 2] in the Box encoding (env/action_codec.h). The
// anchor is looked up in the anchor table (anchor_table.h) inside the
// module: buffers anchor_table [rows, columns, 2], anchor_budgets [rows]
// (observation units) and anchor_epochs [1] (job.max_epochs); row = the
// last budget <= obs[:, 10] x (1 + 1e-6) (row 0 below the first), column =
// round(obs[:, 0] x anchor_epochs) clamped to the table. A policy without a
// table (1 x 1) has one cell. The static export zeroes the residual's last
// layer: it returns the anchor. The normaliser is inside (buffers obs_mean,
// obs_var). The extra file "siren.json"
// carries the decoding metadata: the scenario YAML, the action encoding and the
// observation field names, so that a runner decodes actions exactly as the
// simulator does (siren._core.Env.decode). Python torch.jit.load and C++
// torch::jit::load run it.
#ifndef SIREN_AGENT_TRAINER_POLICY_H_
#define SIREN_AGENT_TRAINER_POLICY_H_

#include <torch/torch.h>

#include <string>

namespace siren::agent {

// Running mean and variance of observations (Welford over batches).
struct RunningNormImpl : torch::nn::Module {
  explicit RunningNormImpl(int size);
  void Update(const torch::Tensor& batch);
  torch::Tensor Apply(const torch::Tensor& obs) const;
  torch::Tensor mean, var, count;
  static constexpr double kClip = 10.0;
  static constexpr double kEpsilon = 1e-8;
};
TORCH_MODULE(RunningNorm);

// Gaussian policy whose mean is an anchor action looked up from the raw
// observation (anchor_table.h; the oracle static action, or 0, the box's
// centre, without an anchor) plus a tanh MLP residual of the normalised
// observation, with a state-independent log std, and a separate tanh MLP
// value function. The residual's last layer starts near 0, so the first
// policy acts near the anchor.
struct ActorCriticImpl : torch::nn::Module {
  ActorCriticImpl(int observation_size, int action_size, int hidden,
                  double initial_log_std);
  // Sets the anchor table: `table` [rows, columns, action_size], `budgets`
  // [rows] ascending (observation units), `max_epochs` for the column. The
  // buffer `anchor` becomes cell (0, 0).
  void SetAnchorTable(const torch::Tensor& table, const torch::Tensor& budgets,
                      int max_epochs);
  // The anchor of every row of raw observations `obs` [N, size]: [N, 2].
  torch::Tensor Anchor(const torch::Tensor& obs);
  // Anchor(obs) + the residual of the normalised `x` (the same rows).
  torch::Tensor Mean(const torch::Tensor& x, const torch::Tensor& obs);
  torch::Tensor Value(const torch::Tensor& x);
  torch::nn::Linear pi1{nullptr}, pi2{nullptr}, mu{nullptr};
  torch::nn::Linear v1{nullptr}, v2{nullptr}, v{nullptr};
  torch::Tensor log_std;
  // [action_size], float32: the anchor of a 1 x 1 table (a checkpoint
  // without a table holds only this).
  torch::Tensor anchor;
  // The table (float32, not module buffers: checkpoints store them apart);
  // undefined for a 1 x 1 table, which `anchor` is.
  torch::Tensor anchor_table, anchor_budgets;
  int anchor_epochs = 1;
};
TORCH_MODULE(ActorCritic);

// Writes the TorchScript policy described above to `path`; with
// `static_only` the residual is zero (the policy returns the anchor).
void ExportPolicy(ActorCritic& model, RunningNorm& norm,
                  const std::string& metadata_json, const std::string& path,
                  bool static_only = false);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_POLICY_H_
