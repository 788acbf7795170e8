// COCO RLE: encode, decode and the pycocotools compressed string form.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "rle_runs.h"
#include "vmt/error.h"

namespace vmt {

namespace {

constexpr std::uint64_t kHighs = 0x8080808080808080ull;

std::uint64_t load_word(const std::uint8_t* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Index of the first byte of `w` (in memory order) flagged by a high bit in `flags`.
unsigned first_flagged_byte(std::uint64_t flags) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<unsigned>(std::countr_zero(flags)) / 8;
  } else {
    return static_cast<unsigned>(std::countl_zero(flags)) / 8;
  }
}

// High bit of each byte set where that byte is nonzero.
std::uint64_t nonzero_flags(std::uint64_t w) { return (((w & ~kHighs) + ~kHighs) | w) & kHighs; }

// The flag bit (high bit) of byte `index` of a word, in memory order.
std::uint64_t flag_of_byte(unsigned index) {
  if constexpr (std::endian::native == std::endian::little) {
    return 0x80ull << (8 * index);
  } else {
    return 0x80ull << (56 - 8 * index);
  }
}

// First index in [i, n) whose byte is nonzero (want_nonzero) or zero (!want_nonzero); n if none.
// Eight bytes at a time: masks are long runs, so most words are skipped whole.
std::size_t find_change(const std::uint8_t* p, std::size_t i, std::size_t n, bool want_nonzero) {
  while (i + 8 <= n) {
    const std::uint64_t w = load_word(p + i);
    std::uint64_t flags;
    if (want_nonzero) {
      // Any set bit marks a nonzero byte; move it to the byte's high bit.
      flags = nonzero_flags(w);
    } else {
      // Exact zero-byte flags (no false positives from borrows).
      flags = ~(((w & ~kHighs) + ~kHighs) | w) & kHighs;
    }
    if (flags != 0) return i + first_flagged_byte(flags);
    i += 8;
  }
  while (i < n && (p[i] != 0) != want_nonzero) ++i;
  return i;
}

// Calls `on_change(y, x)` for every pixel whose foreground state differs from the pixel above,
// in row-major order. Eight bytes per step: most words of a mask row equal the row above.
template <typename OnChange>
void for_each_vertical_change(const std::uint8_t* pixels, std::uint32_t height,
                              std::uint32_t width, OnChange&& on_change) {
  const std::uint32_t words = width / 8;
  for (std::uint32_t y = 1; y < height; ++y) {
    const std::uint8_t* above = pixels + std::size_t{y - 1} * width;
    const std::uint8_t* row = above + width;
    for (std::uint32_t w = 0; w < words; ++w) {
      const std::uint64_t a = load_word(above + 8 * w), b = load_word(row + 8 * w);
      if (a == b) continue;
      std::uint64_t changed = nonzero_flags(a) ^ nonzero_flags(b);
      while (changed != 0) {
        const unsigned byte = first_flagged_byte(changed);
        on_change(y, 8 * w + byte);
        changed &= ~flag_of_byte(byte);
      }
    }
    for (std::uint32_t x = 8 * words; x < width; ++x) {
      if ((above[x] != 0) != (row[x] != 0)) on_change(y, x);
    }
  }
}

// Offsets of each column's change points in a column-sorted array: result[x] .. result[x + 1].
std::vector<std::uint32_t> column_change_offsets(const std::uint8_t* pixels, std::uint32_t height,
                                                 std::uint32_t width) {
  std::vector<std::uint32_t> start(std::size_t{width} + 1, 0);
  for_each_vertical_change(pixels, height, width,
                           [&](std::uint32_t, std::uint32_t x) { ++start[x + 1]; });
  for (std::uint32_t x = 0; x < width; ++x) start[x + 1] += start[x];
  return start;
}

// Appends the runs of a column-major chunk (nonzero = foreground) to `runs`.
void scan_chunk(const std::uint8_t* p, std::size_t n, RunBuilder& runs) {
  std::size_t i = 0;
  while (i < n) {
    const bool value = runs.value();
    const std::size_t j = find_change(p, i, n, !value);
    runs.append(value, j - i);
    if (j == n) break;
    runs.flip();
    i = j;
  }
}

void check_sum(const Rle& rle, ErrorCode code, const char* what) {
  std::uint64_t sum = 0;
  for (std::uint32_t c : rle.counts) sum += c;
  if (sum != rle.size.pixels()) {
    throw Error(code, std::string(what) + ": runs sum to " + std::to_string(sum) + ", mask has " +
                          std::to_string(rle.size.pixels()) + " pixels");
  }
}

}  // namespace

