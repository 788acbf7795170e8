#include "heldout/surfaces.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::heldout {
namespace {

constexpr double kTau = 2.0 * std::numbers::pi;

cv::Vec3b rgb(int r, int g, int b) {
  return {static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(r)};
}

cv::Vec3b mix(const cv::Vec3b& a, const cv::Vec3b& b, double t) {
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c)
    out[c] = static_cast<std::uint8_t>(std::clamp(std::lround(a[c] + (b[c] - a[c]) * t), 0L, 255L));
  return out;
}

cv::Vec3b scaled(const cv::Vec3b& a, double factor) {
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c)
    out[c] = static_cast<std::uint8_t>(std::clamp(std::lround(a[c] * factor), 0L, 255L));
  return out;
}

cv::Vec3b jittered(const cv::Vec3b& a, int amount, Random& random) {
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c)
    out[c] = static_cast<std::uint8_t>(std::clamp<std::int64_t>(a[c] + random.uniform_int(-amount, amount), 0, 255));
  return out;
}

const cv::Vec3b& pick(const Palette& palette, Random& random) {
  return palette.colours[static_cast<std::size_t>(random.uniform_int(0, static_cast<std::int64_t>(palette.colours.size()) - 1))];
}

int distance(const cv::Vec3b& a, const cv::Vec3b& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

/// A palette colour clearly different from `avoid` (or a light/dark version of it).
cv::Vec3b pick_other(const Palette& palette, const cv::Vec3b& avoid, Random& random) {
  for (int tries = 0; tries < 16; ++tries) {
    const cv::Vec3b& c = pick(palette, random);
    if (distance(c, avoid) > 60) return c;
  }
  return mix(avoid, avoid[0] + avoid[1] + avoid[2] > 382 ? rgb(0, 0, 0) : rgb(255, 255, 255), 0.7);
}

double fract(double x) { return x - std::floor(x); }

std::uint64_t cell_hash(std::uint64_t seed, std::int64_t x, std::int64_t y) {
  return mix64(seed ^ mix64(static_cast<std::uint64_t>(x) * 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(y)));
}

std::size_t nearest(const std::vector<cv::Point2d>& sites, cv::Point2d p) {
  std::size_t best = 0;
  double best_distance = 1e300;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const double d = (sites[i].x - p.x) * (sites[i].x - p.x) + (sites[i].y - p.y) * (sites[i].y - p.y);
    if (d < best_distance) {
      best_distance = d;
      best = i;
    }
  }
  return best;
}

}  // namespace

Palette random_palette(Random& random) {
  static const std::array<Palette, 6> kPalettes = {{
      {"pastel", {rgb(244, 164, 164), rgb(164, 206, 244), rgb(186, 244, 164), rgb(244, 226, 164),
                  rgb(214, 164, 244), rgb(164, 244, 226), rgb(250, 250, 245)}},
      {"primary", {rgb(220, 30, 30), rgb(30, 60, 220), rgb(240, 200, 20), rgb(20, 160, 60),
                   rgb(250, 250, 250), rgb(20, 20, 20)}},
      {"earth", {rgb(120, 72, 40), rgb(170, 130, 80), rgb(90, 110, 60), rgb(200, 180, 140),
                 rgb(60, 50, 40), rgb(150, 60, 40), rgb(225, 215, 190)}},
      {"neon", {rgb(255, 20, 147), rgb(0, 255, 127), rgb(0, 191, 255), rgb(255, 215, 0),
                rgb(138, 43, 226), rgb(255, 69, 0), rgb(15, 15, 30)}},
      {"greys", {rgb(40, 40, 40), rgb(90, 90, 90), rgb(150, 150, 150), rgb(210, 210, 210),
                 rgb(230, 60, 40), rgb(40, 120, 230)}},
      {"ocean", {rgb(10, 40, 80), rgb(20, 90, 140), rgb(60, 160, 190), rgb(140, 210, 220),
                 rgb(240, 240, 220), rgb(250, 140, 90)}},
  }};
  return kPalettes[static_cast<std::size_t>(random.uniform_int(0, kPalettes.size() - 1))];
}

