// The networks the `sgd` convergence model trains (sgd_model.h), behind one
// small interface: a parameter vector of known length and layout, a seeded
// initialisation, and the loss and its gradient on a batch of rows. Private
// to convergence/sgd/ (Eigen stays inside this folder).
//
// Contract (every net):
// - The parameters are one flat float vector of parameter_count() entries;
//   each net's header documents its layout.
// - Initialize is a function of the seed alone (the same on every machine
//   and thread count).
// - Loss and AddGradient are deterministic: the same batch and parameters
//   give the same bits. They use the net's own scratch buffers, so a net is
//   used by one thread at a time; Clone gives an independent net of the
//   same shape (without copying the scratch).
// - Losses are cross-entropies in nats, summed (not averaged) over the
//   batch's rows, accumulated in double.
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_NET_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_NET_H_

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cstdint>
#include <memory>
#include <string>

namespace siren::sim::sgd {

// A dense batch of rows (or activations), one row per sample.
using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Sparse rows (CSR), as the linear net reads them.
using SparseRows = Eigen::SparseMatrix<float, Eigen::RowMajor, int64_t>;

// Rows [begin, begin + count) of a data matrix and their labels. A net reads
// the form it declares (Net::reads_sparse): `sparse` or `dense`.
struct Batch {
  const RowMatrix* dense = nullptr;
  const SparseRows* sparse = nullptr;
  int64_t begin = 0;
  int64_t count = 0;
  const int32_t* labels = nullptr;  // `count` labels in [0, classes).
};

class Net {
 public:
  virtual ~Net() = default;

  // "linear", "mlp" or "lenet".
  virtual std::string name() const = 0;
  // Length of the parameter vector.
  virtual int64_t parameter_count() const = 0;
  // True when Loss and AddGradient read Batch::sparse, false for Batch::dense.
  virtual bool reads_sparse() const { return false; }
  // Writes the initial parameters (parameter_count() floats) drawn from
  // streams of `seed`: He-normal weights before a ReLU, Glorot-uniform
  // weights into the softmax, zero biases (the linear net: all zero).
  virtual void Initialize(uint64_t seed, float* params) const = 0;
  // The summed cross-entropy of the batch's rows at `params`.
  virtual double Loss(const Batch& batch, const float* params) = 0;
  // Adds the gradient of Loss(batch, params) to `gradient`
  // (parameter_count() floats), so that a batch split into blocks
  // accumulates.
  virtual void AddGradient(const Batch& batch, const float* params,
                           float* gradient) = 0;
  // An upper estimate of the scratch memory, in bytes, that Loss and
  // AddGradient use on a batch of `rows` rows (so that a caller can refuse
  // a batch too large to hold before allocating it).
  virtual double ScratchBytes(int64_t rows) const = 0;
  virtual std::unique_ptr<Net> Clone() const = 0;
};

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_NET_H_
