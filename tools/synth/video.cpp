#include "video.h"

#include "heldout/heldout_video.h"
#include "randomised/randomised_video.h"
#include "scene.h"
#include "shape_scene_video.h"
#include "shapes.h"
#include "vmt/error.h"

namespace vmt::synth {

std::string_view style_name(Style style) {
  switch (style) {
    case Style::classic: return "classic";
    case Style::randomised: return "randomised";
    case Style::heldout: return "heldout";
  }
  return "unknown";
}

std::optional<Style> parse_style(std::string_view name) {
  for (const Style style : {Style::classic, Style::randomised, Style::heldout})
    if (name == style_name(style)) return style;
  return std::nullopt;
}

std::vector<Category> style_categories(Style style) {
  if (style == Style::heldout) return heldout::categories();
  // classic and randomised annotate the same six shape classes (randomised draws their looks
  // independently of the class, so a model must tell them by outline alone).
  std::vector<Category> categories;
  for (const ShapeClass shape : kShapeClasses)
    categories.push_back({synth::category_id(shape), std::string(shape_class_name(shape))});
  return categories;
}

std::unique_ptr<SyntheticVideo> make_video(const SceneOptions& options, std::uint64_t seed) {
  switch (options.style) {
    case Style::classic: return std::make_unique<ShapeSceneVideo<Scene>>(generate_scene(options, seed));
    case Style::randomised: return randomised::make_video(options, seed);
    case Style::heldout: return heldout::make_video(options, seed);
  }
  throw Error(ErrorCode::InvalidArgument, "unknown synthetic video style");
}

}  // namespace vmt::synth
