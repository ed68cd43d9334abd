// A LeNet-style convolutional net on single-channel images (LeCun et al.
// 1998; the MXNet LeNet example of the lenet-mnist preset):
//   conv(conv1_channels, kernel x kernel, padding) - ReLU - 2x2 max-pool -
//   conv(conv2_channels, kernel x kernel, padding) - ReLU - 2x2 max-pool -
//   dense(dense) - ReLU - dense(classes) - softmax.
// Stride 1 convolutions with `padding` zeros per side (0: "valid", as the
// MXNet example on 28 x 28; (kernel - 1) / 2: "same", needed on 8 x 8).
// Parameters, in order: conv1, conv2 (conv_layers.h, ConvShape: weights
// patch x channels row-major, then biases), dense1, dense2 (dense_layers.h,
// DenseShape); dense1's input is the second pooled map flattened NHWC, index
// (y * pooled_width + x) * conv2_channels + c. Initialisation: He-normal
// before each ReLU, Glorot-uniform into the softmax, zero biases; layer l
// draws from stream 1001 + l of the seed.
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_LENET_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_LENET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/sgd/models/conv_layers.h"
#include "sim/convergence/sgd/models/net.h"

namespace siren::sim::sgd {

struct LeNetShape {
  int64_t height = 28;  // Input image.
  int64_t width = 28;
  int64_t conv1_channels = 20;
  int64_t conv2_channels = 50;
  int64_t kernel = 5;
  int64_t padding = 0;
  int64_t dense = 500;
  int classes = 10;

  ConvShape conv1() const;
  PoolShape pool1() const;
  ConvShape conv2() const;
  PoolShape pool2() const;
  // The second pooled map's size (height x width x conv2_channels).
  int64_t flat() const;
  // "" when the layers fit the image, else why not (a map shrinks below one
  // pixel, or padding exceeds (kernel - 1) / 2).
  std::string Problem() const;
};

class LeNetNet final : public Net {
 public:
  // Throws std::invalid_argument with shape.Problem() when it is not "".
  explicit LeNetNet(LeNetShape shape);

  std::string name() const override { return "lenet"; }
  int64_t parameter_count() const override { return parameters_; }
  void Initialize(uint64_t seed, float* params) const override;
  double Loss(const Batch& batch, const float* params) override;
  void AddGradient(const Batch& batch, const float* params,
                   float* gradient) override;
  double ScratchBytes(int64_t rows) const override;
  std::unique_ptr<Net> Clone() const override {
    return std::make_unique<LeNetNet>(shape_);
  }

 private:
  // Runs the layers on the batch's images, filling the scratch below.
  void Forward(const Batch& batch, const float* params);

  LeNetShape shape_;
  ConvShape conv1_, conv2_;
  PoolShape pool1_, pool2_;
  DenseShape dense1_, dense2_;
  int64_t offsets_[4] = {0, 0, 0, 0};
  int64_t parameters_ = 0;

  // Scratch, sized for the last batch: patches, outputs (after ReLU),
  // pooled maps with their argmax, and the dense activations.
  std::vector<float> cols1_, y1_, p1_, cols2_, y2_, p2_;
  std::vector<int64_t> arg1_, arg2_;
  RowMatrix h_, logits_;
  // Scratch of the backward pass.
  std::vector<float> dy1_, dp1_, dcols2_, dy2_, dp2_;
  RowMatrix dh_, dlogits_;
};

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_LENET_H_