std::string_view finish_name(Finish finish) {
  switch (finish) {
    case Finish::flat: return "flat";
    case Finish::two_tone: return "two_tone";
    case Finish::rings: return "rings";
    case Finish::speckles: return "speckles";
    case Finish::shaded: return "shaded";
    case Finish::cells: return "cells";
    case Finish::wavy: return "wavy";
  }
  return "unknown";
}

Surface random_surface(const Palette& palette, const cv::Vec3b& avoid, Random& random) {
  Surface s;
  // Plain figures are what the issue's own test videos showed: a third of them.
  s.finish = random.chance(0.35) ? Finish::flat
                                 : kFinishes[static_cast<std::size_t>(random.uniform_int(1, kFinishes.size() - 1))];
  s.first = jittered(pick_other(palette, avoid, random), 12, random);
  s.second = jittered(pick_other(palette, s.first, random), 12, random);
  s.scale = random.uniform(2.0, 6.0);
  const double a = random.uniform(0.0, kTau);
  s.axis = {std::cos(a), std::sin(a)};
  s.offset = random.uniform(-0.3, 0.3);
  if (s.finish == Finish::cells) {
    const auto count = random.uniform_int(5, 12);
    for (std::int64_t i = 0; i < count; ++i) {
      s.sites.emplace_back(random.uniform(-1.0, 1.0), random.uniform(-1.0, 1.0));
      s.site_colours.push_back(mix(s.first, s.second, random.uniform01()));
    }
  }
  s.seed = random.next_u64();
  return s;
}

cv::Vec3b surface_colour(const Surface& s, cv::Point2d p) {
  switch (s.finish) {
    case Finish::flat: return s.first;
    case Finish::two_tone: return p.x * s.axis.x + p.y * s.axis.y > s.offset ? s.first : s.second;
    case Finish::rings: {
      const double r = std::hypot(p.x - 0.2 * s.offset, p.y + 0.2 * s.offset);
      return (static_cast<std::int64_t>(std::floor(r * s.scale)) % 2 == 0) ? s.first : s.second;
    }
    case Finish::speckles: {
      const double cell = 1.0 / (s.scale * 6.0);
      const auto cx = static_cast<std::int64_t>(std::floor(p.x / cell)), cy = static_cast<std::int64_t>(std::floor(p.y / cell));
      return (cell_hash(s.seed, cx, cy) % 100) < 18 ? s.second : s.first;
    }
    case Finish::shaded: {
      const double z = std::sqrt(std::max(0.0, 1.0 - p.x * p.x - p.y * p.y));
      const double lx = -0.45 * s.axis.x, ly = -0.45 * s.axis.y, lz = 0.77;  // light from one side, above
      const double diffuse = std::max(0.0, p.x * lx + p.y * ly + z * lz);
      const double highlight = std::pow(diffuse, 24.0);
      return mix(scaled(s.first, 0.35 + 0.75 * diffuse), rgb(255, 255, 255), 0.6 * highlight);
    }
    case Finish::cells: return s.site_colours[nearest(s.sites, p)];
    case Finish::wavy: {
      const double u = p.x * s.axis.x + p.y * s.axis.y, v = -p.x * s.axis.y + p.y * s.axis.x;
      return mix(s.first, s.second, 0.5 + 0.5 * std::sin(kTau * (u * s.scale * 0.5 + 0.3 * std::sin(kTau * v))));
    }
  }
  return s.first;
}

std::string_view backdrop_name(Backdrop backdrop) {
  switch (backdrop) {
    case Backdrop::plain: return "plain";
    case Backdrop::gradient: return "gradient";
    case Backdrop::mosaic: return "mosaic";
    case Backdrop::plasma: return "plasma";
    case Backdrop::bricks: return "bricks";
    case Backdrop::wood: return "wood";
  }
  return "unknown";
}

