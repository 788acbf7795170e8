#include "scene.h"

namespace vmt::overlay {

std::string caption_text(const Instance& instance) {
  char score[16];
  g_snprintf(score, sizeof score, "%.2f", instance.score);
  const std::string label =
      instance.label ? std::string(instance.label) : "class" + std::to_string(instance.class_id);
  return label + " " + std::to_string(instance.track_id) + " " + score;
}

}  // namespace vmt::overlay
