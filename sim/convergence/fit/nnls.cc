#include "sim/convergence/fit/nnls.h"

#include <limits>
#include <vector>

namespace siren::sim {

Eigen::VectorXd SolveNnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                          int max_iterations) {
  const int n = static_cast<int>(a.cols());
  if (max_iterations < 0) max_iterations = 3 * n + 10;
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(n, false);
  const double tolerance = 1e-12 * (a.norm() + 1.0) * (b.norm() + 1.0);

  // Least squares restricted to the passive set.
  auto solve_passive = [&](Eigen::VectorXd& z) {
    std::vector<int> columns;
    for (int j = 0; j < n; ++j) {
      if (passive[j]) columns.push_back(j);
    }
    z.setZero(n);
    if (columns.empty()) return;
    Eigen::MatrixXd sub(a.rows(), columns.size());
    for (size_t c = 0; c < columns.size(); ++c) sub.col(c) = a.col(columns[c]);
    const Eigen::VectorXd solution = sub.colPivHouseholderQr().solve(b);
    for (size_t c = 0; c < columns.size(); ++c) z[columns[c]] = solution[c];
  };

  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    // The most promising active variable by the gradient of the residual.
    const Eigen::VectorXd w = a.transpose() * (b - a * x);
    int best = -1;
    double best_value = tolerance;
    for (int j = 0; j < n; ++j) {
      if (!passive[j] && w[j] > best_value) {
        best = j;
        best_value = w[j];
      }
    }
    if (best < 0) break;
    passive[best] = true;

    // Move towards the passive-set solution, staying feasible.
    Eigen::VectorXd z;
    for (int inner = 0; inner <= n; ++inner) {
      solve_passive(z);
      bool feasible = true;
      for (int j = 0; j < n; ++j) {
        if (passive[j] && z[j] <= 0) feasible = false;
      }
      if (feasible) break;
      double alpha = std::numeric_limits<double>::infinity();
      for (int j = 0; j < n; ++j) {
        if (passive[j] && z[j] <= 0) {
          alpha = std::min(alpha, x[j] / (x[j] - z[j]));
        }
      }
      x += alpha * (z - x);
      for (int j = 0; j < n; ++j) {
        if (passive[j] && x[j] <= 1e-15) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
    for (int j = 0; j < n; ++j) x[j] = passive[j] ? z[j] : 0.0;
  }
  return x;
}

}  // namespace siren::sim
