#include "agent/trainer/policy.h"

#include <torch/script.h>

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/trainer/trainer.h"
#include "env/observation.h"

namespace siren::agent {
namespace {

// The observation's budget field (env/observation.h, index 10), which the
// exported forward reads as obs[:, 10:11].
constexpr int kBudgetIndex = 10;

}  // namespace

RunningNormImpl::RunningNormImpl(int size) {
  mean = register_buffer("mean", torch::zeros({size}, torch::kFloat64));
  var = register_buffer("var", torch::ones({size}, torch::kFloat64));
  count = register_buffer("count", torch::zeros({1}, torch::kFloat64));
}

void RunningNormImpl::Update(const torch::Tensor& batch) {
  // Parallel-variance merge of the running moments with the batch's.
  const torch::Tensor x = batch.to(torch::kFloat64);
  const double n = static_cast<double>(x.size(0));
  if (n == 0) return;
  const torch::Tensor batch_mean = x.mean(0);
  const torch::Tensor batch_var = x.var(0, /*unbiased=*/false);
  const double total = count.item<double>() + n;
  const torch::Tensor delta = batch_mean - mean;
  const double old = count.item<double>();
  torch::NoGradGuard no_grad;
  const torch::Tensor new_mean = mean + delta * (n / total);
  const torch::Tensor m2 =
      var * old + batch_var * n + delta.pow(2) * (old * n / total);
  mean.copy_(new_mean);
  var.copy_(m2 / total);
  count.fill_(total);
}

torch::Tensor RunningNormImpl::Apply(const torch::Tensor& obs) const {
  // Float32 arithmetic, exactly as the exported TorchScript does it.
  const torch::Tensor scale =
      torch::sqrt(var.to(torch::kFloat32) + static_cast<float>(kEpsilon));
  return torch::clamp((obs - mean.to(torch::kFloat32)) / scale, -kClip, kClip);
}

ActorCriticImpl::ActorCriticImpl(int observation_size, int action_size,
                                 int hidden, double initial_log_std) {
  pi1 = register_module("pi1", torch::nn::Linear(observation_size, hidden));
  pi2 = register_module("pi2", torch::nn::Linear(hidden, hidden));
  mu = register_module("mu", torch::nn::Linear(hidden, action_size));
  v1 = register_module("v1", torch::nn::Linear(observation_size, hidden));
  v2 = register_module("v2", torch::nn::Linear(hidden, hidden));
  v = register_module("v", torch::nn::Linear(hidden, 1));
  log_std = register_parameter("log_std",
                               torch::full({action_size}, initial_log_std));
  anchor = register_buffer("anchor", torch::zeros({action_size}));
  // Small initial means: the first policy acts near the action box's centre.
  torch::NoGradGuard no_grad;
  mu->weight.mul_(0.01);
  mu->bias.zero_();
}

void ActorCriticImpl::SetAnchorTable(const torch::Tensor& table,
                                     const torch::Tensor& budgets,
                                     int max_epochs) {
  torch::NoGradGuard no_grad;
  anchor.copy_(table[0][0]);
  anchor_epochs = max_epochs;
  if (table.size(0) == 1 && table.size(1) == 1) {
    anchor_table = torch::Tensor();
    anchor_budgets = torch::Tensor();
    return;
  }
  anchor_table = table.to(torch::kFloat32).clone();
  anchor_budgets = budgets.to(torch::kFloat32).clone();
}

torch::Tensor ActorCriticImpl::Anchor(const torch::Tensor& obs) {
  const int64_t n = obs.size(0);
  if (!anchor_table.defined()) {
    return anchor.unsqueeze(0).expand({n, anchor.size(0)});
  }
  // As the exported forward (ExportPolicy) looks it up.
  const torch::Tensor budget =
      obs.select(1, kBudgetIndex).unsqueeze(1) * (1.0 + 1e-6);
  const torch::Tensor row =
      torch::clamp_min((budget >= anchor_budgets.unsqueeze(0)).sum(1) - 1, 0);
  const torch::Tensor column =
      torch::clamp(torch::round(obs.select(1, 0) * anchor_epochs), 0,
                   anchor_table.size(1) - 1)
          .to(torch::kLong);
  return anchor_table.index({row, column});
}

torch::Tensor ActorCriticImpl::Mean(const torch::Tensor& x,
                                    const torch::Tensor& obs) {
  return Anchor(obs) + mu(torch::tanh(pi2(torch::tanh(pi1(x)))));
}

torch::Tensor ActorCriticImpl::Value(const torch::Tensor& x) {
  return v(torch::tanh(v2(torch::tanh(v1(x))))).squeeze(-1);
}

void ExportPolicy(ActorCritic& model, RunningNorm& norm,
                  const std::string& metadata_json, const std::string& path,
                  bool static_only) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module("SirenPolicy");
  auto add = [&module](const std::string& name, const torch::Tensor& t) {
    module.register_buffer(name, t.detach().clone().to(torch::kFloat32));
  };
  add("w1", model->pi1->weight);
  add("b1", model->pi1->bias);
  add("w2", model->pi2->weight);
  add("b2", model->pi2->bias);
  add("w3",
      static_only ? torch::zeros_like(model->mu->weight) : model->mu->weight);
  add("b3", static_only ? torch::zeros_like(model->mu->bias) : model->mu->bias);
  // The anchor table (a 1 x 1 table is the `anchor` buffer).
  const bool table = model->anchor_table.defined();
  add("anchor_table", table
                          ? model->anchor_table
                          : model->anchor.view({1, 1, model->anchor.size(0)}));
  add("anchor_budgets", table ? model->anchor_budgets : torch::zeros({1}));
  add("anchor_epochs",
      torch::full({1}, static_cast<float>(model->anchor_epochs)));
  add("obs_mean", norm->mean);
  add("obs_var", norm->var);
  module.define(R"JIT(
def forward(self, obs):
    x = (obs - self.obs_mean) / torch.sqrt(self.obs_var + 1e-8)
    x = torch.clamp(x, -10.0, 10.0)
    h = torch.tanh(torch.addmm(self.b1, x, self.w1.t()))
    h = torch.tanh(torch.addmm(self.b2, h, self.w2.t()))
    budget = obs[:, 10:11] * (1.0 + 1e-6)
    row = torch.clamp((budget >= self.anchor_budgets.unsqueeze(0)).sum(1) - 1, min=0)
    column = torch.clamp(torch.round(obs[:, 0] * self.anchor_epochs), 0.0, float(self.anchor_table.size(1) - 1)).long()
    anchor = self.anchor_table[row, column]
    return torch.clamp(anchor + torch.addmm(self.b3, h, self.w3.t()), -1.0, 1.0)
)JIT");
  std::unordered_map<std::string, std::string> extra{
      {"siren.json", metadata_json}};
  module.save(path, extra);
}

std::vector<float> RunExportedPolicy(const std::string& path,
                                     const std::vector<float>& observations) {
  constexpr int64_t kObservation = env::kObservationSize;
  if (observations.size() % kObservation != 0) {
    throw std::invalid_argument(
        "observations: got " + std::to_string(observations.size()) +
        " values, expected a multiple of " + std::to_string(kObservation));
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    std::string text = e.what_without_backtrace();
    text = text.substr(0, text.find('\n'));
    throw std::invalid_argument("--policy: '" + path +
                                "' is not an exported TorchScript policy (" +
                                text.substr(0, text.find(". ")) + ")");
  }
  torch::NoGradGuard no_grad;
  const int64_t rows = static_cast<int64_t>(observations.size()) / kObservation;
  const torch::Tensor obs =
      torch::from_blob(const_cast<float*>(observations.data()),
                       {rows, kObservation})
          .clone();
  const torch::Tensor actions =
      module.forward({obs}).toTensor().contiguous().to(torch::kFloat32);
  return std::vector<float>(actions.data_ptr<float>(),
                            actions.data_ptr<float>() + actions.numel());
}

}  // namespace siren::agent
