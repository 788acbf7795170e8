#include "degrade.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

namespace vmt::train {

namespace {

/// The contours of `m` with every step-th point kept (at least 3 per contour).
std::vector<std::vector<cv::Point>> coarse_contours(const cv::Mat& m, int step) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(m.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  for (auto& c : contours) {
    if (c.size() < 6) continue;
    std::vector<cv::Point> kept;
    for (std::size_t i = 0; i < c.size(); i += static_cast<std::size_t>(step)) kept.push_back(c[i]);
    if (kept.size() >= 3) c = std::move(kept);
  }
  return contours;
}

}  // namespace

Bitmap degrade_mask(const Bitmap& mask, std::mt19937_64& rng, const DegradeOptions& options) {
  const auto size = mask.size();
  cv::Mat m(static_cast<int>(size.height), static_cast<int>(size.width), CV_8U);
  std::copy(mask.data().begin(), mask.data().end(), m.data);
  if (cv::countNonZero(m) == 0) return mask;
  const int step = std::uniform_int_distribution<int>(options.min_contour_step,
                                                      std::max(options.min_contour_step,
                                                               options.max_contour_step))(rng);
  cv::Mat poly = cv::Mat::zeros(m.size(), CV_8U);
  cv::fillPoly(poly, coarse_contours(m, step), cv::Scalar(1));
  const cv::Rect box = cv::boundingRect(m);
  const int limit = std::min(options.max_radius, std::min(box.width, box.height) / 10);
  const int radius = std::uniform_int_distribution<int>(-limit, limit)(rng);
  cv::Mat out = poly;
  if (radius != 0) {
    const int k = 2 * std::abs(radius) + 1;
    const auto kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(k, k));
    cv::Mat morphed;
    if (radius > 0) cv::dilate(poly, morphed, kernel); else cv::erode(poly, morphed, kernel);
    if (cv::countNonZero(morphed) > 0) out = morphed;
  }
  Bitmap result(size);
  std::copy(out.data, out.data + size.pixels(), result.data().begin());
  return result;
}

}  // namespace vmt::train
