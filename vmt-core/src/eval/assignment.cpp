// Minimum-cost assignment (Hungarian method with potentials, O(n² m)), as scipy's
// linear_sum_assignment for rectangular matrices.
#include <limits>
#include <vector>

#include "vmt/error.h"
#include "vmt/eval.h"

namespace vmt::eval {
namespace {

/// Rows ≤ columns: each row gets a distinct column. `at(r, c)` reads the cost.
template <typename Cost>
std::vector<int> assign_rows(std::size_t n, std::size_t m, Cost at) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<std::size_t> p(m + 1, 0), way(m + 1, 0);   // p[j]: row (1-based) on column j
  for (std::size_t i = 1; i <= n; ++i) {
    p[0] = i;
    std::size_t j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {
      used[j0] = 1;
      const std::size_t i0 = p[j0];
      double delta = inf;
      std::size_t j1 = 0;
      for (std::size_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = at(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (std::size_t j = 0; j <= m; ++j) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const std::size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> row_to_col(n, -1);
  for (std::size_t j = 1; j <= m; ++j)
    if (p[j] != 0) row_to_col[p[j] - 1] = static_cast<int>(j - 1);
  return row_to_col;
}

}  // namespace

std::vector<int> linear_sum_assignment(std::span<const double> cost, std::size_t rows,
                                       std::size_t cols) {
  if (cost.size() != rows * cols)
    throw Error(ErrorCode::InvalidArgument, "linear_sum_assignment: matrix size mismatch");
  if (rows == 0 || cols == 0) return std::vector<int>(rows, -1);
  if (rows <= cols)
    return assign_rows(rows, cols, [&](std::size_t r, std::size_t c) { return cost[r * cols + c]; });
  const auto col_to_row =
      assign_rows(cols, rows, [&](std::size_t r, std::size_t c) { return cost[c * cols + r]; });
  std::vector<int> row_to_col(rows, -1);
  for (std::size_t c = 0; c < cols; ++c)
    if (col_to_row[c] >= 0) row_to_col[static_cast<std::size_t>(col_to_row[c])] = static_cast<int>(c);
  return row_to_col;
}

}  // namespace vmt::eval
