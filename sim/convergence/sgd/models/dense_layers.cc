#include "sim/convergence/sgd/models/dense_layers.h"

#include <cmath>

#include "sim/convergence/sgd/models/matmul.h"

namespace siren::sim::sgd {

void DenseForward(const DenseShape& shape, ConstRowMap x, const float* params,
                  RowMap z) {
  const Eigen::Map<const Eigen::RowVectorXf> b(params + shape.in * shape.out,
                                               shape.out);
  MatMul({x.data(), x.rows(), shape.in}, {params, shape.in, shape.out},
         z.data(), false);
  z.rowwise() += b;
}

void DenseBackward(const DenseShape& shape, ConstRowMap x, ConstRowMap dz,
                   const float* params, float* gradient, RowMap* dx) {
  Eigen::Map<Eigen::RowVectorXf> db(gradient + shape.in * shape.out, shape.out);
  // dW += x^T dz; db += the column sums of dz.
  MatMul({x.data(), x.rows(), shape.in, true},
         {dz.data(), dz.rows(), shape.out}, gradient, true);
  db += dz.colwise().sum();
  if (dx != nullptr) {
    // dx = dz W^T.
    MatMul({dz.data(), dz.rows(), shape.out},
           {params, shape.in, shape.out, true}, dx->data(), false);
  }
}

void ReluForward(RowMap z) { z = z.cwiseMax(0.0f); }

void ReluBackward(ConstRowMap a, RowMap da) {
  // A plain loop: the compiler vectorises it as a compare and a mask on any
  // x86-64 (Eigen's select needs SSE4.1's blend to vectorise).
  const float* in = a.data();
  float* out = da.data();
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    out[i] = in[i] > 0.0f ? out[i] : 0.0f;
  }
}

double SoftmaxCrossEntropy(ConstRowMap logits, const int32_t* labels,
                           RowMap* dlogits) {
  double total = 0;
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const auto row = logits.row(r);
    const float top = row.maxCoeff();
    double sum = 0;
    for (Eigen::Index c = 0; c < row.size(); ++c) {
      sum += std::exp(static_cast<double>(row[c]) - top);
    }
    total += std::log(sum) + top - static_cast<double>(row[labels[r]]);
    if (dlogits != nullptr) {
      auto d = dlogits->row(r);
      d = ((row.array() - top).exp() / static_cast<float>(sum)).matrix();
      d[labels[r]] -= 1.0f;
    }
  }
  return total;
}

}  // namespace siren::sim::sgd
