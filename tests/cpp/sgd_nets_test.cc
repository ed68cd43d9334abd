// The sgd model's networks and their layers: every backward pass against
// finite differences of its forward pass, and seeded initialisation.
//
// The nets compute in float, so derivatives are checked along directions
// (a layer's whole weight or bias block at once), where the signal is large
// against float rounding: for each block, the analytic gradient's own
// direction and a random one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/convergence/sgd/models/conv_layers.h"
#include "sim/convergence/sgd/models/dense_layers.h"
#include "sim/convergence/sgd/models/lenet.h"
#include "sim/convergence/sgd/models/linear.h"
#include "sim/convergence/sgd/models/matmul.h"
#include "sim/convergence/sgd/models/mlp.h"
#include "sim/core/rng.h"

namespace siren::sim::sgd {
namespace {

std::vector<float> RandomVector(int64_t n, uint64_t seed, double scale = 1) {
  Rng rng(seed, 7);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(scale * rng.Normal());
  return v;
}

double Dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Checks d f(x + t d)/dt at t = 0 against `analytic` (the gradient of f,
// n entries) along the gradient's own direction and a random one, over the
// entries [begin, end) of x. f is evaluated in double from float inputs.
void CheckDirections(const std::function<double(const std::vector<float>&)>& f,
                     std::vector<float> x, const std::vector<float>& analytic,
                     int64_t begin, int64_t end, const std::string& what) {
  std::vector<float> own(analytic.begin() + begin, analytic.begin() + end);
  std::vector<float> random = RandomVector(end - begin, 99 + begin);
  for (const auto& [name, dir] :
       {std::pair{"gradient", own}, std::pair{"random", random}}) {
    const double norm = std::sqrt(Dot(dir.data(), dir.data(), dir.size()));
    if (norm == 0) continue;
    // Small enough that no ReLU or max-pool switches (1e-2 moves LeNet's
    // first layer far enough to switch some), large against float rounding.
    const double eps = 1e-3;
    std::vector<float> plus = x, minus = x;
    for (int64_t i = begin; i < end; ++i) {
      const double step = eps * dir[i - begin] / norm;
      plus[i] = static_cast<float>(x[i] + step);
      minus[i] = static_cast<float>(x[i] - step);
    }
    // The step actually taken (float rounding of x + step).
    double taken = 0;
    for (int64_t i = begin; i < end; ++i) {
      taken +=
          (static_cast<double>(plus[i]) - minus[i]) * dir[i - begin] / norm / 2;
    }
    const double numeric = (f(plus) - f(minus)) / (2 * taken);
    const double expected =
        Dot(analytic.data() + begin, dir.data(), end - begin) / norm;
    EXPECT_NEAR(numeric, expected, 2e-3 + 2e-2 * std::abs(expected))
        << what << " along the " << name << " direction";
  }
}

// A scalar of a layer's output: sum(out .* weights), whose gradient at the
// output is `weights`.
double Project(const float* out, const std::vector<float>& weights) {
  return Dot(out, weights.data(), weights.size());
}

// Every compiled copy of the product this CPU runs (baseline, AVX2,
// AVX-512) agrees with a plain triple loop, for each pair of transposes,
// setting or accumulating, on sizes that are not multiples of any vector.
TEST(SgdLayersTest, EveryMatMulCopyMatchesThePlainProduct) {
  const int64_t m = 37, n = 19, k = 53;
  const std::vector<float> a = RandomVector(m * k, 60),
                           b = RandomVector(k * n, 61);
  const std::vector<float> c0 = RandomVector(m * n, 62);
  const std::vector<MatMulIsa> isas = SupportedMatMulIsas();
  ASSERT_EQ(isas.front(), MatMulIsa::kBaseline);
  EXPECT_EQ(BestMatMulIsa(), isas.back());
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // a is stored m x k, or k x m to be used transposed; b likewise.
      std::vector<float> at(a.size()), bt(b.size());
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < k; ++j) at[j * m + i] = a[i * k + j];
      }
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < n; ++j) bt[j * k + i] = b[i * n + j];
      }
      const MatMulOperand left = ta ? MatMulOperand{at.data(), k, m, true}
                                    : MatMulOperand{a.data(), m, k};
      const MatMulOperand right = tb ? MatMulOperand{bt.data(), n, k, true}
                                     : MatMulOperand{b.data(), k, n};
      for (MatMulIsa isa : isas) {
        for (bool accumulate : {false, true}) {
          std::vector<float> c = c0;
          MatMulWith(isa, left, right, c.data(), accumulate);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
              double want = accumulate ? c0[i * n + j] : 0.0;
              for (int64_t q = 0; q < k; ++q) {
                want += static_cast<double>(a[i * k + q]) * b[q * n + j];
              }
              ASSERT_NEAR(c[i * n + j], want, 1e-4 * (1 + std::abs(want)))
                  << MatMulIsaName(isa) << " ta=" << ta << " tb=" << tb
                  << " accumulate=" << accumulate << " at " << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST(SgdLayersTest, DenseBackwardMatchesFiniteDifferences) {
  const DenseShape shape{7, 5};
  const int64_t rows = 4;
  const std::vector<float> x0 = RandomVector(rows * shape.in, 1);
  const std::vector<float> p0 = RandomVector(shape.parameter_count(), 2, 0.5);
  const std::vector<float> r = RandomVector(rows * shape.out, 3);
  std::vector<float> z(rows * shape.out);
  auto f = [&](const std::vector<float>& x, const std::vector<float>& p) {
    DenseForward(shape, ConstRowMap(x.data(), rows, shape.in), p.data(),
                 RowMap(z.data(), rows, shape.out));
    return Project(z.data(), r);
  };
  std::vector<float> grad(shape.parameter_count(), 0.0f), dx(x0.size());
  RowMap dx_map(dx.data(), rows, shape.in);
  DenseBackward(shape, ConstRowMap(x0.data(), rows, shape.in),
                ConstRowMap(r.data(), rows, shape.out), p0.data(), grad.data(),
                &dx_map);
  auto of_p = [&](const std::vector<float>& p) { return f(x0, p); };
  auto of_x = [&](const std::vector<float>& x) { return f(x, p0); };
  CheckDirections(of_p, p0, grad, 0, shape.in * shape.out, "weights");
  CheckDirections(of_p, p0, grad, shape.in * shape.out, shape.parameter_count(),
                  "biases");
  CheckDirections(of_x, x0, dx, 0, x0.size(), "input");
}

TEST(SgdLayersTest, ReluAndSoftmaxCrossEntropyMatchFiniteDifferences) {
  const int64_t rows = 5, classes = 4;
  const std::vector<float> z0 = RandomVector(rows * classes, 4, 2);
  const std::vector<int32_t> labels = {0, 3, 1, 1, 2};
  std::vector<float> d(z0.size());
  RowMap d_map(d.data(), rows, classes);
  const double loss = SoftmaxCrossEntropy(ConstRowMap(z0.data(), rows, classes),
                                          labels.data(), &d_map);
  // The loss by its definition, in double.
  double direct = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) {
      sum += std::exp(static_cast<double>(z0[r * classes + c]));
    }
    direct += std::log(sum) - z0[r * classes + labels[r]];
  }
  EXPECT_NEAR(loss, direct, 1e-9 * direct);
  auto xent = [&](const std::vector<float>& z) {
    return SoftmaxCrossEntropy(ConstRowMap(z.data(), rows, classes),
                               labels.data(), nullptr);
  };
  CheckDirections(xent, z0, d, 0, z0.size(), "logits");

  // ReLU: away from the kink, the gradient passes where the output is > 0.
  std::vector<float> a = z0;
  for (float& v : a) v += v > 0 ? 0.5f : -0.5f;
  const std::vector<float> a_in = a;
  ReluForward(RowMap(a.data(), rows, classes));
  const std::vector<float> r = RandomVector(a.size(), 5);
  std::vector<float> da = r;
  ReluBackward(ConstRowMap(a.data(), rows, classes),
               RowMap(da.data(), rows, classes));
  auto relu = [&](const std::vector<float>& in) {
    std::vector<float> out = in;
    ReluForward(RowMap(out.data(), rows, classes));
    return Project(out.data(), r);
  };
  CheckDirections(relu, a_in, da, 0, a_in.size(), "relu input");
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], std::max(a_in[i], 0.0f));
    EXPECT_EQ(da[i], a_in[i] > 0 ? r[i] : 0.0f);
  }
}

