#include "sim/convergence/sgd/models/dense_layers.h"

#include <cmath>

namespace siren::sim::sgd {

void DenseForward(const DenseShape& shape, ConstRowMap x, const float* params,
                  RowMap z) {
  const ConstRowMap w(params, shape.in, shape.out);
  const Eigen::Map<const Eigen::RowVectorXf> b(params + shape.in * shape.out,
                                               shape.out);
  z.noalias() = x * w;
  z.rowwise() += b;
}

void DenseBackward(const DenseShape& shape, ConstRowMap x, ConstRowMap dz,
                   const float* params, float* gradient, RowMap* dx) {
  RowMap dw(gradient, shape.in, shape.out);
  Eigen::Map<Eigen::RowVectorXf> db(gradient + shape.in * shape.out, shape.out);
  dw.noalias() += x.transpose() * dz;
  db += dz.colwise().sum();
  if (dx != nullptr) {
    const ConstRowMap w(params, shape.in, shape.out);
    dx->noalias() = dz * w.transpose();
  }
}

void ReluForward(RowMap z) { z = z.cwiseMax(0.0f); }

void ReluBackward(ConstRowMap a, RowMap da) {
  da = (a.array() > 0.0f).select(da, 0.0f);
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
