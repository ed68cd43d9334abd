// MatMul (matmul.h) for the build's baseline target.
#define Eigen SirenEigenBaseline
#define SIREN_MATMUL_FUNCTION MatMulBaseline
#include "sim/convergence/sgd/models/matmul_kernel.inc"
