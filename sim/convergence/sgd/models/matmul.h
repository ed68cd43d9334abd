// The matrix products of the sgd networks (dense layers and im2col
// convolutions), dispatched at run time to the widest instruction set the
// CPU has: Eigen's product compiled three times, for the baseline target,
// for AVX2 + FMA and for AVX-512F (matmul_*.cc). Each copy lives in a
// namespace of its own (Eigen's namespace renamed before it is included), so
// that no template instance of a wider copy is shared with, and picked by
// the linker for, code compiled for the baseline; the build stays portable.
//
// On one machine the choice is fixed, so products are identical across runs
// and thread counts; machines with different instruction sets may differ in
// the last bits (the order of the sums differs with the vector width).
// Plain pointers only: this header includes no Eigen.
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_MATMUL_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_MATMUL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace siren::sim::sgd {

// A row-major rows x cols matrix, used as itself or transposed.
struct MatMulOperand {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  bool transposed = false;

  int64_t out_rows() const { return transposed ? cols : rows; }
  int64_t out_cols() const { return transposed ? rows : cols; }
};

// The compiled copies of the product.
enum class MatMulIsa { kBaseline, kAvx2, kAvx512 };

// c = a b, or c += a b when `accumulate`; c is row-major, a.out_rows() x
// b.out_cols(), and a.out_cols() == b.out_rows(). Uses BestMatMulIsa().
void MatMul(const MatMulOperand& a, const MatMulOperand& b, float* c,
            bool accumulate);

// The same with a given copy (for tests and benchmarks); it must be in
// SupportedMatMulIsas().
void MatMulWith(MatMulIsa isa, const MatMulOperand& a, const MatMulOperand& b,
                float* c, bool accumulate);

// The copies this CPU can run, baseline first.
std::vector<MatMulIsa> SupportedMatMulIsas();
// The widest of them (decided once per process).
MatMulIsa BestMatMulIsa();
// "baseline", "avx2" or "avx512".
std::string MatMulIsaName(MatMulIsa isa);

namespace internal {
// The copies (matmul_baseline.cc, matmul_avx2.cc, matmul_avx512.cc); the
// wider two exist only on x86-64 (elsewhere they are never called).
void MatMulBaseline(const MatMulOperand& a, const MatMulOperand& b, float* c,
                    bool accumulate);
void MatMulAvx2(const MatMulOperand& a, const MatMulOperand& b, float* c,
                bool accumulate);
void MatMulAvx512(const MatMulOperand& a, const MatMulOperand& b, float* c,
                  bool accumulate);
}  // namespace internal

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_MATMUL_H_