TEST(SgdLayersTest, ConvolutionBackwardMatchesFiniteDifferences) {
  for (int64_t padding : {0, 1}) {
    const ConvShape shape{6, 5, 2, 3, 3, padding};
    const int64_t images = 2;
    const int64_t m = images * shape.out_height() * shape.out_width();
    const std::vector<float> x0 = RandomVector(
        images * shape.height * shape.width * shape.in_channels, 10 + padding);
    const std::vector<float> p0 =
        RandomVector(shape.parameter_count(), 11, 0.5);
    const std::vector<float> r = RandomVector(m * shape.out_channels, 12);
    std::vector<float> cols(m * shape.patch()), y(m * shape.out_channels);
    auto f = [&](const std::vector<float>& x, const std::vector<float>& p) {
      ConvForward(shape, x.data(), images, p.data(), cols.data(), y.data());
      return Project(y.data(), r);
    };
    f(x0, p0);
    // A direct convolution agrees with im2col + product at one pixel.
    {
      const int64_t n = 1, oy = 0, ox = shape.out_width() - 1, o = 2;
      double direct = p0[shape.patch() * shape.out_channels + o];
      for (int64_t ky = 0; ky < shape.kernel; ++ky) {
        for (int64_t kx = 0; kx < shape.kernel; ++kx) {
          const int64_t iy = oy + ky - padding, ix = ox + kx - padding;
          if (iy < 0 || iy >= shape.height || ix < 0 || ix >= shape.width)
            continue;
          for (int64_t c = 0; c < shape.in_channels; ++c) {
            direct += x0[((n * shape.height + iy) * shape.width + ix) *
                             shape.in_channels +
                         c] *
                      p0[((ky * shape.kernel + kx) * shape.in_channels + c) *
                             shape.out_channels +
                         o];
          }
        }
      }
      const int64_t at =
          ((n * shape.out_height() + oy) * shape.out_width() + ox) *
              shape.out_channels +
          o;
      EXPECT_NEAR(y[at], direct, 1e-5);
    }
    std::vector<float> grad(shape.parameter_count(), 0.0f), dx(x0.size());
    std::vector<float> dcols(cols.size());
    ConvBackward(shape, cols.data(), r.data(), images, p0.data(), grad.data(),
                 dcols.data(), dx.data());
    auto of_p = [&](const std::vector<float>& p) { return f(x0, p); };
    auto of_x = [&](const std::vector<float>& x) { return f(x, p0); };
    const int64_t weights = shape.patch() * shape.out_channels;
    CheckDirections(of_p, p0, grad, 0, weights, "conv weights");
    CheckDirections(of_p, p0, grad, weights, shape.parameter_count(),
                    "conv biases");
    CheckDirections(of_x, x0, dx, 0, x0.size(), "conv input");
  }
}

