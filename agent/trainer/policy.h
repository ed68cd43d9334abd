// The actor-critic networks, the observation normaliser and the TorchScript
// export (torch; included only by the trainer's translation units).
//
// Exported file (policy.pt): a TorchScript module whose forward(obs) takes a
// float32 [B, 10] batch of raw observations (env/observation.h) and returns
// the deterministic action, the Gaussian mean (anchor + residual) clamped to
// [-1, 1], as float32 [B, 2] in the Box encoding (env/action_codec.h). The
// static export zeroes the residual's last layer: it returns the anchor. The
// normaliser is inside (buffers obs_mean, obs_var). The extra file "siren.json"
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

// Gaussian policy whose mean is a fixed anchor action (buffer `anchor`, the
// oracle static action; 0, the box's centre, without one) plus a tanh MLP
// residual, with a state-independent log std, and a separate tanh MLP value
// function, both over normalised observations. The residual's last layer
// starts near 0, so the first policy acts near the anchor.
struct ActorCriticImpl : torch::nn::Module {
  ActorCriticImpl(int observation_size, int action_size, int hidden,
                  double initial_log_std);
  torch::Tensor Mean(const torch::Tensor& x);
  torch::Tensor Value(const torch::Tensor& x);
  torch::nn::Linear pi1{nullptr}, pi2{nullptr}, mu{nullptr};
  torch::nn::Linear v1{nullptr}, v2{nullptr}, v{nullptr};
  torch::Tensor log_std;
  torch::Tensor anchor;  // [action_size], float32.
};
TORCH_MODULE(ActorCritic);

// Writes the TorchScript policy described above to `path`; with
// `static_only` the residual is zero (the policy returns the anchor).
void ExportPolicy(ActorCritic& model, RunningNorm& norm,
                  const std::string& metadata_json, const std::string& path,
                  bool static_only = false);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_POLICY_H_
