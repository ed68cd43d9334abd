// MatMul (matmul.h) for AVX2 + FMA: compiled with -mavx2 -mfma on x86-64
// (sim/CMakeLists.txt), called only when the CPU has both.
#if defined(__x86_64__)
#define Eigen SirenEigenAvx2
#define SIREN_MATMUL_FUNCTION MatMulAvx2
#include "sim/convergence/sgd/models/matmul_kernel.inc"
#endif
