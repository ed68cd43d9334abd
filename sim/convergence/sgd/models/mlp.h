// A multilayer perceptron: dense layers with ReLU between them and a softmax
// output, on dense rows. Parameters: the layers in order, each its weights
// (`in` x `out` row-major) then its biases (dense_layers.h, DenseShape).
// Initialisation: He-normal hidden weights, Glorot-uniform output weights,
// zero biases; layer l draws from stream 1001 + l of the seed.
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_MLP_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_MLP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/sgd/models/dense_layers.h"
#include "sim/convergence/sgd/models/net.h"

namespace siren::sim::sgd {

struct MlpShape {
  int64_t inputs = 0;
  std::vector<int64_t> hidden;  // Widths of the hidden layers, in order.
  int classes = 2;
};

class MlpNet final : public Net {
 public:
  // Throws std::invalid_argument for a width < 1 or classes < 2.
  explicit MlpNet(MlpShape shape);

  std::string name() const override { return "mlp"; }
  int64_t parameter_count() const override { return parameters_; }
  void Initialize(uint64_t seed, float* params) const override;
  double Loss(const Batch& batch, const float* params) override;
  void AddGradient(const Batch& batch, const float* params,
                   float* gradient) override;
  double ScratchBytes(int64_t rows) const override;
  std::unique_ptr<Net> Clone() const override {
    return std::make_unique<MlpNet>(shape_);
  }

 private:
  // Runs the layers on the batch's rows; acts_[l] holds layer l's output
  // (after its ReLU for a hidden layer; the logits for the last).
  void Forward(const Batch& batch, const float* params);

  MlpShape shape_;
  std::vector<DenseShape> layers_;
  std::vector<int64_t> offsets_;  // Of each layer's parameters.
  int64_t parameters_ = 0;
  std::vector<RowMatrix> acts_;    // Scratch: one per layer.
  RowMatrix delta_, delta_below_;  // Scratch: gradients at layer outputs.
};

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_MLP_H_
