// The dense building blocks of the sgd networks, on row-major batches (one
// row per sample): a fully connected layer, ReLU, and the softmax
// cross-entropy. Forward and backward passes are separate functions so that
// each is checked against finite differences (tests/cpp/sgd_nets_test.cc).
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_DENSE_LAYERS_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_DENSE_LAYERS_H_

#include <cstdint>

#include "sim/convergence/sgd/models/net.h"

namespace siren::sim::sgd {

using RowMap = Eigen::Map<RowMatrix>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

// A fully connected layer from `in` to `out` features. Its parameters, at
// some offset of the net's vector: the weights W, `in` x `out` row-major
// (W[i][o] at i * out + o), then the `out` biases.
struct DenseShape {
  int64_t in = 0;
  int64_t out = 0;
  int64_t parameter_count() const { return in * out + out; }
};

// z = x W + b. x: rows x in, z: rows x out.
void DenseForward(const DenseShape& shape, ConstRowMap x, const float* params,
                  RowMap z);

// Given dz (rows x out), the gradient of a loss at z: adds x^T dz to the
// weights' gradient and the column sums of dz to the biases' (in `gradient`,
// laid out as the parameters), and when `dx` is not null sets
// *dx = dz W^T (rows x in).
void DenseBackward(const DenseShape& shape, ConstRowMap x, ConstRowMap dz,
                   const float* params, float* gradient, RowMap* dx);

// a = max(z, 0), in place.
void ReluForward(RowMap z);

// Given the ReLU's output `a` and da, the gradient at a: da *= (a > 0), in
// place (the gradient at the ReLU's input; 0 where the input was <= 0).
void ReluBackward(ConstRowMap a, RowMap da);

// The summed softmax cross-entropy of `logits` (rows x classes) against
// `labels`, computed stably in double. When `dlogits` is not null, sets it to
// the gradient of that sum: softmax(logits) - onehot(labels).
double SoftmaxCrossEntropy(ConstRowMap logits, const int32_t* labels,
                           RowMap* dlogits);

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_DENSE_LAYERS_H_
