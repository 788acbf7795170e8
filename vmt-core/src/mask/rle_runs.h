// Internal helpers for building and walking COCO run lengths (not installed).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vmt/mask.h"

namespace vmt {

/// Accumulates (value, length) pieces in column-major order into canonical COCO counts: runs
/// alternate starting with zeros, equal neighbours coalesce, zero-length pieces vanish.
class RunBuilder {
 public:
  /// Adds `length` pixels of `value`.
  void append(bool value, std::uint64_t length);
  /// The value of the run being built.
  bool value() const noexcept { return value_; }
  /// Starts a run of the other value (used by the scanner, which only flips on a change).
  void flip() {
    counts_.push_back(static_cast<std::uint32_t>(count_));
    value_ = !value_;
    count_ = 0;
  }
  /// The finished counts (always at least one entry).
  std::vector<std::uint32_t> finish() &&;

 private:
  std::vector<std::uint32_t> counts_;
  std::uint64_t count_ = 0;
  bool value_ = false;
};

/// Walks runs of a counts array piece by piece, skipping zero-length runs.
class RunCursor {
 public:
  explicit RunCursor(std::span<const std::uint32_t> counts) : counts_(counts) { settle(); }
  /// True when every run has been consumed.
  bool done() const noexcept { return index_ >= counts_.size(); }
  /// Value of the current run (meaningless when done()).
  bool value() const noexcept { return (index_ & 1) != 0; }
  /// Pixels left in the current run.
  std::uint64_t left() const noexcept { return left_; }
  /// Consumes up to `max` pixels of the current run; returns how many, sets `value` to theirs.
  std::uint64_t take(std::uint64_t max, bool& value) {
    value = this->value();
    const std::uint64_t n = left_ < max ? left_ : max;
    left_ -= n;
    if (left_ == 0) {
      ++index_;
      settle();
    }
    return n;
  }

 private:
  void settle() {
    while (index_ < counts_.size() && counts_[index_] == 0) ++index_;
    left_ = index_ < counts_.size() ? counts_[index_] : 0;
  }
  std::span<const std::uint32_t> counts_;
  std::size_t index_ = 0;
  std::uint64_t left_ = 0;
};

}  // namespace vmt
