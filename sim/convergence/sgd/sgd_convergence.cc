// The `sgd` model's state and hooks (sgd_model.h), and the choice of network.
#include "sim/convergence/sgd/sgd_convergence.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/convergence/sgd/models/lenet.h"
#include "sim/convergence/sgd/models/linear.h"
#include "sim/convergence/sgd/models/matmul.h"
#include "sim/convergence/sgd/models/mlp.h"

namespace siren::sim {
namespace {

// Memory the functions' parameter copies may take, in bytes.
constexpr double kMaxCopyBytes = 8e9;
// Held-out rows evaluated at once by the deep nets (bounds their scratch).
constexpr int64_t kEvalChunk = 256;
// Memory a net's scratch (activations, patches) may take, in bytes.
constexpr double kMaxScratchBytes = 4e9;

}  // namespace

std::string SgdMatMulIsa() { return sgd::MatMulIsaName(sgd::BestMatMulIsa()); }

std::unique_ptr<sgd::Net> MakeSgdNet(const SgdSpec& spec, const SgdData& data) {
  if (spec.model == "linear") {
    return std::make_unique<sgd::LinearNet>(data.features + 1, data.classes);
  }
  if (spec.model == "mlp") {
    sgd::MlpShape shape;
    shape.inputs = data.features;
    shape.hidden.push_back(spec.mlp_hidden1);
    if (spec.mlp_hidden2 > 0) shape.hidden.push_back(spec.mlp_hidden2);
    shape.classes = data.classes;
    return std::make_unique<sgd::MlpNet>(shape);
  }
  if (spec.model == "lenet") {
    if (data.height == 0) {
      throw std::invalid_argument(
          "convergence.sgd.model: got \"lenet\", expected a dataset of images "
          "(attributes height and width, as `siren data digits` or `siren "
          "data mnist` write), but '" +
          spec.dataset + "' has " + std::to_string(data.features) +
          " features and no image shape");
    }
    sgd::LeNetShape shape;
    shape.height = data.height;
    shape.width = data.width;
    shape.conv1_channels = spec.lenet_conv1;
    shape.conv2_channels = spec.lenet_conv2;
    shape.kernel = spec.lenet_kernel;
    shape.padding = spec.lenet_padding;
    shape.dense = spec.lenet_dense;
    shape.classes = data.classes;
    const std::string problem = shape.Problem();
    if (!problem.empty()) {
      throw std::invalid_argument(
          "convergence.sgd.lenet.kernel: got " +
          std::to_string(spec.lenet_kernel) + " with padding " +
          std::to_string(spec.lenet_padding) + ", expected layers that fit " +
          std::to_string(data.height) + " x " + std::to_string(data.width) +
          " images: " + problem);
    }
    return std::make_unique<sgd::LeNetNet>(shape);
  }
  throw std::invalid_argument("convergence.sgd.model: got \"" + spec.model +
                              "\", expected linear, mlp or lenet");
}

SgdConvergence::SgdConvergence(const Scenario& scenario,
                               std::shared_ptr<const SgdData> data)
    : data_(std::move(data)), batch_size_(scenario.workload.batch_size) {
  const SgdSpec spec = SgdSpec::FromScenario(scenario);
  net_ = MakeSgdNet(spec, *data_);
  // The largest block the net sees at once: a batch, or the held-out rows
  // (the linear net evaluates them in one pass, the deep nets in chunks).
  const int64_t eval_block = net_->reads_sparse()
                                 ? data_->eval_rows()
                                 : std::min(kEvalChunk, data_->eval_rows());
  const double scratch = net_->ScratchBytes(std::max(batch_size_, eval_block));
  if (scratch > kMaxScratchBytes) {
    throw std::invalid_argument(
        "workload.batch_size: got " + std::to_string(batch_size_) +
        ", whose activations in the " + spec.model + " net need " +
        std::to_string(scratch / 1e9) + " GB; expected at most " +
        std::to_string(kMaxScratchBytes / 1e9) +
        " GB (a smaller batch or network)");
  }
  schedule_ = spec.lr;
  momentum_ = static_cast<float>(spec.momentum);
  global_.resize(net_->parameter_count());
  net_->Initialize(static_cast<uint64_t>(spec.init_seed), global_.data());
  if (momentum_ > 0) velocity_ = Eigen::VectorXf::Zero(global_.size());
  // The zero linear model predicts uniformly: exactly log(classes).
  initial_loss_ = spec.model == "linear"
                      ? std::log(static_cast<double>(data_->classes))
                      : EvalLoss();
}

SgdConvergence::SgdConvergence(const SgdConvergence& other)
    : data_(other.data_),
      net_(other.net_->Clone()),
      batch_size_(other.batch_size_),
      schedule_(other.schedule_),
      momentum_(other.momentum_),
      learning_rate_(other.learning_rate_),
      epochs_started_(other.epochs_started_),
      initial_loss_(other.initial_loss_),
      global_(other.global_),
      velocity_(other.velocity_),
      local_(other.local_),
      delta_(other.delta_),
      stored_(other.stored_),
      batch_order_(other.batch_order_),
      progress_(other.progress_) {}

void SgdConvergence::StartEpoch(int workers, int64_t batches,
                                uint64_t shuffle_seed) {
  // Each function holds a copy of the parameters and its pending update.
  const double bytes = 2.0 * sizeof(float) * static_cast<double>(workers) *
                       static_cast<double>(global_.size());
  if (bytes > kMaxCopyBytes) {
    throw std::runtime_error(
        "functions: got " + std::to_string(workers) + ", whose copies of the " +
        std::to_string(global_.size()) + " sgd parameters need " +
        std::to_string(bytes / 1e9) + " GB; expected at most " +
        std::to_string(kMaxCopyBytes / 1e9) +
        " GB (fewer functions or a smaller network)");
  }
  learning_rate_ = static_cast<float>(schedule_.At(epochs_started_++));
  local_.assign(workers, Eigen::VectorXf::Zero(global_.size()));
  delta_.assign(workers, Eigen::VectorXf::Zero(global_.size()));
  stored_.assign(workers, {});
  // Fisher-Yates over the epoch's batches.
  batch_order_.resize(batches);
  for (int64_t b = 0; b < batches; ++b) batch_order_[b] = b;
  Rng rng(shuffle_seed, 201);
  for (int64_t b = batches - 1; b > 0; --b) {
    const int64_t j = static_cast<int64_t>(rng.Uniform() * (b + 1));
    std::swap(batch_order_[b], batch_order_[std::min(j, b)]);
  }
}

void SgdConvergence::OnParamsFetched(int worker) { local_[worker] = global_; }

void SgdConvergence::OnBatchComputed(int worker, int64_t batch) {
  const int64_t rows = data_->train_rows();
  const int64_t first = (batch_order_[batch] * batch_size_) % rows;
  // The batch's rows, wrapping around the end of the data: one or more
  // blocks (more only when the batch is larger than the data).
  gradient_.setZero(global_.size());
  sgd::Batch block;
  block.sparse = &data_->train;
  block.dense = &data_->train_dense;
  int64_t begin = first, left = batch_size_;
  while (left > 0) {
    block.begin = begin;
    block.count = std::min(left, rows - begin);
    block.labels = data_->train_labels.data() + begin;
    net_->AddGradient(block, local_[worker].data(), gradient_.data());
    left -= block.count;
    begin = 0;
  }
  // One local step along the mean gradient, on the copy and the pending
  // update in one pass.
  const float scale = learning_rate_ / static_cast<float>(batch_size_);
  float* local = local_[worker].data();
  float* delta = delta_[worker].data();
  const float* gradient = gradient_.data();
  for (Eigen::Index i = 0; i < gradient_.size(); ++i) {
    const float step = scale * gradient[i];
    local[i] -= step;
    delta[i] -= step;
  }
}

void SgdConvergence::ApplyUpdate(const Eigen::VectorXf& update) {
  if (momentum_ == 0) {
    global_ += update;
    return;
  }
  velocity_ = momentum_ * velocity_ + update;
  global_ += velocity_;
}

void SgdConvergence::ApplyPush(int worker) {
  ApplyUpdate(delta_[worker]);
  delta_[worker].setZero();
}

void SgdConvergence::DropLocalWork(int worker) { delta_[worker].setZero(); }

void SgdConvergence::OnUpdateApplied(int worker, int64_t, int) {
  ApplyPush(worker);
  progress_ += 1;
}

void SgdConvergence::OnUpdateOverwrote(int worker, int64_t, int) {
  global_ = local_[worker];
  delta_[worker].setZero();
  progress_ += 1;
}

void SgdConvergence::OnUpdateStored(int worker) {
  stored_[worker].push_back(delta_[worker]);
  delta_[worker].setZero();
}

void SgdConvergence::OnStoredUpdateApplied(int worker, int64_t, int) {
  if (stored_[worker].empty()) {
    throw std::logic_error("sgd model: worker " + std::to_string(worker) +
                           " has no stored update to apply");
  }
  ApplyUpdate(stored_[worker].front());
  stored_[worker].pop_front();
  progress_ += 1;
}

void SgdConvergence::OnRoundClosed(const std::vector<int32_t>& workers,
                                   int64_t) {
  // Every push of the round, computed on the same version, lands now: one
  // update, their sum.
  if (momentum_ == 0) {
    for (int32_t worker : workers) ApplyPush(worker);
  } else {
    gradient_.setZero(global_.size());
    for (int32_t worker : workers) {
      gradient_ += delta_[worker];
      delta_[worker].setZero();
    }
    ApplyUpdate(gradient_);
  }
  progress_ += 1;
}

EpochLoss SgdConvergence::EndEpoch(Rng&) {
  const double loss = EvalLoss();
  return {loss, loss};
}

double SgdConvergence::EvalLoss() const {
  const int64_t rows = data_->eval_rows();
  // The linear net in one pass (as it always has); the deep nets in chunks.
  const int64_t chunk = net_->reads_sparse() ? rows : kEvalChunk;
  sgd::Batch block;
  block.sparse = &data_->eval;
  block.dense = &data_->eval_dense;
  double total = 0;
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    block.begin = begin;
    block.count = std::min(chunk, rows - begin);
    block.labels = data_->eval_labels.data() + begin;
    total += net_->Loss(block, global_.data());
  }
  return total / static_cast<double>(rows);
}

}  // namespace siren::sim