BackdropImage random_backdrop(cv::Size size, const Palette& palette, Random& random) {
  const double pick_kind = random.uniform01();
  // plain and gradient a quarter each (as in the test videos), the others an eighth.
  const Backdrop kind = pick_kind < 0.25   ? Backdrop::plain
                        : pick_kind < 0.5  ? Backdrop::gradient
                        : pick_kind < 0.625 ? Backdrop::mosaic
                        : pick_kind < 0.75 ? Backdrop::plasma
                        : pick_kind < 0.875 ? Backdrop::bricks
                                            : Backdrop::wood;
  const cv::Vec3b a = pick(palette, random), b = pick_other(palette, a, random);
  cv::Vec3b main = a;
  cv::Mat3b out(size, a);
  switch (kind) {
    case Backdrop::plain: break;
    case Backdrop::gradient: {
      const int direction = static_cast<int>(random.uniform_int(0, 2));  // vertical, horizontal, diagonal
      for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) {
          const double t = direction == 0 ? static_cast<double>(y) / size.height
                           : direction == 1 ? static_cast<double>(x) / size.width
                                            : 0.5 * (static_cast<double>(x) / size.width + static_cast<double>(y) / size.height);
          out(y, x) = mix(a, b, t);
        }
      main = mix(a, b, 0.5);
      break;
    }
    case Backdrop::mosaic: {
      std::vector<cv::Point2d> sites;
      std::vector<cv::Vec3b> colours;
      const auto count = random.uniform_int(20, 60);
      for (std::int64_t i = 0; i < count; ++i) {
        sites.emplace_back(random.uniform(0.0, size.width), random.uniform(0.0, size.height));
        colours.push_back(jittered(random.chance(0.7) ? a : b, 18, random));
      }
      for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) out(y, x) = colours[nearest(sites, {x + 0.5, y + 0.5})];
      break;
    }
    case Backdrop::plasma: {
      double fx[3], fy[3], ph[3];
      for (int i = 0; i < 3; ++i) {
        fx[i] = random.uniform(-0.04, 0.04);
        fy[i] = random.uniform(-0.04, 0.04);
        ph[i] = random.uniform(0.0, kTau);
      }
      for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) {
          double v = 0.0;
          for (int i = 0; i < 3; ++i) v += std::sin(fx[i] * x + fy[i] * y + ph[i]);
          out(y, x) = mix(a, b, 0.5 + v / 6.0);
        }
      main = mix(a, b, 0.5);
      break;
    }
    case Backdrop::bricks: {
      const int brick_h = static_cast<int>(random.uniform_int(12, 40));
      const int brick_w = static_cast<int>(brick_h * random.uniform(1.8, 3.0));
      const int mortar = static_cast<int>(random.uniform_int(1, 3));
      const std::uint64_t seed = random.next_u64();
      for (int y = 0; y < size.height; ++y) {
        const int row = y / brick_h, shift = (row % 2) * brick_w / 2;
        for (int x = 0; x < size.width; ++x) {
          const int column = (x + shift) / brick_w;
          const bool joint = y % brick_h < mortar || (x + shift) % brick_w < mortar;
          const double shade = 0.85 + 0.3 * static_cast<double>(cell_hash(seed, column, row) % 1000) / 1000.0;
          out(y, x) = joint ? b : scaled(a, shade);
        }
      }
      break;
    }
    case Backdrop::wood: {
      const double cx = random.uniform(-2.0, 3.0) * size.width, cy = random.uniform(-2.0, 3.0) * size.height;
      const double period = random.uniform(6.0, 20.0), warp = random.uniform(0.0, 0.4);
      for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) {
          const double r = std::hypot(x - cx, y - cy), angle = std::atan2(y - cy, x - cx);
          const double t = fract(r / period + warp * std::sin(7.0 * angle));
          out(y, x) = mix(a, b, t < 0.5 ? 2 * t : 2 - 2 * t);
        }
      main = mix(a, b, 0.5);
      break;
    }
  }
  return {out, kind, main};
}

}  // namespace vmt::synth::heldout
