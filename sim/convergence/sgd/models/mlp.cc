#include "sim/convergence/sgd/models/mlp.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/convergence/sgd/models/init.h"

namespace siren::sim::sgd {
namespace {

RowMap View(RowMatrix& m) { return RowMap(m.data(), m.rows(), m.cols()); }
ConstRowMap ConstView(const RowMatrix& m) {
  return ConstRowMap(m.data(), m.rows(), m.cols());
}

// The batch's rows of the dense data.
ConstRowMap Rows(const Batch& batch) {
  const RowMatrix& data = *batch.dense;
  return ConstRowMap(data.data() + batch.begin * data.cols(), batch.count,
                     data.cols());
}

}  // namespace

MlpNet::MlpNet(MlpShape shape) : shape_(std::move(shape)) {
  if (shape_.inputs < 1 || shape_.classes < 2) {
    throw std::invalid_argument("mlp: expected inputs >= 1 and classes >= 2");
  }
  int64_t in = shape_.inputs;
  for (int64_t width : shape_.hidden) {
    if (width < 1) throw std::invalid_argument("mlp: hidden width < 1");
    layers_.push_back({in, width});
    in = width;
  }
  layers_.push_back({in, shape_.classes});
  for (const DenseShape& layer : layers_) {
    offsets_.push_back(parameters_);
    parameters_ += layer.parameter_count();
  }
  acts_.resize(layers_.size());
}

void MlpNet::Initialize(uint64_t seed, float* params) const {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const DenseShape& layer = layers_[l];
    float* w = params + offsets_[l];
    const int64_t weights = layer.in * layer.out;
    if (l + 1 < layers_.size()) {
      HeNormal(seed, 1001 + l, layer.in, w, weights);
    } else {
      GlorotUniform(seed, 1001 + l, layer.in, layer.out, w, weights);
    }
    std::fill(w + weights, w + layer.parameter_count(), 0.0f);
  }
}

double MlpNet::ScratchBytes(int64_t rows) const {
  // Every layer's output, and two gradients as wide as the widest.
  int64_t widest = 0, outputs = 0;
  for (const DenseShape& layer : layers_) {
    widest = std::max({widest, layer.in, layer.out});
    outputs += layer.out;
  }
  return 4.0 * static_cast<double>(rows) *
         static_cast<double>(outputs + 2 * widest);
}

void MlpNet::Forward(const Batch& batch, const float* params) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    acts_[l].resize(batch.count, layers_[l].out);
    DenseForward(layers_[l], l == 0 ? Rows(batch) : ConstView(acts_[l - 1]),
                 params + offsets_[l], View(acts_[l]));
    if (l + 1 < layers_.size()) ReluForward(View(acts_[l]));
  }
}

double MlpNet::Loss(const Batch& batch, const float* params) {
  Forward(batch, params);
  return SoftmaxCrossEntropy(ConstView(acts_.back()), batch.labels, nullptr);
}

void MlpNet::AddGradient(const Batch& batch, const float* params,
                         float* gradient) {
  Forward(batch, params);
  delta_.resize(batch.count, shape_.classes);
  RowMap delta = View(delta_);
  SoftmaxCrossEntropy(ConstView(acts_.back()), batch.labels, &delta);
  // From the output down; delta_ is the gradient at layer l's output.
  for (size_t l = layers_.size() - 1; l > 0; --l) {
    delta_below_.resize(batch.count, layers_[l].in);
    RowMap below = View(delta_below_);
    DenseBackward(layers_[l], ConstView(acts_[l - 1]), ConstView(delta_),
                  params + offsets_[l], gradient + offsets_[l], &below);
    ReluBackward(ConstView(acts_[l - 1]), below);
    std::swap(delta_, delta_below_);
  }
  DenseBackward(layers_[0], Rows(batch), ConstView(delta_), params, gradient,
                nullptr);
}

}  // namespace siren::sim::sgd
