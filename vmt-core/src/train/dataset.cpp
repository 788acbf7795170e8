#include "dataset.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "vmt/error.h"

namespace vmt::train {

namespace {

using nlohmann::json;

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::NotFound, "cannot open " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::CorruptData, path.string() + ": " + e.what());
  }
}

/// A COCO RLE object {"size": [h, w], "counts": string | [int]} → Rle.
Rle parse_rle(const json& j) {
  const MaskSize size{j.at("size").at(0).get<std::uint32_t>(), j.at("size").at(1).get<std::uint32_t>()};
  const auto& counts = j.at("counts");
  if (counts.is_string()) return rle_from_string(counts.get<std::string>(), size);
  return Rle{size, counts.get<std::vector<std::uint32_t>>()};
}

std::vector<std::string> parse_labels(const json& categories) {
  std::map<std::int64_t, std::string> by_id;
  for (const auto& c : categories) by_id[c.at("id").get<std::int64_t>()] = c.at("name").get<std::string>();
  const std::int64_t max_id = by_id.empty() ? 0 : by_id.rbegin()->first;
  std::vector<std::string> labels;
  for (std::int64_t id = 1; id <= max_id; ++id) {
    const auto it = by_id.find(id);
    labels.push_back(it != by_id.end() ? it->second : "class_" + std::to_string(id));
  }
  return labels;
}

/// ImageNet-normalised [3, H, W] float tensor of a BGR image.
torch::Tensor normalise(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  auto t = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
               .permute({2, 0, 1}).to(torch::kFloat32).div(255.0);
  const auto mean = torch::tensor({0.485, 0.456, 0.406}, torch::kFloat32).view({3, 1, 1});
  const auto std = torch::tensor({0.229, 0.224, 0.225}, torch::kFloat32).view({3, 1, 1});
  return ((t - mean) / std).contiguous();
}

}  // namespace

std::vector<std::int64_t> official_shorter_edges() {
  std::vector<std::int64_t> s;
  for (std::int64_t e = 288; e <= 512; e += 32) s.push_back(e);
  return s;
}

std::vector<std::int64_t> parse_sizes(const std::string& text) {
  std::vector<std::int64_t> out;
  try {
    if (text.find(':') != std::string::npos) {
      std::vector<std::int64_t> parts;
      std::stringstream ss(text);
      for (std::string p; std::getline(ss, p, ':');) parts.push_back(std::stoll(p));
      const std::int64_t step = parts.size() > 2 ? parts[2] : 32;
      if (parts.size() < 2 || step <= 0) throw std::invalid_argument("range");
      for (std::int64_t v = parts[0]; v <= parts[1]; v += step) out.push_back(v);
    } else {
      std::stringstream ss(text);
      for (std::string p; std::getline(ss, p, ',');) out.push_back(std::stoll(p));
    }
  } catch (const std::exception&) {
    out.clear();
  }
  if (out.empty() || *std::min_element(out.begin(), out.end()) <= 0) {
    throw Error(ErrorCode::InvalidArgument, "bad size list '" + text + "' (LO:HI[:STEP] or A,B,C)");
  }
  return out;
}

std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t height, std::int64_t width,
                                                   std::int64_t shorter, std::int64_t max_longer,
                                                   std::int64_t multiple) {
  double scale = static_cast<double>(shorter) / static_cast<double>(std::min(height, width));
  scale = std::min(scale, static_cast<double>(max_longer) / static_cast<double>(std::max(height, width)));
  auto round_to = [&](double v) {
    return std::max<std::int64_t>(multiple, static_cast<std::int64_t>(std::lround(v / multiple)) * multiple);
  };
  return {round_to(height * scale), round_to(width * scale)};
}

YtvisDataset::YtvisDataset(const std::filesystem::path& annotations,
                           const std::filesystem::path& image_root)
    : image_root_(image_root) {
  const json j = read_json(annotations);
  try {
    labels_ = parse_labels(j.at("categories"));
    std::map<std::int64_t, VideoEntry> by_id;
    for (const auto& v : j.at("videos")) {
      VideoEntry e;
      e.id = v.at("id").get<std::int64_t>();
      e.file_names = v.at("file_names").get<std::vector<std::string>>();
      e.width = v.at("width").get<std::uint32_t>();
      e.height = v.at("height").get<std::uint32_t>();
      e.name = e.file_names.empty() ? "" : std::filesystem::path(e.file_names[0]).parent_path().string();
      by_id[v.at("id").get<std::int64_t>()] = std::move(e);
    }
    for (const auto& a : j.at("annotations")) {
      if (a.value("iscrowd", 0) != 0) continue;
      auto it = by_id.find(a.at("video_id").get<std::int64_t>());
      if (it == by_id.end()) continue;
      TrackAnnotation t;
      t.category_id = a.at("category_id").get<std::int64_t>();
      for (const auto& s : a.at("segmentations")) {
        t.masks.push_back(s.is_null() ? std::nullopt : std::optional<Rle>(parse_rle(s)));
      }
      t.masks.resize(it->second.file_names.size());
      it->second.tracks.push_back(std::move(t));
    }
    for (auto& [id, v] : by_id) {
      if (!v.tracks.empty() && !v.file_names.empty()) videos_.push_back(std::move(v));
    }
  } catch (const json::exception& e) {
    throw Error(ErrorCode::CorruptData, annotations.string() + ": " + e.what());
  }
  if (videos_.empty()) throw Error(ErrorCode::CorruptData, annotations.string() + ": no annotated video");
}

