// vmt-model: make, inspect and smoke-test VMT model files (docs/models.md).
//
//   vmt-model init --preset small [--seed 1] [--labels a,b,c] [--name NAME] [--dtype f32|f16]
//                  [--foreground-bias B] -o model.safetensors
//   vmt-model init --config FILE.json ...   (an edited `vmt-model config` JSON: a custom model)
//   vmt-model info FILE
//   vmt-model defaults FILE [-o OUT] [--input-size N] [--trained-sizes MIN:MAX]
//                      [--score-threshold T] [--max-instances K] [--point-limit P] [--clear 1]
//                      (the model's preferred inference settings, its vmt.inference metadata)
//   vmt-model keys --preset vmt_r50        (tensor names and shapes, for vmt-convert)
//   vmt-model config --preset vmt_r50      (the vmt.config JSON of the preset)
//   vmt-model run FILE [--frames 8] [--size 320x240] [--raw FRAMES.rgb] [--device auto]
//                      [--input-size N] [--tube 0] [--threshold T] [--max-instances K]
//                      [--dump OUT.safetensors [--refine-top 10]]  (raw outputs, see cmd_run)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <torch/utils.h>

#include "cli_args.h"
#include "cli_config.h"
#include "cli_device.h"
#include "engine/model_file.h"
#include "engine/preprocess.h"
#include "model/refinement_head.h"
#include "model/vmt_detector.h"
#include "model/config.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/error.h"
#include "vmt/mask.h"
#include "weights/safetensors.h"