TEST(SgdLayersTest, MaxPoolRoutesTheGradientToEachWindowsMaximum) {
  // Odd sizes: the last row and column are dropped.
  const PoolShape shape{5, 7, 3};
  const int64_t images = 2;
  const int64_t outs =
      images * shape.out_height() * shape.out_width() * shape.channels;
  const std::vector<float> x0 =
      RandomVector(images * shape.height * shape.width * shape.channels, 20);
  const std::vector<float> r = RandomVector(outs, 21);
  std::vector<float> y(outs);
  std::vector<int64_t> argmax(outs);
  auto f = [&](const std::vector<float>& x) {
    MaxPoolForward(shape, x.data(), images, y.data(), argmax.data());
    return Project(y.data(), r);
  };
  f(x0);
  for (int64_t i = 0; i < outs; ++i) EXPECT_EQ(y[i], x0[argmax[i]]);
  // Image 1, pooled pixel (1, 2), channel 1: the max of its 2 x 2 window.
  const auto at = [&](int64_t y_, int64_t x_) {
    return x0[((1 * shape.height + y_) * shape.width + x_) * shape.channels +
              1];
  };
  const float window =
      std::max(std::max(at(2, 4), at(2, 5)), std::max(at(3, 4), at(3, 5)));
  EXPECT_EQ(y[((1 * shape.out_height() + 1) * shape.out_width() + 2) *
                  shape.channels +
              1],
            window);
  std::vector<float> dx(x0.size());
  MaxPoolBackward(shape, r.data(), argmax.data(), images, dx.data());
  CheckDirections(f, x0, dx, 0, x0.size(), "pool input");
}