void RunBuilder::append(bool value, std::uint64_t length) {
  if (length == 0) return;
  if (value != value_) {
    counts_.push_back(static_cast<std::uint32_t>(count_));
    value_ = value;
    count_ = 0;
  }
  count_ += length;
}

std::vector<std::uint32_t> RunBuilder::finish() && {
  counts_.push_back(static_cast<std::uint32_t>(count_));
  return std::move(counts_);
}

Rle rle_empty(MaskSize size) {
  return Rle{size, {static_cast<std::uint32_t>(size.pixels())}};
}

Rle rle_encode_column_major(std::span<const std::uint8_t> data, MaskSize size) {
  if (data.size() != size.pixels()) {
    throw Error(ErrorCode::InvalidArgument, "rle_encode: mask data has " +
                                                std::to_string(data.size()) + " bytes, expected " +
                                                std::to_string(size.pixels()));
  }
  RunBuilder runs;
  scan_chunk(data.data(), data.size(), runs);
  return Rle{size, std::move(runs).finish()};
}

Rle rle_encode(BitmapView mask) {
  if (mask.data.size() != mask.size.pixels()) {
    throw Error(ErrorCode::InvalidArgument, "rle_encode: mask data has " +
                                                std::to_string(mask.data.size()) +
                                                " bytes, expected " +
                                                std::to_string(mask.size.pixels()));
  }
  const std::uint32_t height = mask.size.height, width = mask.size.width;
  if (mask.size.pixels() == 0) return Rle{mask.size, {0}};
  // Row-major pixels, column-major runs: instead of transposing, find where each column changes
  // value by comparing every row with the one above (contiguous, eight bytes at a time), sort
  // those change points by column, then walk the columns. Masks change rarely, so this costs
  // about one pass over the pixels.
  const std::uint8_t* pixels = mask.data.data();
  const std::vector<std::uint32_t> column_start =
      column_change_offsets(pixels, height, width);
  std::vector<std::uint32_t> change_rows(column_start.back());
  {
    std::vector<std::uint32_t> cursor(column_start.begin(), column_start.end() - 1);
    for_each_vertical_change(pixels, height, width, [&](std::uint32_t y, std::uint32_t x) {
      change_rows[cursor[x]++] = y;
    });
  }
  RunBuilder runs;
  for (std::uint32_t x = 0; x < width; ++x) {
    bool value = pixels[x] != 0;
    std::uint32_t previous = 0;
    for (std::uint32_t i = column_start[x]; i < column_start[x + 1]; ++i) {
      runs.append(value, change_rows[i] - previous);
      value = !value;
      previous = change_rows[i];
    }
    runs.append(value, height - previous);
  }
  return Rle{mask.size, std::move(runs).finish()};
}

