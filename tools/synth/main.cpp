// vmt-synth: writes synthetic video instance segmentation data (YouTube-VIS layout) of moving,
// turning, occluding shapes in three styles (classic, randomised, heldout). See
// docs/synthetic-data.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "dataset.h"
#include "vmt/error.h"

namespace {

using vmt::Error;
using vmt::ErrorCode;

constexpr std::string_view kUsage = R"(usage: vmt-synth --out DIR [options]

Writes synthetic videos of moving, rotating, scaling, occluding shapes in
YouTube-VIS layout:
  DIR/<split>/JPEGImages/video_NNNNN/NNNNN.jpg and DIR/<split>/instances.json

styles:
  classic     textured shapes (circle, square, triangle, star, ring, cross), each class
              with its own colours and pattern (the original generator)
  randomised  the same six classes with domain-randomised looks, backgrounds, motion,
              camera, distractors, light, blur and codec artefacts, real-video frame sizes
  heldout     an independent generator for evaluation only: ellipse, pentagon, starburst,
              crescent, blob, heart (never use it for training; no train split)

options:
  --out DIR          output folder (required)
  --style NAME       classic, randomised or heldout (default classic)
  --seed N           random seed (default 0); same seed and options -> identical files
  --videos N         videos in the split (default 8)
  --split NAME       split to write: train or valid (default train; heldout: valid)
  --valid M          also write M held-out videos to DIR/valid (with --split train)
  --frames N         frames per video (default 36)
  --width W          frame width in pixels (default 640; heldout 480)
  --height H         frame height in pixels (default 360; heldout 360)
  --short-side A:B   randomised without --width/--height: each video draws a real-video
                     aspect ratio (4:3, 16:9, 3:2, 1:1, 21:9, 9:16, 3:4) with the shorter
                     side in A..B pixels (default 180:360, at most 1536)
  --objects MIN:MAX  objects on screen at once, drawn per video (default 2:5)
  --noise L          classic: per-pixel noise, uniform in +-L levels (default 3, 0 = none)
  --quality Q        JPEG quality 1..100 (default 90)
  --jobs N           videos generated in parallel (default 1; the files do not depend on it)
  --frames-only      only the JPEG frames, as DIR/video_NNNNN/NNNNN.jpg (no JSON)
  --quiet            no summary line
  --help             this text
)";

struct CommandLine {
  vmt::synth::DatasetOptions dataset;
  std::string split = "train";
  bool split_given = false;
  std::uint32_t videos = 8;
  std::uint32_t valid_videos = 0;
  bool frames_only = false;
  bool quiet = false;
  bool size_given = false;
  bool noise_given = false;
  std::optional<vmt::synth::ShortSideRange> short_side;
};

std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t low,
                           std::uint64_t high) {
  const std::string copy(text);
  char* end = nullptr;
  const unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
  if (copy.empty() || copy[0] == '-' || *end != '\0' || value < low || value > high)
    throw Error(ErrorCode::InvalidArgument, std::string(option) + " expects a whole number in " +
                                                std::to_string(low) + ".." + std::to_string(high) +
                                                ", got '" + copy + "'");
  return value;
}

std::uint32_t parse_u32(std::string_view option, std::string_view text, std::uint32_t low,
                        std::uint32_t high) {
  return static_cast<std::uint32_t>(parse_number(option, text, low, high));
}

/// "MIN:MAX" (or a single N for MIN = MAX = N).
void parse_object_range(std::string_view text, vmt::synth::SceneOptions& scene) {
  const auto colon = text.find(':');
  const std::string_view low = text.substr(0, colon);
  const std::string_view high = colon == std::string_view::npos ? low : text.substr(colon + 1);
  scene.min_objects = parse_u32("--objects", low, 0, 64);
  scene.max_objects = parse_u32("--objects", high, scene.min_objects, 64);
}

/// "A:B" pixels of the shorter side.
vmt::synth::ShortSideRange parse_short_side(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos)
    throw Error(ErrorCode::InvalidArgument, "--short-side expects MIN:MAX, got '" + std::string(text) + "'");
  vmt::synth::ShortSideRange range;
  range.min = parse_u32("--short-side", text.substr(0, colon), 16, 1536);
  range.max = parse_u32("--short-side", text.substr(colon + 1), range.min, 1536);
  return range;
}

/// Checks the combination of options and fills in the style's defaults.
void apply_style(CommandLine& cli) {
  auto& scene = cli.dataset.scene;
  using vmt::synth::Style;
  if (cli.noise_given && scene.style != Style::classic)
    throw Error(ErrorCode::InvalidArgument, "--noise applies to --style classic only");
  if (cli.short_side && (scene.style != Style::randomised || cli.size_given))
    throw Error(ErrorCode::InvalidArgument, "--short-side goes with --style randomised and without --width/--height");
  switch (scene.style) {
    case Style::classic: break;
    case Style::randomised:
      if (!cli.size_given) scene.random_size = cli.short_side.value_or(vmt::synth::ShortSideRange{});
      break;
    case Style::heldout:
      if (!cli.size_given) scene.size = {360, 480};
      if (!cli.split_given) cli.split = "valid";
      if (cli.split == "train" || cli.valid_videos > 0)
        throw Error(ErrorCode::InvalidArgument,
                    "--style heldout is for evaluation only: write --split valid (no train split, no --valid)");
      break;
  }
}

