#include "sim/convergence/sgd/models/matmul.h"

#include <stdexcept>

namespace siren::sim::sgd {

std::vector<MatMulIsa> SupportedMatMulIsas() {
  std::vector<MatMulIsa> isas = {MatMulIsa::kBaseline};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) isas.push_back(MatMulIsa::kAvx2);
  if (avx2 && __builtin_cpu_supports("avx512f")) {
    isas.push_back(MatMulIsa::kAvx512);
  }
#endif
  return isas;
}

MatMulIsa BestMatMulIsa() {
  static const MatMulIsa best = SupportedMatMulIsas().back();
  return best;
}

std::string MatMulIsaName(MatMulIsa isa) {
  switch (isa) {
    case MatMulIsa::kBaseline:
      return "baseline";
    case MatMulIsa::kAvx2:
      return "avx2";
    case MatMulIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

void MatMulWith(MatMulIsa isa, const MatMulOperand& a, const MatMulOperand& b,
                float* c, bool accumulate) {
  // Each copy needs the ones before it (SupportedMatMulIsas).
  if (isa > BestMatMulIsa()) {
    throw std::invalid_argument("MatMulWith: this CPU cannot run the " +
                                MatMulIsaName(isa) + " copy");
  }
  switch (isa) {
    case MatMulIsa::kBaseline:
      internal::MatMulBaseline(a, b, c, accumulate);
      return;
#if defined(__x86_64__)
    case MatMulIsa::kAvx2:
      internal::MatMulAvx2(a, b, c, accumulate);
      return;
    case MatMulIsa::kAvx512:
      internal::MatMulAvx512(a, b, c, accumulate);
      return;
#else
    default:
      break;
#endif
  }
  throw std::invalid_argument("MatMulWith: " + MatMulIsaName(isa) +
                              " is not compiled for this machine");
}

void MatMul(const MatMulOperand& a, const MatMulOperand& b, float* c,
            bool accumulate) {
  static const MatMulIsa best = BestMatMulIsa();
  MatMulWith(best, a, b, c, accumulate);
}

}  // namespace siren::sim::sgd
