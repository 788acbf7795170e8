// vmtoverlay's renderer on frames of every format: mask, contour and box pixels equal those of the
// legacy per-pixel renderer (an independent implementation), and captions stay inside their
// rectangles, apart from each other, inside the frame, in any language.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "legacy_renderer.h"
#include "overlay_test_support.h"
#include "palette.h"
#include "renderer.h"

namespace {

const auto* const gst_environment =
    ::testing::AddGlobalTestEnvironment(new vmt::test::GstEnvironment);

using vmt::overlay::DrawReport;
using vmt::overlay::Rect;
using vmt::overlay::Renderer;
using vmt::overlay::Style;
using vmt::test::OwnedScene;
using vmt::test::TestFrame;

const std::vector<std::pair<const char*, GstVideoFormat>> kFormats = {
    {"RGBA", GST_VIDEO_FORMAT_RGBA}, {"BGRA", GST_VIDEO_FORMAT_BGRA}, {"RGBx", GST_VIDEO_FORMAT_RGBx},
    {"BGRx", GST_VIDEO_FORMAT_BGRx}, {"RGB", GST_VIDEO_FORMAT_RGB},   {"I420", GST_VIDEO_FORMAT_I420},
    {"NV12", GST_VIDEO_FORMAT_NV12}};

/// Number of samples where `a` and `b` differ (all components); reports the first few.
int count_differences(const TestFrame& a, const TestFrame& b, const std::string& what) {
  int differences = 0;
  for (guint c = 0; c < a.n_components(); ++c)
    for (int y = 0; y < a.comp_height(c); ++y)
      for (int x = 0; x < a.comp_width(c); ++x)
        if (a.get(c, x, y) != b.get(c, x, y) && ++differences <= 3)
          ADD_FAILURE() << what << ": component " << c << " sample (" << x << ", " << y
                        << ") is " << int(b.get(c, x, y)) << ", expected " << int(a.get(c, x, y));
  return differences;
}

/// The legacy renderer drew box lines past the box when the box was narrower than two lines (its
/// strips were not clipped to the box); the renderer keeps them inside (DrawsBoxesInsideSmallBoxes).
/// Comparisons leave those boxes out.
void keep_boxes_wider_than_lines(OwnedScene& scene, int fw, int fh, unsigned line) {
  const auto& s = scene.scene;
  std::erase_if(scene.scene.instances, [&](const vmt::overlay::Instance& i) {
    const auto map = [](guint v, int frame, guint size) { return static_cast<int>(gint64{v} * frame / size); };
    const int w = map(i.x + i.width, fw, s.width) - map(i.x, fw, s.width);
    const int h = map(i.y + i.height, fh, s.height) - map(i.y, fh, s.height);
    return w < 2 * static_cast<int>(line) || h < 2 * static_cast<int>(line);
  });
}

Style shapes_only() {
  Style style;
  style.labels = false;
  return style;
}

}  // namespace

