// How often the real-time engine's track ids differ from those of the all-frames path: online
// windows (the scheduler's tubes, the newest frame emitted) through vmt::Engine and
// vmt::IdentityAssigner twice — associating on the coarse masks of every tube frame (the default,
// MaskScope::Emitted) and on the final masks of every frame (MaskScope::AllFrames, the engine
// before it became real-time). Prints, per video and in total, the frames whose instances (masks
// and scores bit for bit, which the engine guarantees) carry the same track ids in both, and the
// frame-level agreement of the id *partition* (the same instances grouped into the same tracks,
// whatever the numbers).
//
//   check-association --model FILE [--input-size N] [--tube 30] [--threads N]
//                     [--min-scores S1,S2,...]
//                     (--data DIR | --raw FILE --size WxH [--frames N])
// --min-scores: compare only the instances scoring at least each of these (what a display threshold
// shows), one report each; default 0, every instance.
// DIR: a YouTube-VIS style set (instances.json, JPEGImages/), e.g. vmt-synth's <out>/<split>.
#include <ATen/Parallel.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "vmt/engine.h"
#include "vmt/error.h"
#include "vmt/identity.h"
#include "vmt/tube.h"

namespace {

namespace fs = std::filesystem;

struct Video {
  std::string name;
  std::vector<cv::Mat> frames;  // RGB
};

std::vector<Video> read_dataset(const fs::path& dir) {
  std::ifstream in(dir / "instances.json");
  if (!in) throw vmt::Error(vmt::ErrorCode::NotFound, "no instances.json in " + dir.string());
  const auto json = nlohmann::json::parse(in);
  std::vector<Video> videos;
  for (const auto& v : json.at("videos")) {
    Video video;
    video.name = std::to_string(v.at("id").get<long>());
    for (const auto& name : v.at("file_names")) {
      cv::Mat bgr = cv::imread((dir / "JPEGImages" / name.get<std::string>()).string());
      if (bgr.empty()) throw vmt::Error(vmt::ErrorCode::CorruptData, "cannot read " + name.get<std::string>());
      cv::Mat rgb;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      video.frames.push_back(rgb);
    }
    videos.push_back(std::move(video));
  }
  return videos;
}

Video read_raw(const std::string& path, int width, int height, int limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw vmt::Error(vmt::ErrorCode::NotFound, "cannot open " + path);
  Video video{fs::path(path).filename().string(), {}};
  cv::Mat frame(height, width, CV_8UC3);
  const auto bytes = static_cast<std::streamsize>(width) * height * 3;
  while ((limit <= 0 || static_cast<int>(video.frames.size()) < limit) &&
         in.read(reinterpret_cast<char*>(frame.data), bytes)) {
    video.frames.push_back(frame.clone());
  }
  return video;
}

/// Per emitted frame: the track id of each instance, keyed by (score bits, category, mask box).
using FrameIds = std::vector<std::map<std::tuple<float, int, std::uint32_t, std::uint32_t,
                                                 std::uint32_t, std::uint32_t>,
                                      std::uint64_t>>;

FrameIds track(vmt::Engine& engine, const Video& video, int tube) {
  engine.clear_cache();
  vmt::TubeSchedulerConfig sc;
  sc.mode = vmt::TubeMode::Online;
  sc.max_tube_length = tube;
  vmt::TubeScheduler scheduler(sc);
  vmt::IdentityAssigner identity(vmt::IdentityConfig::online());
  std::vector<vmt::ImageView> views;
  for (const auto& f : video.frames) {
    views.push_back({vmt::PixelFormat::RGB, f.cols, f.rows, {f.data, nullptr, nullptr},
                     {static_cast<int>(f.step[0]), 0, 0}});
  }
  FrameIds ids(video.frames.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(views.size()); ++i) {
    const auto job = scheduler.push(i);
    if (!job) continue;
    const auto frames = std::span(views).subspan(static_cast<std::size_t>(job->frames.begin),
                                                 static_cast<std::size_t>(job->frames.size()));
    const auto result = engine.run_tube(vmt::TubeInput{job->frames.begin, frames, job->emit});
    for (const auto& frame : identity.assign(*job, result)) {
      auto& out = ids[static_cast<std::size_t>(frame.frame)];
      for (const auto& inst : frame.instances) {
        const auto& b = inst.mask.box;
        out[{inst.score, inst.category, b.x, b.y, b.width, b.height}] = inst.track_id;
      }
    }
  }
  return ids;
}

struct Counts {
  long frames = 0, same_ids = 0, same_grouping = 0, instances = 0;
};

/// The instances scoring at least `min_score` (what a display threshold shows).
FrameIds scoring_at_least(const FrameIds& ids, float min_score) {
  FrameIds kept(ids.size());
  for (std::size_t f = 0; f < ids.size(); ++f) {
    for (const auto& [key, id] : ids[f]) {
      if (std::get<0>(key) >= min_score) kept[f].emplace(key, id);
    }
  }
  return kept;
}

/// Compares per frame: the same instances with the same ids; the same grouping into tracks (an
/// id of one run maps to one id of the other across the whole video).
Counts compare(const FrameIds& all_a, const FrameIds& all_b, float min_score) {
  Counts c;
  std::map<std::uint64_t, std::uint64_t> a_to_b, b_to_a;
  const auto a = scoring_at_least(all_a, min_score), b = scoring_at_least(all_b, min_score);
  for (std::size_t f = 0; f < a.size(); ++f) {
    ++c.frames;
    bool same = a[f].size() == b[f].size(), grouped = same;
    for (const auto& [key, id] : a[f]) {
      ++c.instances;
      const auto it = b[f].find(key);
      if (it == b[f].end()) {
        same = grouped = false;
        continue;
      }
      same = same && it->second == id;
      const auto [ab, fresh_ab] = a_to_b.emplace(id, it->second);
      const auto [ba, fresh_ba] = b_to_a.emplace(it->second, id);
      grouped = grouped && ab->second == it->second && ba->second == id;
    }
    c.same_ids += same;
    c.same_grouping += grouped;
  }
  return c;
}

/// Prints the agreement per video and in total over the instances scoring at least `min_score`.
void report(const std::vector<Video>& videos,
            const std::vector<std::pair<FrameIds, FrameIds>>& runs, int tube, float min_score) {
  std::printf("instances scoring >= %g:\n", min_score);
  Counts total;
  for (std::size_t v = 0; v < videos.size(); ++v) {
    const auto c = compare(runs[v].first, runs[v].second, min_score);
    std::printf("video %-12s %4ld frames: same ids %5.1f %%, same grouping %5.1f %% (%ld instances)\n",
                videos[v].name.c_str(), c.frames, 100.0 * c.same_ids / c.frames,
                100.0 * c.same_grouping / c.frames, c.instances);
    total.frames += c.frames;
    total.same_ids += c.same_ids;
    total.same_grouping += c.same_grouping;
    total.instances += c.instances;
  }
  std::printf("total %ld frames, tube %d: same ids on %.2f %% of frames, same grouping on %.2f %%\n",
              total.frames, tube, 100.0 * total.same_ids / std::max(1L, total.frames),
              100.0 * total.same_grouping / std::max(1L, total.frames));
}

int usage() {
  std::fprintf(stderr, "usage: check-association --model FILE [--input-size N] [--tube 30] "
                       "[--min-scores S1,S2,...] "
                       "[--threads N] (--data DIR | --raw FILE --size WxH [--frames N])\n");
  return 2;
}

/// "0,0.2,0.5" → {0, 0.2, 0.5}; anything but numbers in [0, 1] is refused, naming the item.
std::vector<float> parse_scores(const std::string& text) {
  std::vector<float> scores;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    float value = 0.f;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || error != std::errc{} || end != item.data() + item.size() ||
        !(value >= 0.f && value <= 1.f)) {
      throw std::invalid_argument("--min-scores: '" + item +
                                  "' is not a score from 0 to 1 (give S1,S2,...)");
    }
    scores.push_back(value);
  }
  if (scores.empty()) throw std::invalid_argument("--min-scores: no score given");
  return scores;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !args.count("--model") || (!args.count("--data") && !args.count("--raw"))) {
    return usage();
  }
  try {
    if (args.count("--threads")) at::set_num_threads(std::stoi(args["--threads"]));
    std::vector<Video> videos;
    if (args.count("--data")) {
      videos = read_dataset(args["--data"]);
    } else {
      const auto size = args.count("--size") ? args["--size"] : "";
      const auto x = size.find('x');
      if (x == std::string::npos) return usage();
      videos.push_back(read_raw(args["--raw"], std::stoi(size.substr(0, x)),
                                std::stoi(size.substr(x + 1)),
                                args.count("--frames") ? std::stoi(args["--frames"]) : 0));
    }
    const auto min_scores = args.count("--min-scores") ? parse_scores(args["--min-scores"])
                                                       : std::vector<float>{0.f};
    const int tube = args.count("--tube") ? std::stoi(args["--tube"]) : 30;
    vmt::EngineOptions o;
    o.model_path = args["--model"];
    o.device = vmt::parse_device("cpu");
    if (args.count("--input-size")) o.input_size = std::stoi(args["--input-size"]);  // else the model's
    vmt::Engine emitted(o);
    o.mask_scope = vmt::MaskScope::AllFrames;
    vmt::Engine all_frames(o);
    std::vector<std::pair<FrameIds, FrameIds>> runs;
    for (const auto& video : videos) {
      runs.emplace_back(track(emitted, video, tube), track(all_frames, video, tube));
    }
    for (const float min_score : min_scores) report(videos, runs, tube, min_score);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "check-association: %s\n", e.what());
    return 1;
  }
  return 0;
}
