// The classic and randomised styles' video: a scene of the training shapes behind the
// SyntheticVideo interface. Not for the held-out style, which shares only video.h with them
// (tests/unit/check_synth_heldout_independent.py).
#pragma once

#include <cstdint>
#include <utility>

#include "shapes.h"
#include "video.h"

namespace vmt::synth {

/// A video drawn from a scene of shapes that moves through time (the classic and the randomised
/// styles): `render_frame(scene, frame)` draws one frame, found by argument-dependent lookup in the
/// scene's namespace.
template <typename ShapeScene>
class ShapeSceneVideo final : public SyntheticVideo {
 public:
  explicit ShapeSceneVideo(ShapeScene scene) : scene_(std::move(scene)) {}
  MaskSize size() const override { return scene_.size; }
  std::uint32_t frames() const override { return scene_.frames; }
  std::size_t object_count() const override { return scene_.objects.size(); }
  std::uint32_t category_id(std::size_t object) const override {
    return synth::category_id(scene_.objects.at(object).shape);
  }
  RenderedFrame render(std::uint32_t frame) const override { return render_frame(scene_, frame); }

 private:
  ShapeScene scene_;
};

}  // namespace vmt::synth