namespace {

using vmt::cli::Args;
using vmt::cli::Kind;

constexpr const char* kUsage =
    "usage:\n"
               "  vmt-model init --preset NAME | --config FILE.json [--seed N] [--labels a,b,c]\n"
               "                 [--name NAME] [--dtype f16] [--foreground-bias B] -o FILE\n"
               "  vmt-model info FILE\n"
               "  vmt-model defaults FILE [-o OUT] [--input-size N] [--trained-sizes MIN:MAX]\n"
               "                [--score-threshold T] [--max-instances K] [--point-limit P] [--clear 1]\n"
               "  vmt-model keys --preset NAME\n"
               "  vmt-model config --preset NAME\n"
    "  vmt-model run FILE [--frames N] [--size WxH] [--raw FRAMES.rgb] [--device auto|cpu|cuda:N]\n"
    "                [--input-size S] [--tube L] [--threshold T] [--max-instances K]\n"
    "                [--dump OUT.safetensors [--refine-top 10]]\n"
    "  run: the engine on synthetic frames, or --raw RGB24 frames of --size; --dump writes the\n"
    "  model's raw outputs on them as one clip instead (input, class logits, boxes, coarse and\n"
    "  refined mask logits) on the CPU; unset settings are the model file's\n"
    "exit status: 0 done, 1 failed (the message says why), 2 bad command line\n";

int usage() {
  std::cerr << kUsage;
  return 2;
}

/// The commands and their options: anything else is refused with exit status 2.
std::vector<vmt::cli::Command> commands() {
  const vmt::cli::Option preset{"preset", Kind::Choice, vmt::model::preset_names()};
  return {
      {"init", 0,
       {preset, {"config"}, {"seed", Kind::Integer}, {"labels"}, {"name"}, {"dtype", Kind::Choice, {"f32", "f16"}},
        {"foreground-bias", Kind::Number}, {"output"}}},
      {"info", 1, {}},
      {"defaults", 1,
       {{"output"}, {"input-size", Kind::Integer}, {"trained-sizes"}, {"score-threshold", Kind::Number},
        {"max-instances", Kind::Integer}, {"point-limit", Kind::Integer}, {"clear", Kind::Flag}}},
      {"keys", 0, {preset}},
      {"config", 0, {preset}},
      {"run", 1,
       {{"frames", Kind::Integer}, {"size", Kind::Size},
        {"device", Kind::Text, {}, vmt::cli::device_problem},
        {"input-size", Kind::Integer}, {"tube", Kind::Integer}, {"threshold", Kind::Number},
        {"max-instances", Kind::Integer}, {"raw"}, {"dump"}, {"refine-top", Kind::Integer}}},
  };
}



std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

int cmd_init(const Args& args) {
  const auto output = args.get("output", "");
  if (output.empty()) throw vmt::cli::UsageError("init needs -o FILE");
  vmt::engine::ModelHeader header;
  const auto config_path = args.get("config", "");
  if (!config_path.empty() && args.has("preset")) {
    throw vmt::cli::UsageError("init takes --preset or --config, not both");
  }
  header.config = config_path.empty() ? vmt::model::preset(args.get("preset", "small"))
                                      : vmt::cli::read_config(config_path);
  header.labels = split(args.get("labels", ""), ',');
  if (header.labels.empty()) header.labels = {"object"};
  // as the official YTVIS head: category c is logit c, logit 0 and the last one unused
  header.config.num_classes = static_cast<std::int64_t>(header.labels.size()) + 2;
  header.name = args.get("name", "vmt_" + (header.config.preset.empty() ? std::string("custom")
                                                                         : header.config.preset) +
                                     "_random");
  const auto seed = std::stoull(args.get("seed", "1"));
  auto module = vmt::engine::init_model(header.config, seed);
  // Randomly initialised refinement weights give all-negative mask logits, so such a model finds
  // nothing; a positive shift of the last dynamic convolution's bias makes it output masks, which
  // is what tests and smoke runs of the streaming code need.
  if (const double bias = std::stod(args.get("foreground-bias", "0")); bias != 0.0) {
    torch::NoGradGuard no_grad;
    for (auto& item : module->named_parameters())
      if (item.key() == "controller_refine.layers.2.bias") item.value()[-1].add_(bias);
  }
  const auto dtype = args.get("dtype", "f32");
  if (dtype == "f16") {
    module->to(torch::kHalf);  // a compact file; the engine widens it to fp32 when loading
  } else if (dtype != "f32") {
    throw vmt::Error(vmt::ErrorCode::InvalidArgument, "--dtype must be f32 or f16");
  }
  vmt::engine::save_model(module, header, output);
  std::cout << "wrote " << output << " (" << std::filesystem::file_size(output) << " bytes)\n";
  return 0;
}

int cmd_info(const std::string& path) {
  const auto file = vmt::weights::SafetensorsFile::open(path);
  const auto header = vmt::engine::read_header(file);
  std::int64_t parameters = 0;
  for (const auto& t : file.tensors()) {
    std::int64_t n = 1;
    for (const auto d : t.shape) n *= d;
    parameters += n;
  }
  std::cout << "file:       " << path << " (" << std::filesystem::file_size(path) << " bytes)\n"
            << "name:       " << header.name << "\n"
            << "preset:     " << (header.config.preset.empty() ? "custom" : header.config.preset) << "\n"
            << "config:     " << vmt::model::config_to_json(header.config) << "\n"
            << "labels:     " << header.labels.size() << " " << vmt::engine::labels_to_json(header.labels)
            << "\n"
            << "defaults:   " << vmt::engine::defaults_to_json(header.defaults) << "\n"
            << "tensors:    " << file.tensors().size() << "\n"
            << "parameters: " << parameters << "\n";
  return 0;
}

/// Sets (or with --clear 1 removes) the model file's preferred inference settings, keeping its
/// tensors byte for byte (an fp16 file stays fp16); writes FILE in place or -o OUT.
int cmd_defaults(const std::string& path, const Args& args) {
  const auto file = vmt::weights::SafetensorsFile::open(path);
  auto header = vmt::engine::read_header(file);
  auto& d = header.defaults;
  if (args.get("clear", "0") == "1") d = {};
  if (args.has("input-size")) d.input_size = std::stoi(args.require("input-size"));
  if (args.has("trained-sizes")) {
    const auto sizes = split(args.require("trained-sizes"), ':');
    if (sizes.size() != 2) {
      throw vmt::Error(vmt::ErrorCode::InvalidArgument, "--trained-sizes needs MIN:MAX");
    }
    d.trained_min_size = std::stoi(sizes[0]);
    d.trained_max_size = std::stoi(sizes[1]);
  }
  if (args.has("score-threshold")) d.score_threshold = std::stof(args.require("score-threshold"));
  if (args.has("max-instances")) d.max_instances = std::stoi(args.require("max-instances"));
  if (args.has("point-limit")) d.point_limit = std::stoi(args.require("point-limit"));
  // validated as the engine will read it
  d = vmt::engine::defaults_from_json(vmt::engine::defaults_to_json(d));
  auto metadata = file.metadata();
  const auto made = vmt::engine::make_metadata(header);
  metadata.erase("vmt.inference");
  for (const auto& [key, value] : made) metadata[key] = value;
  const std::string output = args.get("output", path);
  vmt::weights::write_file(output, file.tensors(), metadata);
  std::cout << "wrote " << output << ": vmt.inference " << vmt::engine::defaults_to_json(d) << "\n";
  return 0;
}

int cmd_keys(const Args& args) {
  const auto config = vmt::model::preset(args.get("preset", "vmt_r50"));
  for (const auto& [name, shape] : vmt::engine::expected_tensors(config)) {
    std::cout << name << " " << shape_text(shape) << "\n";
  }
  return 0;
}

/// A moving gradient with a bright square: something for the smoke run to look at.
std::vector<std::uint8_t> synthetic_frame(int w, int h, int t) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      auto* p = &rgb[(static_cast<std::size_t>(y) * w + x) * 3];
      const bool square = std::abs(x - (w / 4 + 2 * t)) < w / 8 && std::abs(y - h / 2) < h / 8;
      p[0] = square ? 240 : static_cast<std::uint8_t>(x * 255 / w);
      p[1] = square ? 40 : static_cast<std::uint8_t>(y * 255 / h);
      p[2] = static_cast<std::uint8_t>((x + y + 3 * t) % 256);
    }
  }
  return rgb;
}