std::vector<std::int64_t> YtvisDataset::sample_frames(std::int64_t length, std::int64_t frames,
                                                      std::mt19937_64& rng) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(length));
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::int64_t> picked;
  if (length >= frames) {
    std::sample(all.begin(), all.end(), std::back_inserter(picked), frames, rng);
  } else {
    for (std::int64_t i = 0; i < frames; ++i) picked.push_back(i * length / frames);
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

Clip YtvisDataset::sample(std::mt19937_64& rng, const ClipOptions& options) const {
  return sample_at(rng, options, std::nullopt);
}

std::vector<Clip> YtvisDataset::sample_batch(std::mt19937_64& rng, const ClipOptions& options,
                                             std::int64_t count) const {
  std::vector<Clip> clips;
  std::int64_t shorter = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    clips.push_back(i == 0 ? sample_at(rng, options, std::nullopt, &shorter)
                           : sample_at(rng, options, shorter));
  }
  return clips;
}

Clip YtvisDataset::sample_at(std::mt19937_64& rng, const ClipOptions& options,
                             std::optional<std::int64_t> shorter_edge,
                             std::int64_t* drawn_edge) const {
  const auto video = std::uniform_int_distribution<std::size_t>(0, videos_.size() - 1)(rng);
  const auto& v = videos_[video];
  const auto frames = sample_frames(static_cast<std::int64_t>(v.file_names.size()), options.frames, rng);
  const auto edges = options.shorter_edges.empty() ? official_shorter_edges() : options.shorter_edges;
  const auto shorter = shorter_edge ? *shorter_edge
                                     : edges[std::uniform_int_distribution<std::size_t>(
                                           0, edges.size() - 1)(rng)];
  if (drawn_edge != nullptr) *drawn_edge = shorter;
  const auto [h, w] = resized_size(v.height, v.width, shorter, options.max_longer_edge,
                                   options.size_multiple);
  const bool flip = std::bernoulli_distribution(options.flip_probability)(rng);
  return load(video, frames, h, w, flip, &rng, &options);
}

Clip YtvisDataset::load(std::size_t video, const std::vector<std::int64_t>& frame_indices,
                        std::int64_t height, std::int64_t width, bool flip,
                        std::mt19937_64* degrade_rng, const ClipOptions* options) const {
  const auto& v = videos_.at(video);
  const auto t = static_cast<std::int64_t>(frame_indices.size());
  const cv::Size size(static_cast<int>(width), static_cast<int>(height));
  std::vector<torch::Tensor> frames;
  for (const auto f : frame_indices) {
    const auto path = image_root_ / v.file_names.at(static_cast<std::size_t>(f));
    cv::Mat img = cv::imread(path.string(), cv::IMREAD_COLOR);
    if (img.empty()) throw Error(ErrorCode::NotFound, "cannot read " + path.string());
    cv::resize(img, img, size, 0, 0, cv::INTER_LINEAR);
    if (flip) cv::flip(img, img, 1);
    frames.push_back(normalise(img));
  }
  const bool degrade = degrade_rng != nullptr && options != nullptr && options->degrade_probability > 0;
  std::vector<torch::Tensor> masks;
  std::vector<std::int64_t> labels;
  for (const auto& track : v.tracks) {
    auto m = torch::zeros({t, height, width}, torch::kFloat32);
    bool any = false;
    for (std::int64_t i = 0; i < t; ++i) {
      const auto& rle = track.masks.at(static_cast<std::size_t>(frame_indices[static_cast<std::size_t>(i)]));
      if (!rle || rle_area(*rle) == 0) continue;
      Bitmap bitmap = rle_decode(*rle);
      if (degrade && std::bernoulli_distribution(options->degrade_probability)(*degrade_rng)) {
        bitmap = degrade_mask(bitmap, *degrade_rng, options->degrade);
      }
      cv::Mat src(static_cast<int>(bitmap.size().height), static_cast<int>(bitmap.size().width),
                  CV_8U, const_cast<std::uint8_t*>(bitmap.data().data()));
      cv::Mat dst;
      cv::resize(src, dst, size, 0, 0, cv::INTER_NEAREST);
      if (flip) cv::flip(dst, dst, 1);
      if (cv::countNonZero(dst) == 0) continue;
      m[i].copy_(torch::from_blob(dst.data, {height, width}, torch::kUInt8).to(torch::kFloat32));
      any = true;
    }
    if (!any) continue;
    masks.push_back(m);
    labels.push_back(track.category_id);
  }
  Clip clip;
  clip.frames = torch::stack(frames);
  const auto all_masks = masks.empty() ? torch::zeros({0, t, height, width}) : torch::stack(masks);
  clip.targets = targets_from_masks(torch::tensor(labels, torch::kInt64).view({-1}), all_masks);
  return clip;
}

}  // namespace vmt::train
