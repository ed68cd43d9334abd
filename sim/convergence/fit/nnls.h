// Non-negative least squares: argmin ||A x - b||_2 subject to x >= 0, by the
// Lawson-Hanson active-set method (Solving Least Squares Problems, 1974,
// ch. 23), as Optimus fits its loss curve.
#ifndef SIREN_SIM_CONVERGENCE_FIT_NNLS_H_
#define SIREN_SIM_CONVERGENCE_FIT_NNLS_H_

#include <Eigen/Dense>

namespace siren::sim {

// Returns x >= 0 minimising ||a x - b||. Stops after `max_iterations` outer
// iterations (3 * columns by default), returning the best feasible x so far.
Eigen::VectorXd SolveNnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                          int max_iterations = -1);

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_FIT_NNLS_H_
