#include "heldout/figures.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vmt::synth::heldout {
namespace {

constexpr double kTau = 2.0 * std::numbers::pi;

std::vector<cv::Point2d> ellipse(Random& random) {
  const double minor = random.uniform(0.35, 0.9);
  std::vector<cv::Point2d> points;
  for (int i = 0; i < 60; ++i) {
    const double a = kTau * i / 60;
    points.emplace_back(std::cos(a), minor * std::sin(a));
  }
  return points;
}

std::vector<cv::Point2d> pentagon(Random& random) {
  const double jitter = random.chance(0.5) ? random.uniform(0.0, 0.08) : 0.0;
  std::vector<cv::Point2d> points;
  for (int i = 0; i < 5; ++i) {
    const double a = -kTau / 4 + kTau * i / 5;
    const double r = 1.0 - random.uniform(0.0, jitter);
    points.emplace_back(r * std::cos(a), r * std::sin(a));
  }
  return points;
}

std::vector<cv::Point2d> starburst(Random& random) {
  const int tips = static_cast<int>(random.uniform_int(6, 9));
  const double inner = random.uniform(0.45, 0.7);
  std::vector<cv::Point2d> points;
  for (int i = 0; i < 2 * tips; ++i) {
    const double a = kTau * i / (2 * tips), r = i % 2 == 0 ? 1.0 : inner;
    points.emplace_back(r * std::cos(a), r * std::sin(a));
  }
  return points;
}

/// The unit disc minus a disc of radius `bite` whose centre is `offset` to the right: the outer
/// arc on the left, then the bite's arc back.
std::vector<cv::Point2d> crescent(Random& random) {
  const double offset = random.uniform(0.35, 0.6), bite = random.uniform(0.75, 0.95);
  const double xi = (1.0 + offset * offset - bite * bite) / (2.0 * offset);
  const double yi = std::sqrt(std::max(0.0, 1.0 - xi * xi));
  const double outer_from = std::atan2(yi, xi), inner_from = std::atan2(yi, xi - offset);
  std::vector<cv::Point2d> points;
  constexpr int kSteps = 40;
  for (int i = 0; i <= kSteps; ++i) {  // outer arc, counter-clockwise through π
    const double a = outer_from + (kTau - 2 * outer_from) * i / kSteps;
    points.emplace_back(std::cos(a), std::sin(a));
  }
  for (int i = kSteps - 1; i > 0; --i) {  // inner arc, back through π
    const double a = inner_from + (kTau - 2 * inner_from) * i / kSteps;
    points.emplace_back(offset + bite * std::cos(a), bite * std::sin(a));
  }
  // Centre the crescent's extent on the origin.
  double left = 1e9, right = -1e9;
  for (const cv::Point2d& p : points) {
    left = std::min(left, p.x);
    right = std::max(right, p.x);
  }
  for (cv::Point2d& p : points) p.x -= (left + right) / 2;
  return points;
}

std::vector<cv::Point2d> blob(Random& random) {
  double amplitude[6] = {}, phase[6] = {};
  for (int k = 2; k <= 5; ++k) {
    amplitude[k] = random.uniform(0.0, 0.3 / k);
    phase[k] = random.uniform(0.0, kTau);
  }
  std::vector<double> radii;
  for (int i = 0; i < 72; ++i) {
    const double a = kTau * i / 72;
    double r = 1.0;
    for (int k = 2; k <= 5; ++k) r += amplitude[k] * std::cos(k * a + phase[k]);
    radii.push_back(r);
  }
  const double largest = *std::max_element(radii.begin(), radii.end());
  std::vector<cv::Point2d> points;
  for (int i = 0; i < 72; ++i) {
    const double a = kTau * i / 72;
    points.emplace_back(radii[i] / largest * std::cos(a), radii[i] / largest * std::sin(a));
  }
  return points;
}

/// The classic heart curve x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t (y up).
std::vector<cv::Point2d> heart(Random& random) {
  const double width = random.uniform(0.85, 1.1);
  std::vector<cv::Point2d> points;
  for (int i = 0; i < 72; ++i) {
    const double t = kTau * i / 72;
    const double x = 16 * std::pow(std::sin(t), 3);
    const double y = 13 * std::cos(t) - 5 * std::cos(2 * t) - 2 * std::cos(3 * t) - std::cos(4 * t);
    points.emplace_back(width * x, -y - 2.5);  // image y points down; −2.5 centres it
  }
  double reach = 0.0;
  for (const cv::Point2d& p : points) reach = std::max(reach, std::hypot(p.x, p.y));
  for (cv::Point2d& p : points) p *= 1.0 / reach;
  return points;
}

}  // namespace

std::string_view figure_name(Figure figure) {
  switch (figure) {
    case Figure::ellipse: return "ellipse";
    case Figure::pentagon: return "pentagon";
    case Figure::starburst: return "starburst";
    case Figure::crescent: return "crescent";
    case Figure::blob: return "blob";
    case Figure::heart: return "heart";
  }
  return "unknown";
}

std::vector<cv::Point2d> random_figure(Figure figure, Random& random) {
  switch (figure) {
    case Figure::ellipse: return ellipse(random);
    case Figure::pentagon: return pentagon(random);
    case Figure::starburst: return starburst(random);
    case Figure::crescent: return crescent(random);
    case Figure::blob: return blob(random);
    case Figure::heart: return heart(random);
  }
  return ellipse(random);
}

}  // namespace vmt::synth::heldout
