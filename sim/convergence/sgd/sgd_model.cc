// The `sgd` model's section of the parameter table, its values and its
// registration. The data is in sgd_data.cc, the model in sgd_convergence.cc.
#include "sim/convergence/sgd/sgd_model.h"

#include <string>
#include <vector>

#include "sim/convergence/sgd/sgd_convergence.h"
#include "sim/scenario/param_builders.h"

namespace siren::sim {
namespace {

// The generated data needs room for its fields; the deep nets need data
// they can read.
void ValidateSgd(const Scenario& s) {
  const SgdSpec sgd = SgdSpec::FromScenario(s);
  // The generated data is held in memory: at most 2e8 non-zeros (about
  // 2.4 GB as CSR).
  const int64_t rows = s.workload.dataset_samples + sgd.eval_samples;
  if (sgd.dataset == "click_through" && rows * (sgd.fields + 1) > 200'000'000) {
    FailParamValue("workload.dataset_samples",
                   std::to_string(s.workload.dataset_samples),
                   "(dataset_samples + convergence.sgd.eval_samples) x "
                   "(convergence.sgd.fields + 1) <= 2e8 non-zeros for the "
                   "generated click-through data, got " +
                       std::to_string(rows * (sgd.fields + 1)));
  }
  if (sgd.dataset == "click_through" && sgd.features < sgd.fields) {
    FailParamValue("convergence.sgd.features", std::to_string(sgd.features),
                   "an integer >= convergence.sgd.fields (" +
                       std::to_string(sgd.fields) + ")");
  }
  if (sgd.model == "lenet" && sgd.dataset == "click_through") {
    FailParamValue("convergence.sgd.model", "\"lenet\"",
                   "a dataset of images for lenet (`siren data digits` or "
                   "`siren data mnist`), not the generated click-through "
                   "data (convergence.sgd.dataset)");
  }
  if (sgd.model == "lenet" && 2 * sgd.lenet_padding > sgd.lenet_kernel - 1) {
    FailParamValue("convergence.sgd.lenet.padding",
                   std::to_string(sgd.lenet_padding),
                   "at most (convergence.sgd.lenet.kernel - 1) / 2 = " +
                       std::to_string((sgd.lenet_kernel - 1) / 2));
  }
}

// Registration: `convergence.model: sgd`.
[[maybe_unused]] const bool kRegistered = RegisterConvergenceModel(
    "sgd", SgdParamSection(), [](const Scenario& scenario) {
      return std::make_unique<SgdConvergence>(scenario, LoadSgdData(scenario));
    });

}  // namespace

ParamSection SgdParamSection() {
  using namespace params;  // NOLINT: the builders read as a table.
  std::vector<ParamSpec> p;
  // The sgd ground-truth model.
  p.push_back(StoredString(
      "convergence.sgd.dataset", std::string("click_through"),
      "\"click_through\" (the seeded generator) or an HDF5 dataset path "
      "(`siren data`).",
      "DESIGN.md 2.6"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.features", 4096,
      Between(1, 1e6,
              "[I] each function holds a copy of the parameters (features + 1) "
              "x classes"),
      "Columns of the generated click-through data (hashed features).",
      "[I] small enough for per-function parameter copies"));
  p.push_back(StoredInt<int>(
      "convergence.sgd.fields", 39,
      Between(1, 10000, "[I] the generated data is held in memory"),
      "Active one-hot fields per generated row.",
      "[I] 13 numeric + 26 categorical fields of public click logs"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.data_seed", 1,
      Between(0, 9007199254740992, "any seed a double holds exactly (2^53)"),
      "Seed of the generated data (fixed across simulation seeds).", "[I]"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.eval_samples", 10000,
      Between(1, 1e7, "[I] held-out rows, held in memory"),
      "Held-out rows (the last rows of the data) for the loss.", "[I]"));
  p.push_back(StoredDouble(
      "convergence.sgd.learning_rate", 0.1,
      PositiveUpTo(1000, "[I] far above any stable rate"),
      "SGD step size on the mean batch gradient (epoch 0's rate under "
      "convergence.sgd.lr_schedule).",
      "[I] stable on the generated click-through data up to ~60 functions"));

  // Learning-rate schedule and momentum (every network).
  p.push_back(StoredEnum(
      "convergence.sgd.lr_schedule", {"constant", "step", "cosine"}, "constant",
      "Learning rate per epoch: constant; step (x lr_step_factor every "
      "lr_step_epochs epochs); cosine (from learning_rate down to "
      "learning_rate x lr_min_factor over lr_cosine_epochs epochs, then "
      "flat).",
      "step decay: He et al., CVPR 2016; cosine: Loshchilov and Hutter, "
      "ICLR 2017 (SGDR without restarts)"));
  p.push_back(
      StoredInt<int64_t>("convergence.sgd.lr_step_epochs", 10,
                         Between(1, 1e6, "[I] longer than any simulated job"),
                         "step schedule: epochs between two decays.",
                         "[I] a few decays over a job of tens of epochs"));
  p.push_back(
      StoredDouble("convergence.sgd.lr_step_factor", 0.1,
                   PositiveUpTo(1, "a decay: the rate never grows"),
                   "step schedule: factor applied to the rate at each decay.",
                   "He et al., CVPR 2016 (divide by 10)"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lr_cosine_epochs", 30,
      Between(1, 1e6, "[I] longer than any simulated job"),
      "cosine schedule: epochs from learning_rate to its floor.",
      "[I] about the length of a small job"));
  p.push_back(StoredDouble(
      "convergence.sgd.lr_min_factor", 0.0,
      Between(0, 1, "a fraction of learning_rate"),
      "cosine schedule: the floor, as a fraction of learning_rate.",
      "Loshchilov and Hutter, ICLR 2017 (eta_min = 0)"));
  p.push_back(StoredDouble(
      "convergence.sgd.momentum", 0.0,
      Between(0, 0.999, "below 1 so that the velocity stays bounded"),
      "Heavy-ball momentum at the parameter store: each applied update d "
      "makes v = momentum x v + d, and v is added (0: plain SGD).",
      "Polyak 1964; 0.9 is the common setting for CNNs (torch.optim.SGD "
      "semantics with one function)"));

  // The network.
  p.push_back(StoredEnum(
      "convergence.sgd.model", {"linear", "mlp", "lenet"}, "linear",
      "Network trained: linear (logistic for 2 classes, softmax for more, "
      "sparse), mlp (ReLU layers, dense rows), lenet (two conv + pool "
      "stages and two dense layers, image datasets).",
      "DESIGN.md 2.6; LeNet: LeCun et al. 1998"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.init_seed", 1,
      Between(0, 9007199254740992, "any seed a double holds exactly (2^53)"),
      "Seed of the mlp and lenet initial weights (He-normal before a ReLU, "
      "Glorot-uniform into the softmax; fixed across simulation seeds).",
      "He et al., ICCV 2015; Glorot and Bengio, AISTATS 2010"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.mlp.hidden1", 128,
      Between(1, 16384, "[I] every function holds a copy of the weights"),
      "mlp: units of the first hidden layer.",
      "[I] a small MLP for 8x8 and 28x28 digits"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.mlp.hidden2", 0,
      Between(0, 16384, "[I] every function holds a copy of the weights"),
      "mlp: units of the second hidden layer (0: one hidden layer).", "[I]"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lenet.conv1_channels", 20,
      Between(1, 512, "[I] every function holds a copy of the weights"),
      "lenet: channels of the first convolution.",
      "MXNet LeNet example, the lenet-mnist preset (431,080 parameters on "
      "28x28)"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lenet.conv2_channels", 50,
      Between(1, 512, "[I] every function holds a copy of the weights"),
      "lenet: channels of the second convolution.",
      "MXNet LeNet example (lenet-mnist preset)"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lenet.kernel", 5,
      Between(1, 15, "[I] larger than any image it fits"),
      "lenet: side of both convolutions' square kernels (stride 1).",
      "MXNet LeNet example (lenet-mnist preset)"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lenet.padding", 0,
      Between(0, 7, "at most (kernel - 1) / 2, checked against kernel"),
      "lenet: zeros added on every side before each convolution (0: "
      "valid; (kernel - 1) / 2: same size, needed on 8x8 images).",
      "MXNet LeNet example (valid convolutions on 28x28)"));
  p.push_back(StoredInt<int64_t>(
      "convergence.sgd.lenet.dense", 500,
      Between(1, 16384, "[I] every function holds a copy of the weights"),
      "lenet: units of the hidden dense layer.",
      "MXNet LeNet example (lenet-mnist preset)"));

  ParamSection section;
  section.order = 210;
  section.params = std::move(p);
  section.validate = &ValidateSgd;
  return section;
}

SgdSpec SgdSpec::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  SgdSpec spec;
  spec.dataset = p.String("convergence.sgd.dataset");
  spec.features = p.Int("convergence.sgd.features");
  spec.fields = static_cast<int>(p.Int("convergence.sgd.fields"));
  spec.data_seed = p.Int("convergence.sgd.data_seed");
  spec.eval_samples = p.Int("convergence.sgd.eval_samples");
  spec.lr = LrSchedule::FromScenario(scenario);
  spec.momentum = p.Double("convergence.sgd.momentum");
  spec.model = p.String("convergence.sgd.model");
  spec.init_seed = p.Int("convergence.sgd.init_seed");
  spec.mlp_hidden1 = p.Int("convergence.sgd.mlp.hidden1");
  spec.mlp_hidden2 = p.Int("convergence.sgd.mlp.hidden2");
  spec.lenet_conv1 = p.Int("convergence.sgd.lenet.conv1_channels");
  spec.lenet_conv2 = p.Int("convergence.sgd.lenet.conv2_channels");
  spec.lenet_kernel = p.Int("convergence.sgd.lenet.kernel");
  spec.lenet_padding = p.Int("convergence.sgd.lenet.padding");
  spec.lenet_dense = p.Int("convergence.sgd.lenet.dense");
  return spec;
}

}  // namespace siren::sim
