// MatMul (matmul.h) for AVX-512F: compiled with -mavx512f -mavx2 -mfma on
// x86-64 (sim/CMakeLists.txt), called only when the CPU has all three.
#if defined(__x86_64__)
#define Eigen SirenEigenAvx512
#define SIREN_MATMUL_FUNCTION MatMulAvx512
#include "sim/convergence/sgd/models/matmul_kernel.inc"
#endif