/// Parses argv; returns nullopt after printing the usage for --help.
std::optional<CommandLine> parse(std::span<char*> args) {
  CommandLine cli;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      return std::nullopt;
    }
    if (arg == "--frames-only") { cli.frames_only = true; continue; }
    if (arg == "--quiet") { cli.quiet = true; continue; }
    if (i + 1 >= args.size())
      throw Error(ErrorCode::InvalidArgument, "unknown option or missing value: " + std::string(arg));
    const std::string_view value = args[++i];
    if (arg == "--out") cli.dataset.out_dir = std::string(value);
    else if (arg == "--style") {
      const auto style = vmt::synth::parse_style(value);
      if (!style) throw Error(ErrorCode::InvalidArgument, "--style must be classic, randomised or heldout, got '" + std::string(value) + "'");
      cli.dataset.scene.style = *style;
    }
    else if (arg == "--short-side") cli.short_side = parse_short_side(value);
    else if (arg == "--jobs") cli.dataset.jobs = parse_u32(arg, value, 1, 256);
    else if (arg == "--seed") cli.dataset.seed = parse_number(arg, value, 0, UINT64_MAX);
    else if (arg == "--videos") cli.videos = parse_u32(arg, value, 0, 1000000);
    else if (arg == "--valid") cli.valid_videos = parse_u32(arg, value, 0, 1000000);
    else if (arg == "--split") { cli.split = value; cli.split_given = true; }
    else if (arg == "--frames") cli.dataset.scene.frames = parse_u32(arg, value, 1, 100000);
    else if (arg == "--width") { cli.dataset.scene.size.width = parse_u32(arg, value, 1, 16384); cli.size_given = true; }
    else if (arg == "--height") { cli.dataset.scene.size.height = parse_u32(arg, value, 1, 16384); cli.size_given = true; }
    else if (arg == "--objects") parse_object_range(value, cli.dataset.scene);
    else if (arg == "--noise") { cli.dataset.scene.noise = parse_u32(arg, value, 0, 64); cli.noise_given = true; }
    else if (arg == "--quality") cli.dataset.jpeg_quality = static_cast<int>(parse_u32(arg, value, 1, 100));
    else throw Error(ErrorCode::InvalidArgument, "unknown option: " + std::string(arg));
  }
  if (cli.dataset.out_dir.empty()) throw Error(ErrorCode::InvalidArgument, "--out DIR is required");
  apply_style(cli);
  if (cli.split != "train" && cli.split != "valid")
    throw Error(ErrorCode::InvalidArgument, "--split must be train or valid");
  if (cli.valid_videos > 0 && (cli.split != "train" || cli.frames_only))
    throw Error(ErrorCode::InvalidArgument, "--valid goes with the train split and not with --frames-only");
  return cli;
}

void report(const CommandLine& cli, std::string_view what, const vmt::synth::WriteSummary& summary,
            double seconds) {
  if (cli.quiet) return;
  std::fprintf(stderr, "vmt-synth: %.*s: %u videos, %llu frames, %llu tracks in %.2f s (%.1f frames/s)\n",
               static_cast<int>(what.size()), what.data(), summary.videos,
               static_cast<unsigned long long>(summary.frames),
               static_cast<unsigned long long>(summary.annotations), seconds,
               seconds > 0 ? static_cast<double>(summary.frames) / seconds : 0.0);
}

/// Runs `write` and reports how long it took.
template <typename Write>
void timed(const CommandLine& cli, const std::string& what, Write&& write) {
  const auto start = std::chrono::steady_clock::now();
  const vmt::synth::WriteSummary summary = write();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  report(cli, what, summary, elapsed.count());
}

void run(const CommandLine& cli) {
  const auto& options = cli.dataset;
  // Parallel videos: one thread each, no OpenCV thread pool on top.
  if (options.jobs > 1) cv::setNumThreads(0);
  if (cli.frames_only) {
    timed(cli, options.out_dir.string() + " (frames only)",
          [&] { return vmt::synth::write_frames_only(options, cli.split, cli.videos); });
    return;
  }
  timed(cli, (options.out_dir / cli.split).string(),
        [&] { return vmt::synth::write_split(options, cli.split, cli.videos); });
  if (cli.valid_videos > 0)
    timed(cli, (options.out_dir / "valid").string(),
          [&] { return vmt::synth::write_split(options, "valid", cli.valid_videos); });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::optional<CommandLine> cli = parse(std::span<char*>(argv, static_cast<std::size_t>(argc)));
    if (!cli) return 0;
    run(*cli);
    return 0;
  } catch (const Error& error) {
    std::fprintf(stderr, "vmt-synth: %s\nTry 'vmt-synth --help'.\n", error.what());
    return error.code() == ErrorCode::InvalidArgument ? 2 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "vmt-synth: %s\n", error.what());
    return 1;
  }
}