// Masks, contours and boxes: pixel for pixel what the legacy renderer draws, in every format, for
// scenes at the frame's size and at other sizes (nearest-neighbour mapping), with overlapping
// instances, noise masks (worst case for contour tracing), odd frame sizes and every option.
TEST(OverlayRenderer, ShapesEqualTheLegacyRendererInEveryFormat) {
  std::vector<Style> styles(6, shapes_only());
  styles[1].mask_alpha = 1.0;
  styles[1].line_width = 1;
  styles[2].masks = false;  // contours only
  styles[2].boxes = false;
  styles[3].contours = false;
  styles[3].mask_alpha = 0.3;
  styles[3].line_width = 16;
  styles[4].masks = styles[4].contours = false;  // boxes only
  styles[4].line_width = 3;
  styles[5].colour_by = vmt::overlay::ColourBy::kClass;
  styles[5].min_score = 0.5;
  const std::vector<std::pair<int, int>> frames = {{96, 72}, {97, 71}};
  const std::vector<std::pair<int, int>> scene_scales = {{1, 1}, {1, 2}, {3, 2}};  // scene = frame × a / b
  Renderer renderer;
  for (const auto& [name, format] : kFormats)
    for (const auto& [fw, fh] : frames)
      for (const auto& [num, den] : scene_scales)
        for (std::size_t s = 0; s < styles.size(); ++s) {
          OwnedScene scene;
          vmt::test::fill_random_scene(scene, static_cast<std::uint32_t>(fw * 7 + num * 3 + s),
                                       fw * num / den, fh * num / den, 12);
          if (styles[s].boxes) keep_boxes_wider_than_lines(scene, fw, fh, styles[s].line_width);
          TestFrame legacy(format, fw, fh), current(format, fw, fh);
          vmt::overlay::draw_legacy(legacy.frame(), scene.scene, styles[s]);
          ASSERT_TRUE(renderer.draw(current.frame(), scene.scene, styles[s]).ok);
          const std::string what = std::string(name) + " " + std::to_string(fw) + "x" +
                                   std::to_string(fh) + " scene ×" + std::to_string(num) + "/" +
                                   std::to_string(den) + " style " + std::to_string(s);
          ASSERT_EQ(count_differences(legacy, current, what), 0) << what;
        }
}

// A box narrower or lower than two line widths is filled, and nothing is drawn outside it.
TEST(OverlayRenderer, DrawsBoxesInsideSmallBoxes) {
  OwnedScene scene;
  scene.scene.width = 64;
  scene.scene.height = 48;
  scene.add(1, 1, "", 0.9f, 20, 10, 5, 30, {});
  scene.done();
  Style style = shapes_only();
  style.line_width = 16;
  TestFrame before(GST_VIDEO_FORMAT_RGB, 64, 48), after(GST_VIDEO_FORMAT_RGB, 64, 48);
  vmt::overlay::Renderer renderer;
  ASSERT_TRUE(renderer.draw(after.frame(), scene.scene, style).ok);
  const vmt::overlay::Colour colour = vmt::overlay::colour_for_id(1, false);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      const bool in_box = x >= 20 && x < 25 && y >= 10 && y < 40;
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(after.get(c, x, y), in_box ? colour.comp[c] : before.get(c, x, y))
            << "(" << x << ", " << y << ") component " << c;
    }
}