void rle_decode_into(const Rle& rle, std::span<std::uint8_t> out) {
  if (out.size() != rle.size.pixels()) {
    throw Error(ErrorCode::InvalidArgument,
                "rle_decode: output has " + std::to_string(out.size()) + " bytes, mask has " +
                    std::to_string(rle.size.pixels()) + " pixels");
  }
  check_sum(rle, ErrorCode::InvalidArgument, "rle_decode");
  const std::uint64_t height = rle.size.height, width = rle.size.width;
  if (out.empty()) return;
  // Mirror of the encoder: first row from the runs covering each column's top pixel, then each
  // row is the row above with the pixels toggled where a run starts mid-column. That is one
  // memcpy per row plus work per run, instead of a transpose.
  std::vector<std::uint8_t> top(width, 0);
  std::vector<std::uint32_t> toggle_count(height + 1, 0);
  struct Toggle {
    std::uint32_t y, x;
  };
  std::vector<Toggle> toggles;
  std::uint64_t pos = 0;
  bool previous_value = false;
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    const std::uint64_t len = rle.counts[i];
    if (len == 0) continue;
    const bool value = (i & 1) != 0;
    const std::uint64_t end = pos + len;
    if (pos % height != 0 && value != previous_value) {
      toggles.push_back({static_cast<std::uint32_t>(pos % height),
                         static_cast<std::uint32_t>(pos / height)});
      ++toggle_count[pos % height];
    }
    // Columns whose top pixel lies in [pos, end).
    for (std::uint64_t x = (pos + height - 1) / height; x * height < end; ++x) top[x] = value;
    previous_value = value;
    pos = end;
  }
  // Counting sort of the toggles by row (they come out sorted by column).
  std::vector<std::uint32_t> row_start(height + 1, 0);
  for (std::uint64_t y = 0; y < height; ++y) row_start[y + 1] = row_start[y] + toggle_count[y];
  std::vector<std::uint32_t> toggle_x(toggles.size());
  {
    std::vector<std::uint32_t> cursor(row_start.begin(), row_start.end() - 1);
    for (const Toggle& t : toggles) toggle_x[cursor[t.y]++] = t.x;
  }
  std::uint8_t* row = out.data();
  std::memcpy(row, top.data(), width);
  for (std::uint64_t y = 1; y < height; ++y) {
    std::uint8_t* next = row + width;
    std::memcpy(next, row, width);
    for (std::uint32_t i = row_start[y]; i < row_start[y + 1]; ++i) next[toggle_x[i]] ^= 1;
    row = next;
  }
}

Bitmap rle_decode(const Rle& rle) {
  Bitmap out(rle.size);
  rle_decode_into(rle, out.data());
  return out;
}

std::string rle_to_string(const Rle& rle) {
  std::string s;
  s.reserve(rle.counts.size() * 2);
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    std::int64_t x = rle.counts[i];
    // pycocotools stores counts from the fourth on as a difference to the count two before
    // (`i > 2`, not `i >= 2`: kept for byte-exact strings).
    if (i > 2) x -= static_cast<std::int64_t>(rle.counts[i - 2]);
    bool more = true;
    while (more) {
      char c = static_cast<char>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative differences sign-extend
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

Rle rle_from_string(std::string_view counts, MaskSize size) {
  Rle rle{size, {}};
  std::size_t p = 0;
  while (p < counts.size()) {
    std::int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= counts.size()) {
        throw Error(ErrorCode::CorruptData, "RLE string: truncated number at the end");
      }
      const int c = static_cast<unsigned char>(counts[p]) - 48;
      if (c < 0 || c > 63) {
        throw Error(ErrorCode::CorruptData, "RLE string: invalid character at offset " +
                                                std::to_string(p));
      }
      if (k >= 12) throw Error(ErrorCode::CorruptData, "RLE string: number too long");
      x |= static_cast<std::int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= static_cast<std::int64_t>(-1) * (std::int64_t{1} << (5 * k));
    }
    const std::size_t m = rle.counts.size();
    if (m > 2) x += rle.counts[m - 2];
    if (x < 0 || x > 0xffffffffll) {
      throw Error(ErrorCode::CorruptData, "RLE string: count out of range at index " +
                                              std::to_string(m));
    }
    rle.counts.push_back(static_cast<std::uint32_t>(x));
  }
  check_sum(rle, ErrorCode::CorruptData, "RLE string");
  return rle;
}

}  // namespace vmt
