// What every style of synthetic video offers the writer: its size and length, its annotated
// objects and their categories, and each frame as colours plus a label map (docs/synthetic-data.md).
//
// Three styles sit behind this interface, each in its own sources:
//   classic     scene.{h,cpp}, shapes, texture: the original textured shapes (class = colour + pattern)
//   randomised  randomised/: domain-randomised training data (appearance independent of class)
//   heldout     heldout/: an independent generator for evaluation only (its own shapes, looks,
//               motions and rasteriser; it shares nothing with the other two but this interface,
//               Random and the writer)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmt/mask.h"

namespace vmt::synth {

/// The generator styles.
enum class Style : std::uint8_t { classic, randomised, heldout };

/// "classic", "randomised", "heldout".
std::string_view style_name(Style style);

/// The style named `name`, or nullopt.
std::optional<Style> parse_style(std::string_view name);

/// A YouTube-VIS category.
struct Category {
  std::uint32_t id = 0;  ///< 1-based
  std::string name;
};

/// The categories a style annotates, in id order (ids 1..N).
std::vector<Category> style_categories(Style style);

/// Range of the shorter frame side when a style draws each video's frame size itself.
struct ShortSideRange {
  std::uint32_t min = 180;
  std::uint32_t max = 360;
};

/// What to generate (shared by every style; a style ignores what it does not use).
struct SceneOptions {
  Style style = Style::classic;
  MaskSize size{360, 640};
  /// randomised only: when set, each video draws its frame size (an aspect ratio of real videos,
  /// landscape or portrait, with the shorter side in this range) and `size` is ignored.
  std::optional<ShortSideRange> random_size;
  std::uint32_t frames = 36;
  std::uint32_t min_objects = 2;  ///< objects on screen at once (lanes), at least
  std::uint32_t max_objects = 5;  ///< and at most
  std::uint32_t noise = 3;        ///< classic only: per-pixel noise, uniform in ±noise 8-bit levels
};

/// A rendered frame: the label map and the colours painted from it.
struct RenderedFrame {
  MaskSize size;
  /// Row-major; 0 = background, k in 1..object_count() = annotated object k − 1, larger values are
  /// opaque things that are no object of any class (distractors): they hide what is behind them.
  std::vector<std::uint16_t> labels;
  std::vector<std::uint8_t> bgr;  ///< row-major, 3 bytes a pixel, B G R (OpenCV order)
};

/// One generated video.
class SyntheticVideo {
 public:
  virtual ~SyntheticVideo() = default;

  virtual MaskSize size() const = 0;
  virtual std::uint32_t frames() const = 0;
  /// Annotated objects (labels 1..object_count()).
  virtual std::size_t object_count() const = 0;
  /// The category id of object `object` (0-based).
  virtual std::uint32_t category_id(std::size_t object) const = 0;
  /// Renders frame `frame` (any order; the same frame always gives the same bytes).
  virtual RenderedFrame render(std::uint32_t frame) const = 0;
};

/// The video of `options.style` seeded by `seed` (throws vmt::Error(InvalidArgument) for bad options).
std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed);

}  // namespace vmt::synth
