// A read-only view of one video frame in host memory, in the raw formats the element accepts.
#pragma once

#include <array>
#include <cstdint>

namespace vmt {

/// Pixel layouts of ImageView. Packed formats use plane 0 only; I420 has Y, U, V planes (chroma
/// at half width and height); NV12 has Y and an interleaved UV plane. YUV is BT.601 limited range
/// (what videotestsrc and most decoders produce for SD/HD without colorimetry says otherwise).
enum class PixelFormat { RGB, RGBA, RGBx, BGRx, BGRA, I420, NV12 };

struct ImageView {
  PixelFormat format = PixelFormat::RGB;
  int width = 0;
  int height = 0;
  std::array<const std::uint8_t*, 3> planes{};  ///< first byte of each plane's first row
  std::array<int, 3> strides{};                 ///< bytes from one row to the next, per plane
};

}  // namespace vmt