// Captions draw nothing outside their reported rectangles and the counter; every rectangle is
// inside the frame, apart from every other, and has the caption drawn in it. Crowded frames from
// 128×96 to 1080p, in every format.
TEST(OverlayRenderer, CaptionsStayInsideTheirRectanglesOnCrowdedFrames) {
  const std::vector<std::pair<int, int>> frames = {{128, 96}, {320, 240}, {768, 576}, {1920, 1080}};
  Renderer renderer;
  for (const auto& [name, format] : kFormats)
    for (const auto& [fw, fh] : frames)
      for (int n : {10, 50}) {
        if (fw == 1920 && format != GST_VIDEO_FORMAT_I420 && format != GST_VIDEO_FORMAT_BGRx)
          continue;  // two formats suffice at 1080p; the small frames cover the rest
        OwnedScene scene;
        vmt::test::fill_random_scene(scene, static_cast<std::uint32_t>(fw + n), fw, fh, n);
        TestFrame plain(format, fw, fh), captioned(format, fw, fh);
        Style style;
        style.labels = false;
        ASSERT_TRUE(renderer.draw(plain.frame(), scene.scene, style).ok);
        style.labels = true;
        const DrawReport report = renderer.draw(captioned.frame(), scene.scene, style);
        const std::string what = std::string(name) + " " + std::to_string(fw) + "x" +
                                 std::to_string(fh) + ", " + std::to_string(n) + " instances";
        SCOPED_TRACE(what);
        EXPECT_EQ(report.captions.size() + report.hidden, static_cast<std::size_t>(n));
        EXPECT_EQ(report.counter.has_value(), report.hidden > 0);

        std::vector<Rect> rects;
        for (const auto& caption : report.captions) rects.push_back(caption.rect);
        if (report.counter) rects.push_back(*report.counter);
        for (std::size_t i = 0; i < rects.size(); ++i) {
          EXPECT_TRUE(rects[i].inside(fw, fh)) << "rectangle " << i;
          for (std::size_t j = i + 1; j < rects.size(); ++j)
            EXPECT_FALSE(rects[i].near(rects[j], 1)) << "rectangles " << i << " and " << j;
        }
        std::vector<int> owner(static_cast<std::size_t>(fw) * fh, -1);  // rectangle of each pixel
        for (std::size_t r = 0; r < rects.size(); ++r)
          for (int y = std::max(rects[r].y, 0); y < std::min(rects[r].bottom(), fh); ++y)
            for (int x = std::max(rects[r].x, 0); x < std::min(rects[r].right(), fw); ++x)
              owner[static_cast<std::size_t>(y) * fw + x] = static_cast<int>(r);
        std::vector<int> changed_in(rects.size(), 0);
        int outside = 0;
        for (guint c = 0; c < plain.n_components(); ++c)
          for (int y = 0; y < plain.comp_height(c); ++y)
            for (int x = 0; x < plain.comp_width(c); ++x) {
              if (plain.get(c, x, y) == captioned.get(c, x, y)) continue;
              const int r = owner[static_cast<std::size_t>(y << plain.h_sub(c)) * fw +
                                  (x << plain.w_sub(c))];
              if (r < 0) ++outside; else ++changed_in[r];
            }
        EXPECT_EQ(outside, 0) << "samples changed outside every caption rectangle";
        for (std::size_t r = 0; r < rects.size(); ++r)
          EXPECT_GT(changed_in[r], rects[r].w * rects[r].h / 4) << "rectangle " << r << " not drawn";
        if (HasFailure()) return;
      }
}

// The alpha channel of RGBA and BGRA frames is never written.
TEST(OverlayRenderer, AlphaChannelIsLeftAsItIs) {
  Renderer renderer;
  for (GstVideoFormat format : {GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA}) {
    OwnedScene scene;
    vmt::test::fill_random_scene(scene, 5, 320, 240, 30);
    TestFrame before(format, 320, 240), after(format, 320, 240);
    ASSERT_TRUE(renderer.draw(after.frame(), scene.scene, Style{}).ok);
    for (int y = 0; y < 240; ++y)
      for (int x = 0; x < 320; ++x) ASSERT_EQ(before.get(3, x, y), after.get(3, x, y));
  }
}

// Without a font size, text follows the frame height (height / 40, at least 7 pixels); an
// explicit size wins, and bigger text makes bigger captions.
TEST(OverlayRenderer, FontSizeFollowsTheFrameHeight) {
  Renderer renderer;
  auto first_caption = [&](int fw, int fh, unsigned font_size) {
    OwnedScene scene;
    scene.scene.width = fw;
    scene.scene.height = fh;
    scene.add(1, 1, "car", 0.9f, fw / 4, fh / 2, fw / 4, fh / 4, {});
    scene.done();
    TestFrame frame(GST_VIDEO_FORMAT_RGBA, fw, fh);
    Style style;
    style.font_size = font_size;
    const DrawReport report = renderer.draw(frame.frame(), scene.scene, style);
    EXPECT_EQ(report.captions.size(), 1u);
    return report.captions.empty() ? vmt::overlay::CaptionBox{} : report.captions[0];
  };
  EXPECT_EQ(first_caption(1920, 1080, 0).font_px, 27);
  EXPECT_EQ(first_caption(768, 576, 0).font_px, 14);
  EXPECT_EQ(first_caption(128, 96, 0).font_px, 7);
  EXPECT_EQ(first_caption(640, 480, 20).font_px, 20);
  EXPECT_GT(first_caption(640, 480, 30).rect.h, first_caption(640, 480, 15).rect.h);
  EXPECT_GT(first_caption(1920, 1080, 0).rect.w, first_caption(768, 576, 0).rect.w);
}

