// The linear sum assignment problem (what scipy.optimize.linear_sum_assignment solves for the
// official HungarianMatcher), by the shortest-augmenting-path (Jonker–Volgenant style) Hungarian
// algorithm with potentials, O(n² m). Plain C++; internal to vmt-core.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vmt::train {

/// A minimum-cost assignment of a rows × cols cost matrix (row-major `cost`, finite values):
/// min(rows, cols) pairs (row, col), each row and each column used at most once, sorted by row
/// (as scipy returns them). Throws vmt::Error(InvalidArgument) when cost.size() != rows × cols
/// or a value is not finite.
std::vector<std::pair<std::int64_t, std::int64_t>> linear_sum_assignment(
    std::span<const double> cost, std::int64_t rows, std::int64_t cols);

}  // namespace vmt::train