// Rows of `features` values in [0, 1) and labels, as a dense batch.
struct DenseData {
  RowMatrix rows;
  std::vector<int32_t> labels;
  Batch batch() const {
    Batch b;
    b.dense = &rows;
    b.count = rows.rows();
    b.labels = labels.data();
    return b;
  }
};

DenseData RandomImages(int64_t rows, int64_t features, int classes,
                       uint64_t seed) {
  Rng rng(seed, 3);
  DenseData d;
  d.rows.resize(rows, features);
  for (int64_t i = 0; i < d.rows.size(); ++i) {
    d.rows.data()[i] = static_cast<float>(rng.Uniform());
  }
  for (int64_t r = 0; r < rows; ++r) d.labels.push_back(r % classes);
  return d;
}

// Checks a net's gradient block by block (`blocks`: offsets of each
// parameter block, ending with parameter_count()).
void CheckNet(Net& net, const Batch& batch, std::vector<float> params,
              const std::vector<int64_t>& blocks) {
  std::vector<float> grad(net.parameter_count(), 0.0f);
  net.AddGradient(batch, params.data(), grad.data());
  // AddGradient adds: a second call doubles the gradient.
  std::vector<float> twice = grad;
  net.AddGradient(batch, params.data(), twice.data());
  for (size_t i = 0; i < grad.size(); i += 97) {
    EXPECT_FLOAT_EQ(twice[i], 2 * grad[i]);
  }
  auto loss = [&](const std::vector<float>& p) {
    return net.Loss(batch, p.data());
  };
  for (size_t b = 0; b + 1 < blocks.size(); ++b) {
    CheckDirections(loss, params, grad, blocks[b], blocks[b + 1],
                    net.name() + " block " + std::to_string(b));
  }
}

TEST(SgdNetsTest, LinearGradientsMatchFiniteDifferences) {
  for (int classes : {2, 5}) {
    const int64_t features = 9;  // The last is the bias column.
    SparseRows rows(6, features);
    std::vector<int32_t> labels;
    Rng rng(30, 1);
    for (int64_t r = 0; r < 6; ++r) {
      for (int64_t c = 0; c < features; ++c) {
        if (c == features - 1 || rng.Uniform() < 0.5) {
          rows.insert(r, c) = c == features - 1 ? 1.0f : rng.Uniform();
        }
      }
      labels.push_back(static_cast<int32_t>(r % classes));
    }
    rows.makeCompressed();
    LinearNet net(features, classes);
    std::vector<float> params(net.parameter_count(), 0.0f);
    net.Initialize(1, params.data());
    Batch batch;
    batch.sparse = &rows;
    batch.count = 6;
    batch.labels = labels.data();
    // Zero parameters predict uniformly: log(classes) per row.
    EXPECT_NEAR(net.Loss(batch, params.data()), 6 * std::log(classes), 1e-6);
    params = RandomVector(net.parameter_count(), 31, 0.5);
    CheckNet(net, batch, params, {0, net.parameter_count()});
  }
}