/// --raw FILE: `frames` frames of w × h packed RGB24, one after the other (e.g. from
/// gst-launch-1.0 … ! videoconvert ! video/x-raw,format=RGB ! filesink).
std::vector<std::vector<std::uint8_t>> read_raw_frames(const std::string& path, int w, int h,
                                                       int frames) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw vmt::Error(vmt::ErrorCode::NotFound, "cannot open --raw file '" + path + "'");
  const auto frame_bytes = static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3;
  std::vector<std::vector<std::uint8_t>> out;
  for (int t = 0; t < frames; ++t) {
    std::vector<std::uint8_t> pixels(frame_bytes);
    if (!in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(frame_bytes))) {
      throw vmt::Error(vmt::ErrorCode::InvalidArgument,
                       "--raw '" + path + "' holds " + std::to_string(t) + " whole " +
                           std::to_string(w) + "x" + std::to_string(h) +
                           " RGB frames, fewer than --frames " + std::to_string(frames));
    }
    out.push_back(std::move(pixels));
  }
  return out;
}

/// --dump: the model's raw outputs on the frames as one clip, written as safetensors (fp32,
/// int64 indices): the preprocessed input, class logits, boxes, every query's coarse mask logits
/// and, for a model with the refinement head, the refined mask logits of the `refine_top` best
/// queries (by their best class score) — what a converted checkpoint is checked with against the
/// official code's outputs on the same frames.
void dump_raw_outputs(const std::string& model_path, std::span<const vmt::ImageView> views,
                      std::optional<int> input_size, int refine_top, const std::string& output) {
  torch::NoGradGuard no_grad;
  auto loaded = vmt::engine::load_model(model_path);
  auto& detector = vmt::engine::detector_of(loaded.module);
  const int size = input_size.value_or(
      loaded.header.defaults.input_size.value_or(vmt::kDefaultInputSize));
  const auto frames = vmt::engine::preprocess(views, size, torch::kCPU, torch::kFloat32);
  const auto out = detector->forward(frames);
  const auto queries = out.pred_logits.size(1);
  std::vector<std::pair<std::string, torch::Tensor>> named{
      {"input_frames", frames},
      {"pred_logits", out.pred_logits[0]},
      {"pred_boxes", out.pred_boxes[0]},
      {"coarse_mask_logits", detector->coarse_mask_logits(out, at::arange(queries, at::kLong))}};
  if (loaded.header.config.use_refinement) {
    const auto labels = static_cast<std::int64_t>(loaded.header.labels.size());
    const auto best = out.pred_logits[0].sigmoid().narrow(1, 1, labels).amax(1);
    const auto top = std::get<1>(best.topk(std::min<std::int64_t>(refine_top, queries)));
    named.emplace_back("refined_queries", top);
    named.emplace_back("refined_mask_logits",
                       vmt::model::refine_masks(loaded.module, out, frames, top));
  }
  std::vector<vmt::weights::TensorRecord> records;
  for (auto& [name, tensor] : named) {
    tensor = tensor.contiguous();
    const bool indices = tensor.scalar_type() == at::kLong;
    if (!indices) tensor = tensor.to(at::kFloat).contiguous();
    records.push_back({name, indices ? vmt::weights::Dtype::I64 : vmt::weights::Dtype::F32,
                       tensor.sizes().vec(),
                       {static_cast<const std::byte*>(tensor.data_ptr()),
                        static_cast<std::size_t>(tensor.nbytes())}});
  }
  vmt::weights::write_file(output, records,
                           {{"vmt.dump.model", loaded.header.name},
                            {"vmt.dump.input_size", std::to_string(size)},
                            {"vmt.dump.frames", std::to_string(views.size())}});
  std::cout << "wrote " << output << ": " << records.size() << " tensors (" << views.size()
            << " frames at input size " << size << ")\n";
}

