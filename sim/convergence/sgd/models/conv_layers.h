// The convolutional building blocks of the LeNet-style net, on batches of
// images stored NHWC: image n's pixel (y, x) channel c is element
// ((n * height + y) * width + x) * channels + c, i.e. a row-major matrix of
// (images x height x width) rows by `channels` columns. Convolutions are
// im2col + one matrix product (stride 1, zero padding); pooling is 2 x 2
// max-pooling with stride 2. Forward and backward passes are separate
// functions, each checked against finite differences
// (tests/cpp/sgd_nets_test.cc).
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_CONV_LAYERS_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_CONV_LAYERS_H_

#include <cstdint>

#include "sim/convergence/sgd/models/dense_layers.h"

namespace siren::sim::sgd {

// A kernel x kernel convolution from `in_channels` to `out_channels` over a
// height x width input padded with `padding` zeros on every side. Its
// parameters: the weights, patch() x out_channels row-major, where patch row
// (ky * kernel + kx) * in_channels + c holds the taps of input channel c at
// kernel offset (ky, kx); then the out_channels biases.
struct ConvShape {
  int64_t height = 0;
  int64_t width = 0;
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  int64_t kernel = 1;
  int64_t padding = 0;

  int64_t out_height() const { return height + 2 * padding - kernel + 1; }
  int64_t out_width() const { return width + 2 * padding - kernel + 1; }
  int64_t patch() const { return kernel * kernel * in_channels; }
  int64_t parameter_count() const {
    return patch() * out_channels + out_channels;
  }
  // The weights as a dense layer from a patch to the output channels.
  DenseShape as_dense() const { return {patch(), out_channels}; }
};

// Writes the patches of `images` NHWC images `x`: cols is
// (images x out_height x out_width) x patch(), row (n, oy, ox) holding the
// input under the kernel placed at output pixel (oy, ox), zeros off the
// image.
void Im2Col(const ConvShape& shape, const float* x, int64_t images,
            float* cols);

// The adjoint of Im2Col: sets dx (NHWC, images x height x width x
// in_channels) to the sum, over every patch entry, of dcols at that entry.
void Col2Im(const ConvShape& shape, const float* dcols, int64_t images,
            float* dx);

// y = conv(x) + b, NHWC, (images x out_height x out_width) x out_channels;
// `cols` receives the patches (as Im2Col), which ConvBackward reuses.
void ConvForward(const ConvShape& shape, const float* x, int64_t images,
                 const float* params, float* cols, float* y);

// Given dy, the gradient at the convolution's output, and the patches
// `cols` of its forward pass: adds the weights' and biases' gradient to
// `gradient` (laid out as the parameters); when dx is not null, sets dx
// (NHWC, as the input) to the gradient at the input, using `dcols`
// (as large as cols) as scratch.
void ConvBackward(const ConvShape& shape, const float* cols, const float* dy,
                  int64_t images, const float* params, float* gradient,
                  float* dcols, float* dx);

// 2 x 2 max-pooling, stride 2, over a height x width x channels NHWC map;
// odd trailing rows or columns are dropped.
struct PoolShape {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;

  int64_t out_height() const { return height / 2; }
  int64_t out_width() const { return width / 2; }
};

// y (images x out_height x out_width x channels) = the maximum of each
// window; argmax receives, per output, the index in x of its maximum (the
// first in row-major window order on ties).
void MaxPoolForward(const PoolShape& shape, const float* x, int64_t images,
                    float* y, int64_t* argmax);

// Sets dx (as x) to dy routed to each window's maximum, zero elsewhere.
void MaxPoolBackward(const PoolShape& shape, const float* dy,
                     const int64_t* argmax, int64_t images, float* dx);

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_CONV_LAYERS_H_
