// Logistic regression (2 classes) or softmax regression (more) on sparse
// rows whose last column is a constant 1 (the bias feature). Parameters: a
// column-major `features` x outputs matrix (outputs = 1 for logistic,
// classes for softmax), `features` counting the bias column; initialised to
// zero, so the initial loss is log(classes).
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_LINEAR_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_LINEAR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "sim/convergence/sgd/models/net.h"

namespace siren::sim::sgd {

class LinearNet final : public Net {
 public:
  // `features` columns (bias included), `classes` >= 2.
  LinearNet(int64_t features, int classes);

  std::string name() const override { return "linear"; }
  int64_t parameter_count() const override { return features_ * outputs_; }
  bool reads_sparse() const override { return true; }
  void Initialize(uint64_t seed, float* params) const override;
  double Loss(const Batch& batch, const float* params) override;
  void AddGradient(const Batch& batch, const float* params,
                   float* gradient) override;
  // The products' rows: float errors and logits, double logits.
  double ScratchBytes(int64_t rows) const override {
    return 16.0 * static_cast<double>(rows) * outputs_;
  }
  std::unique_ptr<Net> Clone() const override {
    return std::make_unique<LinearNet>(*this);
  }

 private:
  int64_t features_;
  int outputs_;  // 1 for logistic, classes for softmax.
};

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_LINEAR_H_
