// Binary instance masks and their COCO run-length encoding (RLE).
//
// Two representations:
//  - Bitmap / BitmapView: a row-major H×W array of bytes, nonzero = foreground (what images,
//    overlays and GstAnalytics GRAY8 masks use);
//  - Rle: COCO run lengths in column-major (Fortran) order, starting with a run of zeros, exactly as
//    pycocotools stores them. Its compressed string form (to_string / rle_from_string) is byte for
//    byte the `counts` string pycocotools `mask.encode` writes.
// Area, bounding box, IoU, tube IoU and merge work on runs and never decode to pixels.
// Everything here is plain C++20; invalid arguments throw vmt::Error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmt {

/// Height × width of a mask in pixels.
struct MaskSize {
  std::uint32_t height = 0;
  std::uint32_t width = 0;

  /// Number of pixels, height × width.
  std::uint64_t pixels() const noexcept { return std::uint64_t{height} * width; }
  friend bool operator==(const MaskSize&, const MaskSize&) = default;
};

/// A non-owning view of a row-major binary mask: `data[y * width + x]`, nonzero = foreground.
struct BitmapView {
  std::span<const std::uint8_t> data;
  MaskSize size;
};

/// An owning row-major binary mask holding 0 or 1 per pixel.
class Bitmap {
 public:
  /// An empty 0×0 mask.
  Bitmap() = default;
  /// An all-zero mask of the given size.
  explicit Bitmap(MaskSize size);
  /// Copies `view`, normalising every nonzero byte to 1. Throws if the span does not match the size.
  explicit Bitmap(BitmapView view);

  /// The mask's size.
  MaskSize size() const noexcept { return size_; }
  /// Row-major pixels, 0 or 1.
  std::span<const std::uint8_t> data() const noexcept { return pixels_; }
  /// Row-major pixels, writable; callers must store only 0 or 1.
  std::span<std::uint8_t> data() noexcept { return pixels_; }
  /// Pixel (x, y); no bounds check.
  std::uint8_t at(std::uint32_t x, std::uint32_t y) const noexcept {
    return pixels_[std::size_t{y} * size_.width + x];
  }
  /// Sets pixel (x, y) to `value != 0`; no bounds check.
  void set(std::uint32_t x, std::uint32_t y, bool value) noexcept {
    pixels_[std::size_t{y} * size_.width + x] = value ? 1 : 0;
  }
  /// A view of this mask (valid while the Bitmap lives and is not resized).
  BitmapView view() const noexcept { return {pixels_, size_}; }

  friend bool operator==(const Bitmap&, const Bitmap&) = default;

 private:
  MaskSize size_;
  std::vector<std::uint8_t> pixels_;
};

/// A COCO run-length encoded mask: column-major runs alternating 0s and 1s, starting with 0s.
/// The canonical form (what rle_encode makes and pycocotools writes) has no zero-length run except
/// possibly the first; every function here also accepts non-canonical runs.
struct Rle {
  MaskSize size;
  std::vector<std::uint32_t> counts;

  friend bool operator==(const Rle&, const Rle&) = default;
};

/// Axis-aligned box of a mask's foreground: COCO [x, y, width, height]; all zero for an empty mask.
struct BoundingBox {
  std::uint32_t x = 0;
  std::uint32_t y = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;

  friend bool operator==(const BoundingBox&, const BoundingBox&) = default;
};

/// A binary mask kept as the pixels of its bounding box, with the size of the frame it lies in:
/// what vmt::Engine returns for the frames it emits and what GstVmtFrameMeta stores (a mask is
/// usually a small part of its frame).
struct CroppedMask {
  MaskSize frame;                    ///< the whole frame's size
  BoundingBox box;                   ///< tight box of the foreground; all zero when empty
  std::vector<std::uint8_t> pixels;  ///< box.height rows of box.width bytes, 0 or 1

  /// True when no pixel is set.
  bool empty() const noexcept { return box.width == 0 || box.height == 0; }
  friend bool operator==(const CroppedMask&, const CroppedMask&) = default;
};

/// The tight box of `frame_mask`'s foreground (nonzero bytes) and its pixels (normalised to 0/1).
CroppedMask crop_to_box(BitmapView frame_mask);

/// Number of foreground pixels.
std::uint64_t cropped_area(const CroppedMask& mask) noexcept;

/// The whole-frame canonical COCO RLE of `mask` (what rle_encode gives for the uncropped frame).
/// Throws if the box does not fit the frame or the pixels do not fill the box.
Rle rle_encode(const CroppedMask& mask);

/// Encodes a row-major mask (nonzero = foreground) as canonical COCO RLE.
Rle rle_encode(BitmapView mask);

/// Encodes a column-major (Fortran order, as pycocotools takes) mask as canonical COCO RLE.
Rle rle_encode_column_major(std::span<const std::uint8_t> data, MaskSize size);

/// Decodes an RLE into a row-major Bitmap. Throws if the runs do not sum to height × width.
Bitmap rle_decode(const Rle& rle);

/// Decodes an RLE into caller-owned row-major storage of exactly height × width bytes (0 or 1).
void rle_decode_into(const Rle& rle, std::span<std::uint8_t> out);

/// The compressed `counts` string pycocotools writes for this RLE (LEB128-like, 6 bits a char).
std::string rle_to_string(const Rle& rle);

/// Parses a pycocotools compressed `counts` string. Throws vmt::Error (CorruptData) on characters
/// outside '0'..'o', a truncated number, a negative count, or runs that do not sum to h × w.
Rle rle_from_string(std::string_view counts, MaskSize size);

/// An all-zero RLE of the given size.
Rle rle_empty(MaskSize size);

/// Number of foreground pixels.
std::uint64_t rle_area(const Rle& rle) noexcept;

/// Bounding box of the foreground (same as pycocotools `toBbox` for canonical RLE).
BoundingBox rle_bbox(const Rle& rle) noexcept;

/// Number of pixels that are foreground in both masks. Throws if the sizes differ.
std::uint64_t rle_intersection_area(const Rle& a, const Rle& b);

/// Intersection over union of two masks of the same size; 0 when both are empty.
double rle_iou(const Rle& a, const Rle& b);

/// Tube mask IoU (YouTube-VIS): intersections and unions summed over frames, then divided;
/// 0 when the summed union is 0. `a[i]` and `b[i]` are the masks of frame i (an absent object is
/// an empty RLE). Throws if the tubes have different lengths or a frame's sizes differ.
double rle_tube_iou(std::span<const Rle> a, std::span<const Rle> b);

/// Union (or intersection, if `intersect`) of masks of one size, computed on runs.
/// Throws on an empty list or different sizes.
Rle rle_merge(std::span<const Rle> masks, bool intersect = false);

/// Resizes a row-major H×W probability map to `out_size` and thresholds it: the result is
/// torch `F.interpolate(p[None, None], size, mode='bilinear', align_corners=False) > threshold`.
Bitmap resize_probabilities(std::span<const float> probabilities, MaskSize in_size,
                            MaskSize out_size, float threshold = 0.5f);

/// Erosion radius the HQ-YTVIS Boundary IoU uses: max(1, round(ratio × image diagonal)), with
/// Python's round (half to even).
std::uint32_t boundary_dilation(MaskSize size, double dilation_ratio = 0.02);

/// The boundary band of Boundary IoU as the official HQ-YTVIS evaluator computes it: the mask minus
/// its erosion by a 3×3 square applied boundary_dilation() times, the image padded by one zero pixel
/// (so foreground cut by the image border counts as boundary).
Bitmap boundary_band(BitmapView mask, double dilation_ratio = 0.02);

}  // namespace vmt
