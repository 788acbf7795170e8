// Golden images of vmtoverlay's renderer on fixed metadata (tests/fixtures/overlay/):
//   golden-shapes.png    masks, contours and boxes: compared exactly, every pixel;
//   golden-full.png      the same with captions (DejaVu Sans, installed by tools/setup.sh);
//   golden-captions.txt  the caption and counter rectangles of golden-full.png.
// Captions are compared by their rectangles, each side within max(2 px, 10 %) of the golden one,
// so FreeType and hinting differences do not matter; every pixel outside the captions is exact.
//
// After an intended change of the drawing, rewrite the goldens and look at them:
//   VMT_UPDATE_GOLDENS=1 build/tests/elements/overlay-renderer-tests --gtest_filter='OverlayGolden.*'
#include <cairo.h>
#include <gtest/gtest.h>
#include <pango/pangocairo.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "overlay_test_support.h"
#include "renderer.h"

namespace {

using vmt::overlay::DrawReport;
using vmt::overlay::Rect;
using vmt::overlay::Style;
using vmt::test::MaskKind;
using vmt::test::OwnedScene;
using vmt::test::TestFrame;

constexpr int kWidth = 320, kHeight = 240;
constexpr const char* kFont = "DejaVu Sans";

std::string fixture(const std::string& name) {
  const char* root = g_getenv("VMT_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/tests/fixtures/overlay/" + name;
}

bool updating() { return g_getenv("VMT_UPDATE_GOLDENS") != nullptr; }

/// The fixed scene: single instances by the frame's edges and corners, masks of every kind,
/// overlaps, non-ASCII labels, and a crowded spot where captions shrink, move and hide.
void golden_scene(OwnedScene& out) {
  std::mt19937 rng(2024);
  out.scene.width = kWidth;
  out.scene.height = kHeight;
  auto mask = [&](MaskKind kind, guint w, guint h) { return vmt::test::make_test_mask(kind, w, h, rng); };
  out.add(1, 2, "pedestrian", 0.97f, 20, 60, 50, 120, mask(MaskKind::kEllipse, 50, 120));
  out.add(2, 1, "car", 0.91f, 90, 120, 110, 70, mask(MaskKind::kRing, 110, 70));
  out.add(3, 2, "piéton", 0.55f, 210, 30, 60, 60, mask(MaskKind::kNoise, 60, 60));
  out.add(4, 2, "Fußgänger", 0.80f, 150, 0, 60, 40, mask(MaskKind::kFull, 60, 40));
  out.add(5, 3, "велосипед", 0.70f, 280, 150, 40, 60, mask(MaskKind::kEllipse, 40, 60));
  out.add(6, 4, "truck", 0.60f, 10, 200, 120, 40, {});
  for (int i = 0; i < 14; ++i)  // the crowd
    out.add(10 + i, 5, i % 2 ? "αυτοκίνητο" : "bike", 0.10f + 0.025f * i, 200 + (i % 4) * 6,
            110 + (i / 4) * 5, 40, 40, mask(MaskKind::kEllipse, 40, 40));
  out.done();
}

/// An opaque RGBA frame with the tests' background pattern.
void make_background(TestFrame& frame) {
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) *frame.at(3, x, y) = 255;
}

void write_png(TestFrame& frame, const std::string& path) {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, kWidth, kHeight);
  auto* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x)
      reinterpret_cast<guint32*>(data + y * stride)[x] =
          frame.get(0, x, y) << 16 | frame.get(1, x, y) << 8 | frame.get(2, x, y);
  cairo_surface_mark_dirty(surface);
  EXPECT_EQ(cairo_surface_write_to_png(surface, path.c_str()), CAIRO_STATUS_SUCCESS) << path;
  cairo_surface_destroy(surface);
}

/// The golden image's pixels as 0xRRGGBB, or empty when it cannot be read.
std::vector<guint32> read_png(const std::string& path) {
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  std::vector<guint32> pixels;
  if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS &&
      cairo_image_surface_get_width(surface) == kWidth &&
      cairo_image_surface_get_height(surface) == kHeight) {
    const auto* data = cairo_image_surface_get_data(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x)
        pixels.push_back(reinterpret_cast<const guint32*>(data + y * stride)[x] & 0xffffff);
  }
  cairo_surface_destroy(surface);
  return pixels;
}

guint32 rgb(const TestFrame& frame, int x, int y) {
  return frame.get(0, x, y) << 16 | frame.get(1, x, y) << 8 | frame.get(2, x, y);
}

/// Caption rectangles by instance, the counter (instance -1) and the hidden count.
struct Captions {
  std::map<int, Rect> rects;
  int hidden = 0;
};

Captions captions_of(const DrawReport& report) {
  Captions captions;
  for (const auto& caption : report.captions) captions.rects[static_cast<int>(caption.instance)] = caption.rect;
  if (report.counter) captions.rects[-1] = *report.counter;
  captions.hidden = report.hidden;
  return captions;
}

void write_captions(const Captions& captions, const std::string& path) {
  std::ofstream out(path);
  out << "# instance x y w h of each caption of golden-full.png (instance -1: the counter)\n";
  for (const auto& [instance, r] : captions.rects)
    out << instance << ' ' << r.x << ' ' << r.y << ' ' << r.w << ' ' << r.h << '\n';
  out << "hidden " << captions.hidden << '\n';
}

