#include "sim/convergence/sgd/models/lenet.h"

#include <algorithm>
#include <stdexcept>

#include "sim/convergence/sgd/models/dense_layers.h"
#include "sim/convergence/sgd/models/init.h"

namespace siren::sim::sgd {
namespace {

RowMap View(RowMatrix& m) { return RowMap(m.data(), m.rows(), m.cols()); }
ConstRowMap ConstView(const RowMatrix& m) {
  return ConstRowMap(m.data(), m.rows(), m.cols());
}

}  // namespace

ConvShape LeNetShape::conv1() const {
  return {height, width, 1, conv1_channels, kernel, padding};
}
PoolShape LeNetShape::pool1() const {
  const ConvShape c = conv1();
  return {c.out_height(), c.out_width(), conv1_channels};
}
ConvShape LeNetShape::conv2() const {
  const PoolShape p = pool1();
  return {p.out_height(), p.out_width(), conv1_channels,
          conv2_channels, kernel,        padding};
}
PoolShape LeNetShape::pool2() const {
  const ConvShape c = conv2();
  return {c.out_height(), c.out_width(), conv2_channels};
}
int64_t LeNetShape::flat() const {
  const PoolShape p = pool2();
  return p.out_height() * p.out_width() * conv2_channels;
}

std::string LeNetShape::Problem() const {
  if (height < 1 || width < 1 || conv1_channels < 1 || conv2_channels < 1 ||
      kernel < 1 || padding < 0 || dense < 1 || classes < 2) {
    return "sizes must be positive, padding >= 0 and classes >= 2";
  }
  if (2 * padding > kernel - 1) {
    return "padding " + std::to_string(padding) + " exceeds (kernel - 1) / 2";
  }
  const auto side = [](int64_t h, int64_t w) {
    return std::to_string(h) + " x " + std::to_string(w);
  };
  const ConvShape c1 = conv1();
  if (c1.out_height() < 2 || c1.out_width() < 2) {
    return "the first convolution maps a " + side(height, width) +
           " image to " + side(c1.out_height(), c1.out_width()) +
           ", too small to pool";
  }
  const ConvShape c2 = conv2();
  if (c2.out_height() < 2 || c2.out_width() < 2) {
    return "the second convolution maps the " + side(c2.height, c2.width) +
           " pooled map to " + side(c2.out_height(), c2.out_width()) +
           ", too small to pool";
  }
  return "";
}

LeNetNet::LeNetNet(LeNetShape shape) : shape_(shape) {
  const std::string problem = shape_.Problem();
  if (!problem.empty()) throw std::invalid_argument("lenet: " + problem);
  conv1_ = shape_.conv1();
  pool1_ = shape_.pool1();
  conv2_ = shape_.conv2();
  pool2_ = shape_.pool2();
  dense1_ = {shape_.flat(), shape_.dense};
  dense2_ = {shape_.dense, shape_.classes};
  const int64_t counts[4] = {conv1_.parameter_count(), conv2_.parameter_count(),
                             dense1_.parameter_count(),
                             dense2_.parameter_count()};
  for (int l = 0; l < 4; ++l) {
    offsets_[l] = parameters_;
    parameters_ += counts[l];
  }
}

void LeNetNet::Initialize(uint64_t seed, float* params) const {
  const DenseShape layers[4] = {conv1_.as_dense(), conv2_.as_dense(), dense1_,
                                dense2_};
  for (int l = 0; l < 4; ++l) {
    float* w = params + offsets_[l];
    const int64_t weights = layers[l].in * layers[l].out;
    if (l < 3) {
      HeNormal(seed, 1001 + l, layers[l].in, w, weights);
    } else {
      GlorotUniform(seed, 1001 + l, layers[l].in, layers[l].out, w, weights);
    }
    std::fill(w + weights, w + layers[l].parameter_count(), 0.0f);
  }
}

double LeNetNet::ScratchBytes(int64_t rows) const {
  // Per image, in floats (an argmax index counts as two): the scratch
  // buffers of the forward and the backward pass.
  const double m1 =
      static_cast<double>(conv1_.out_height() * conv1_.out_width());
  const double m2 =
      static_cast<double>(conv2_.out_height() * conv2_.out_width());
  const double q1 = static_cast<double>(pool1_.out_height() *
                                        pool1_.out_width() * pool1_.channels);
  const double flat = static_cast<double>(dense1_.in);
  const double per_image =
      m1 * (conv1_.patch() + 2.0 * conv1_.out_channels) + 4.0 * q1 +
      m2 * (2.0 * conv2_.patch() + 2.0 * conv2_.out_channels) + 4.0 * flat +
      2.0 * (dense1_.out + dense2_.out);
  return 4.0 * static_cast<double>(rows) * per_image;
}

void LeNetNet::Forward(const Batch& batch, const float* params) {
  const int64_t n = batch.count;
  const int64_t m1 = n * conv1_.out_height() * conv1_.out_width();
  const int64_t m2 = n * conv2_.out_height() * conv2_.out_width();
  const int64_t q1 = n * pool1_.out_height() * pool1_.out_width();
  cols1_.resize(m1 * conv1_.patch());
  y1_.resize(m1 * conv1_.out_channels);
  p1_.resize(q1 * pool1_.channels);
  arg1_.resize(p1_.size());
  cols2_.resize(m2 * conv2_.patch());
  y2_.resize(m2 * conv2_.out_channels);
  p2_.resize(n * dense1_.in);
  arg2_.resize(p2_.size());
  h_.resize(n, dense1_.out);
  logits_.resize(n, dense2_.out);

  // A single-channel image row is already NHWC.
  const float* images = batch.dense->data() + batch.begin * batch.dense->cols();
  ConvForward(conv1_, images, n, params + offsets_[0], cols1_.data(),
              y1_.data());
  ReluForward(RowMap(y1_.data(), m1, conv1_.out_channels));
  MaxPoolForward(pool1_, y1_.data(), n, p1_.data(), arg1_.data());
  ConvForward(conv2_, p1_.data(), n, params + offsets_[1], cols2_.data(),
              y2_.data());
  ReluForward(RowMap(y2_.data(), m2, conv2_.out_channels));
  MaxPoolForward(pool2_, y2_.data(), n, p2_.data(), arg2_.data());
  DenseForward(dense1_, ConstRowMap(p2_.data(), n, dense1_.in),
               params + offsets_[2], View(h_));
  ReluForward(View(h_));
  DenseForward(dense2_, ConstView(h_), params + offsets_[3], View(logits_));
}

double LeNetNet::Loss(const Batch& batch, const float* params) {
  Forward(batch, params);
  return SoftmaxCrossEntropy(ConstView(logits_), batch.labels, nullptr);
}

void LeNetNet::AddGradient(const Batch& batch, const float* params,
                           float* gradient) {
  Forward(batch, params);
  const int64_t n = batch.count;
  const int64_t m1 = n * conv1_.out_height() * conv1_.out_width();
  const int64_t m2 = n * conv2_.out_height() * conv2_.out_width();
  dlogits_.resize(n, dense2_.out);
  dh_.resize(n, dense2_.in);
  dp2_.resize(p2_.size());
  dy2_.resize(y2_.size());
  dcols2_.resize(cols2_.size());
  dp1_.resize(p1_.size());
  dy1_.resize(y1_.size());

  RowMap dlogits = View(dlogits_);
  SoftmaxCrossEntropy(ConstView(logits_), batch.labels, &dlogits);
  RowMap dh = View(dh_);
  DenseBackward(dense2_, ConstView(h_), ConstView(dlogits_),
                params + offsets_[3], gradient + offsets_[3], &dh);
  ReluBackward(ConstView(h_), dh);
  RowMap dp2(dp2_.data(), n, dense1_.in);
  DenseBackward(dense1_, ConstRowMap(p2_.data(), n, dense1_.in), ConstView(dh_),
                params + offsets_[2], gradient + offsets_[2], &dp2);
  MaxPoolBackward(pool2_, dp2_.data(), arg2_.data(), n, dy2_.data());
  ReluBackward(ConstRowMap(y2_.data(), m2, conv2_.out_channels),
               RowMap(dy2_.data(), m2, conv2_.out_channels));
  ConvBackward(conv2_, cols2_.data(), dy2_.data(), n, params + offsets_[1],
               gradient + offsets_[1], dcols2_.data(), dp1_.data());
  MaxPoolBackward(pool1_, dp1_.data(), arg1_.data(), n, dy1_.data());
  ReluBackward(ConstRowMap(y1_.data(), m1, conv1_.out_channels),
               RowMap(dy1_.data(), m1, conv1_.out_channels));
  ConvBackward(conv1_, cols1_.data(), dy1_.data(), n, params + offsets_[0],
               gradient + offsets_[0], nullptr, nullptr);
}

}  // namespace siren::sim::sgd
