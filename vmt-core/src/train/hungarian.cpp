#include "hungarian.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "vmt/error.h"

namespace vmt::train {

namespace {

/// Solves n ≤ m (a[i][j] = cost(i, j), 1-based in the classic formulation). Returns for each row
/// its column.
std::vector<std::int64_t> solve_rows_le_cols(std::span<const double> a, std::int64_t n,
                                             std::int64_t m) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<std::int64_t> p(m + 1, 0), way(m + 1, 0);  // p[j]: row matched to column j (1-based)
  for (std::int64_t i = 1; i <= n; ++i) {
    p[0] = i;
    std::int64_t j0 = 0;
    std::vector<double> minv(m + 1, kInf);
    std::vector<char> used(m + 1, 0);
    do {  // grow the alternating tree until a free column is reached
      used[j0] = 1;
      const std::int64_t i0 = p[j0];
      double delta = kInf;
      std::int64_t j1 = 0;
      for (std::int64_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (std::int64_t j = 0; j <= m; ++j) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else { minv[j] -= delta; }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {  // augment along the path
      const std::int64_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<std::int64_t> col_of_row(n, -1);
  for (std::int64_t j = 1; j <= m; ++j) {
    if (p[j] != 0) col_of_row[p[j] - 1] = j - 1;
  }
  return col_of_row;
}

}  // namespace

std::vector<std::pair<std::int64_t, std::int64_t>> linear_sum_assignment(
    std::span<const double> cost, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0 || static_cast<std::int64_t>(cost.size()) != rows * cols) {
    throw Error(ErrorCode::InvalidArgument,
                "linear_sum_assignment: cost has " + std::to_string(cost.size()) +
                    " values, expected " + std::to_string(rows) + " x " + std::to_string(cols));
  }
  if (std::any_of(cost.begin(), cost.end(), [](double c) { return !std::isfinite(c); })) {
    throw Error(ErrorCode::InvalidArgument, "linear_sum_assignment: non-finite cost");
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  if (rows == 0 || cols == 0) return pairs;
  if (rows <= cols) {
    const auto col = solve_rows_le_cols(cost, rows, cols);
    for (std::int64_t r = 0; r < rows; ++r) pairs.emplace_back(r, col[r]);
    return pairs;
  }
  std::vector<double> transposed(cost.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) transposed[c * rows + r] = cost[r * cols + c];
  }
  const auto row = solve_rows_le_cols(transposed, cols, rows);
  for (std::int64_t c = 0; c < cols; ++c) pairs.emplace_back(row[c], c);
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

}  // namespace vmt::train