Captions read_captions(const std::string& path) {
  Captions captions;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first == "hidden") {
      fields >> captions.hidden;
      continue;
    }
    Rect r;
    fields >> r.x >> r.y >> r.w >> r.h;
    captions.rects[std::stoi(first)] = r;
  }
  return captions;
}

/// The family fontconfig gives for kFont: kFont itself when fonts-dejavu-core is installed.
std::string resolved_family() {
  PangoFontMap* map = pango_cairo_font_map_new();
  PangoContext* context = pango_font_map_create_context(map);
  PangoFontDescription* wanted = pango_font_description_from_string(kFont);
  PangoFont* font = pango_font_map_load_font(map, context, wanted);
  std::string family;
  if (font) {
    PangoFontDescription* got = pango_font_describe(font);
    family = pango_font_description_get_family(got) ? pango_font_description_get_family(got) : "";
    pango_font_description_free(got);
    g_object_unref(font);
  }
  pango_font_description_free(wanted);
  g_object_unref(context);
  g_object_unref(map);
  return family;
}

Style golden_style(bool labels) {
  Style style;
  style.labels = labels;
  style.font_family = kFont;
  style.font_size = 10;
  return style;
}

}  // namespace

// Masks, contours and boxes of the fixed scene equal golden-shapes.png, every pixel.
TEST(OverlayGolden, ShapesMatchExactly) {
  OwnedScene scene;
  golden_scene(scene);
  TestFrame frame(GST_VIDEO_FORMAT_RGBA, kWidth, kHeight);
  make_background(frame);
  vmt::overlay::Renderer renderer;
  ASSERT_TRUE(renderer.draw(frame.frame(), scene.scene, golden_style(false)).ok);
  if (updating()) write_png(frame, fixture("golden-shapes.png"));
  const std::vector<guint32> golden = read_png(fixture("golden-shapes.png"));
  ASSERT_EQ(golden.size(), static_cast<std::size_t>(kWidth * kHeight)) << fixture("golden-shapes.png");
  int differences = 0;
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x)
      if (rgb(frame, x, y) != golden[y * kWidth + x] && ++differences <= 5)
        ADD_FAILURE() << "pixel (" << x << ", " << y << ")";
  EXPECT_EQ(differences, 0);
}

// With captions: the same captions (same instances, same hidden count) in rectangles within
// tolerance of golden-captions.txt, and every pixel outside the captions equal to golden-full.png.
TEST(OverlayGolden, CaptionsMatchByRectangle) {
  const std::string family = resolved_family();
  if (family != kFont)
    GTEST_SKIP() << "fontconfig has no \"" << kFont << "\" (got \"" << family
                 << "\"): install fonts-dejavu-core (tools/setup.sh does)";
  OwnedScene scene;
  golden_scene(scene);
  TestFrame frame(GST_VIDEO_FORMAT_RGBA, kWidth, kHeight);
  make_background(frame);
  vmt::overlay::Renderer renderer;
  const DrawReport report = renderer.draw(frame.frame(), scene.scene, golden_style(true));
  ASSERT_TRUE(report.ok);
  const Captions current = captions_of(report);
  if (updating()) {
    write_png(frame, fixture("golden-full.png"));
    write_captions(current, fixture("golden-captions.txt"));
  }
  const Captions golden = read_captions(fixture("golden-captions.txt"));
  const std::vector<guint32> golden_full = read_png(fixture("golden-full.png"));
  const std::vector<guint32> golden_shapes = read_png(fixture("golden-shapes.png"));
  ASSERT_EQ(golden_full.size(), static_cast<std::size_t>(kWidth * kHeight));
  ASSERT_EQ(golden_shapes.size(), golden_full.size());
  ASSERT_FALSE(golden.rects.empty()) << fixture("golden-captions.txt");
  EXPECT_GT(golden.hidden, 0) << "the golden scene is meant to be crowded";

  EXPECT_EQ(current.hidden, golden.hidden);
  ASSERT_EQ(current.rects.size(), golden.rects.size());
  for (const auto& [instance, want] : golden.rects) {
    ASSERT_TRUE(current.rects.count(instance)) << "no caption for instance " << instance;
    const Rect& got = current.rects.at(instance);
    const int tol_x = std::max(2, want.w / 10), tol_y = std::max(2, want.h / 10);
    EXPECT_NEAR(got.x, want.x, tol_x) << "instance " << instance;
    EXPECT_NEAR(got.right(), want.right(), tol_x) << "instance " << instance;
    EXPECT_NEAR(got.y, want.y, tol_y) << "instance " << instance;
    EXPECT_NEAR(got.bottom(), want.bottom(), tol_y) << "instance " << instance;
  }

  auto in_any = [](const Captions& captions, int x, int y) {
    for (const auto& [instance, r] : captions.rects)
      if (x >= r.x && x < r.right() && y >= r.y && y < r.bottom()) return true;
    return false;
  };
  int differences = 0, fixture_differences = 0;
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      const bool caption = in_any(golden, x, y) || in_any(current, x, y);
      if (!caption && rgb(frame, x, y) != golden_full[y * kWidth + x] && ++differences <= 5)
        ADD_FAILURE() << "pixel (" << x << ", " << y << ") outside the captions";
      // The fixtures agree with each other: golden-full is golden-shapes plus its captions.
      if (!in_any(golden, x, y) && golden_full[y * kWidth + x] != golden_shapes[y * kWidth + x])
        ++fixture_differences;
    }
  EXPECT_EQ(differences, 0);
  EXPECT_EQ(fixture_differences, 0);
}