TEST(SgdNetsTest, MlpGradientsMatchFiniteDifferences) {
  const DenseData data = RandomImages(6, 12, 4, 40);
  for (const std::vector<int64_t>& hidden :
       {std::vector<int64_t>{8}, std::vector<int64_t>{8, 6}}) {
    MlpNet net(MlpShape{12, hidden, 4});
    std::vector<float> params(net.parameter_count());
    net.Initialize(3, params.data());
    // Blocks: each layer's weights, then its biases (biases start at zero:
    // perturb them so that their gradient is not at a special point).
    std::vector<int64_t> blocks = {0};
    int64_t in = 12;
    std::vector<int64_t> widths = hidden;
    widths.push_back(4);
    for (int64_t out : widths) {
      blocks.push_back(blocks.back() + in * out);
      blocks.push_back(blocks.back() + out);
      in = out;
    }
    ASSERT_EQ(blocks.back(), net.parameter_count());
    for (float& p : params) p += 0.01f;
    CheckNet(net, data.batch(), params, blocks);
  }
}

TEST(SgdNetsTest, LeNetGradientsMatchFiniteDifferences) {
  // "same" padding on 8 x 8 (digits) and "valid" on 12 x 12.
  for (const auto& [side, kernel, padding] :
       {std::tuple{8, 3, 1}, std::tuple{12, 3, 0}}) {
    LeNetShape shape;
    shape.height = shape.width = side;
    shape.conv1_channels = 3;
    shape.conv2_channels = 4;
    shape.kernel = kernel;
    shape.padding = padding;
    shape.dense = 10;
    shape.classes = 5;
    LeNetNet net(shape);
    const DenseData data = RandomImages(4, side * side, 5, 50 + side);
    std::vector<float> params(net.parameter_count());
    net.Initialize(4, params.data());
    for (float& p : params) p += 0.01f;
    const ConvShape c1 = shape.conv1(), c2 = shape.conv2();
    std::vector<int64_t> blocks = {0};
    for (const DenseShape& layer :
         {c1.as_dense(), c2.as_dense(), DenseShape{shape.flat(), shape.dense},
          DenseShape{shape.dense, shape.classes}}) {
      blocks.push_back(blocks.back() + layer.in * layer.out);
      blocks.push_back(blocks.back() + layer.out);
    }
    ASSERT_EQ(blocks.back(), net.parameter_count());
    CheckNet(net, data.batch(), params, blocks);
  }
}

TEST(SgdNetsTest, LeNetShapesAndTheirLimits) {
  // The lenet-mnist preset's MXNet LeNet: 431,080 parameters.
  EXPECT_EQ(LeNetNet(LeNetShape{}).parameter_count(), 431080);
  LeNetShape digits;
  digits.height = digits.width = 8;
  EXPECT_NE(digits.Problem().find("too small to pool"), std::string::npos)
      << digits.Problem();  // 8 -> 4 -> 2 -> nothing with 5x5 valid.
  digits.kernel = 3;
  digits.padding = 1;
  EXPECT_EQ(digits.Problem(), "");
  digits.padding = 2;
  EXPECT_NE(digits.Problem().find("exceeds"), std::string::npos);
  EXPECT_THROW(LeNetNet{digits}, std::invalid_argument);
}

TEST(SgdNetsTest, InitialisationIsSeededAndScaled) {
  MlpNet net(MlpShape{400, {300}, 10});
  std::vector<float> a(net.parameter_count()), b(a.size()), c(a.size());
  net.Initialize(7, a.data());
  net.Clone()->Initialize(7, b.data());
  net.Initialize(8, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // He: the first layer's weights have variance 2 / fan_in; biases are 0.
  double sum2 = 0;
  for (int64_t i = 0; i < 400 * 300; ++i) sum2 += a[i] * a[i];
  EXPECT_NEAR(sum2 / (400 * 300), 2.0 / 400, 0.05 * 2.0 / 400);
  for (int64_t i = 400 * 300; i < 400 * 300 + 300; ++i) EXPECT_EQ(a[i], 0);
  // Glorot: the output weights lie within sqrt(6 / (300 + 10)).
  const float bound = std::sqrt(6.0f / 310);
  float largest = 0;
  for (int64_t i = 400 * 300 + 300; i < 400 * 300 + 300 + 3000; ++i) {
    largest = std::max(largest, std::abs(a[i]));
  }
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.9f * bound);
}

}  // namespace
}  // namespace siren::sim::sgd