int cmd_run(const std::string& path, const Args& args) {
  vmt::EngineOptions options;
  options.model_path = path;
  options.device = vmt::parse_device(args.get("device", "auto"));
  // unset: the model file's preferences (vmt.inference), else the built-in defaults
  if (args.has("input-size")) options.input_size = std::stoi(args.require("input-size"));
  if (args.has("threshold")) options.score_threshold = std::stof(args.require("threshold"));
  if (args.has("max-instances")) options.max_instances = std::stoi(args.require("max-instances"));
  const int frames = std::stoi(args.get("frames", "8"));
  const auto size = split(args.get("size", "320x240"), 'x');
  if (size.size() != 2 || frames < 1) return usage();
  const int w = std::stoi(size[0]), h = std::stoi(size[1]);
  const int tube = std::stoi(args.get("tube", "0"));  // 0: one clip of all frames

  std::vector<std::vector<std::uint8_t>> pixels;
  if (args.has("raw")) {
    pixels = read_raw_frames(args.require("raw"), w, h, frames);
  } else {
    for (int t = 0; t < frames; ++t) pixels.push_back(synthetic_frame(w, h, t));
  }
  std::vector<vmt::ImageView> views;
  for (const auto& p : pixels) {
    views.push_back({vmt::PixelFormat::RGB, w, h, {p.data(), nullptr, nullptr}, {w * 3, 0, 0}});
  }
  if (args.has("dump")) {
    dump_raw_outputs(path, views, options.input_size, std::stoi(args.get("refine-top", "10")),
                     args.require("dump"));
    return 0;
  }
  vmt::Engine engine(options);
  std::cout << "model " << engine.model().name << " (" << engine.model().architecture << ", "
            << engine.model().labels.size() << " labels) on "
            << vmt::describe_device(engine.device()) << ", input size "
            << engine.settings().input_size << "\n";
  const int length = tube > 0 ? tube : frames;
  for (int first = 0; first + length <= frames; first += tube > 0 ? 1 : frames) {
    const auto start = std::chrono::steady_clock::now();
    const auto result = engine.run_tube(first, std::span(views).subspan(first, length));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "tube [" << result.frames.begin << ", " << result.frames.end << "): "
              << result.instances.size() << " instances, " << ms << " ms\n";
    for (const auto& inst : result.instances) {
      std::uint64_t area = 0;
      for (const auto& m : inst.frame_masks) area += vmt::cropped_area(m);
      const auto& labels = engine.model().labels;
      std::cout << "  score " << inst.score << " category " << inst.category << " ("
                << labels.at(static_cast<std::size_t>(inst.category - 1)) << ") mask pixels "
                << area << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  if (command == "-h" || command == "--help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    const auto args = vmt::cli::parse_command(argc, argv, vmt::cli::find_command(commands(), command));
    if (args.help) {
      std::cout << kUsage;
      return 0;
    }
    const auto& positional = args.positional;
    if (command == "init") return cmd_init(args);
    if (command == "info") return cmd_info(positional[0]);
    if (command == "defaults") return cmd_defaults(positional[0], args);
    if (command == "keys") return cmd_keys(args);
    if (command == "config") {
      std::cout << vmt::model::config_to_json(vmt::model::preset(args.get("preset", "vmt_r50")))
                << "\n";
      return 0;
    }
    return cmd_run(positional[0], args);
  } catch (const vmt::cli::UsageError& e) {
    std::cerr << "vmt-model: " << e.what() << "\n(vmt-model --help for the commands)\n";
    return 2;
  } catch (const vmt::Error& e) {
    std::cerr << "vmt-model: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "vmt-model: " << e.what() << "\n";
    return 1;
  }
}