// UTF-8 labels are drawn; invalid UTF-8 and control characters neither crash nor warn, and a
// label wider than the frame is cut short with an ellipsis inside the frame.
TEST(OverlayRenderer, AnyLabelIsDrawnInsideTheFrame) {
  struct Counter {
    int warnings = 0;
  } counter;
  const GLogFunc previous = g_log_set_default_handler(
      [](const gchar*, GLogLevelFlags level, const gchar*, gpointer data) {
        if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
          ++static_cast<Counter*>(data)->warnings;
      },
      &counter);
  OwnedScene scene;
  scene.scene.width = 320;
  scene.scene.height = 240;
  scene.add(1, 1, "Fußgänger 歩行者 велосипед", 0.9f, 10, 40, 60, 60, {});
  scene.add(2, 1, "bad \xff\xfe utf-8", 0.8f, 120, 40, 60, 60, {});
  scene.add(3, 1, "two\nlines\ttab", 0.7f, 220, 40, 60, 60, {});
  scene.add(4, 1, std::string(400, 'w'), 0.6f, 10, 160, 60, 60, {});
  scene.done();
  TestFrame frame(GST_VIDEO_FORMAT_I420, 320, 240);
  Renderer renderer;
  const DrawReport report = renderer.draw(frame.frame(), scene.scene, Style{});
  g_log_set_default_handler(previous, nullptr);
  EXPECT_EQ(counter.warnings, 0);
  ASSERT_EQ(report.captions.size(), 4u);
  EXPECT_EQ(report.hidden, 0);
  for (const auto& caption : report.captions) {
    EXPECT_TRUE(caption.rect.inside(320, 240));
    if (caption.instance == 2) {
      EXPECT_LT(caption.rect.h, 2 * report.captions[0].rect.h) << "one line";
    }
    if (caption.instance == 3) {
      EXPECT_GT(caption.rect.w, 300) << "the long label uses the width";
    }
  }
}

// Instances stacked on one spot in a small frame: the best-scoring keep their captions, the
// others are hidden and counted.
TEST(OverlayRenderer, CrowdedSpotHidesTheLowestScores) {
  OwnedScene scene;
  scene.scene.width = 128;
  scene.scene.height = 96;
  for (int i = 0; i < 30; ++i)
    scene.add(i, 1, "car", static_cast<float>((i * 7) % 30) / 30.0f + 0.01f, 40, 30, 40, 30, {});
  scene.done();
  TestFrame frame(GST_VIDEO_FORMAT_NV12, 128, 96);
  Renderer renderer;
  const DrawReport report = renderer.draw(frame.frame(), scene.scene, Style{});
  ASSERT_GT(report.hidden, 0);
  ASSERT_TRUE(report.counter);
  float lowest_placed = 1.0f;
  for (const auto& caption : report.captions)
    lowest_placed = std::min(lowest_placed, scene.scene.instances[caption.instance].score);
  int higher = 0;  // instances scoring above the lowest placed one: all of them placed
  for (const auto& instance : scene.scene.instances) higher += instance.score >= lowest_placed;
  EXPECT_EQ(static_cast<std::size_t>(higher), report.captions.size());
}

// A scene without instances leaves the frame as it was.
TEST(OverlayRenderer, EmptySceneLeavesTheFrameAlone) {
  OwnedScene scene;
  scene.scene.width = 64;
  scene.scene.height = 48;
  for (const auto& [name, format] : kFormats) {
    TestFrame before(format, 64, 48), after(format, 64, 48);
    Renderer renderer;
    ASSERT_TRUE(renderer.draw(after.frame(), scene.scene, Style{}).ok);
    EXPECT_EQ(count_differences(before, after, name), 0) << name;
  }
}
