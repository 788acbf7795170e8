// vmt-train: trains the VMT detector on a YouTube-VIS-format set and writes model files the engine
// loads (docs/training.md).
//
//   vmt-train train --data DIR -o model.safetensors [--preset small | --config FILE.json |
//                   --init FILE] [--steps N]
//                   [--frames 5] [--sizes 288:512:32] [--max-size 768] [--flip 0.5]
//                   [--degrade 0] [--lr 1e-4] [--lr-backbone 1e-5] [--weight-decay 1e-4]
//                   [--clip 0.1] [--device auto|cpu|cuda[:N]] [--seed 0] [--save-every 300]
//                   [--log loss.csv] [--resume 1] [--threads N] [--name NAME]
//                   [--time-limit SECONDS] [--freeze-stem 1]
//                   [--refine 1] [--qsg-points 3000] [--batch 1] [--workers N]
//   vmt-train predict MODEL --data DIR -o results.json [--size S] [--device D] [--top 10]
//                   [--point-limit N] [--one-per-query 0|1]
//   vmt-train score MODEL --data DIR [--size S] [--frames 5] [--clips 20] [--device D]
//   vmt-train export MODEL -o FILE [--half 1]     (fp16 copy of a checkpoint's model file)
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/model_file.h"
#include "model/refinement_head.h"
#include "model/vmt_detector.h"
#include "train/dataset.h"
#include "train/losses.h"
#include "train/trainer.h"
#include "cli_args.h"
#include "cli_config.h"
#include "cli_device.h"
#include "model/config.h"
#include "vmt/device.h"
#include "vmt/engine.h"
#include "vmt/error.h"
#include "vmt/mask.h"

namespace {

using vmt::cli::Args;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using vmt::Error;
using vmt::ErrorCode;

constexpr const char* kUsage =
      "usage:\n"
      "  vmt-train train --data DIR -o FILE [--preset small | --config FILE.json | --init FILE]\n"
      "      [--steps N] [--frames 5] [--sizes 288:512:32] [--max-size 768] [--flip 0.5]\n"
      "      [--degrade P] [--lr 1e-4] [--lr-backbone 1e-5] [--weight-decay 1e-4] [--clip 0.1]\n"
      "      [--freeze-stem 1] [--device auto|cpu|cuda[:N]] [--seed 0] [--save-every SECONDS]\n"
      "      [--log FILE.csv] [--time-limit SECONDS] [--resume 0|1] [--threads N] [--name NAME]\n"
      "      [--refine 0|1] [--qsg-points 3000] [--batch 1] [--workers N]\n"
      "  vmt-train predict MODEL --data DIR -o results.json [--size S] [--top 10] [--device D]\n"
      "      [--point-limit N] [--one-per-query 0|1]\n"
      "  vmt-train score MODEL --data DIR [--size S] [--frames 5] [--clips 20] [--device D]\n"
      "  vmt-train export MODEL -o FILE [--half 1]\n"
      "DIR holds instances.json and JPEGImages/ (vmt-synth's <out>/<split>). --config: a fresh\n"
      "model of a custom architecture (vmt-model config's JSON, edited). --threads N sets\n"
      "LibTorch's CPU threads for any command. --size S: the model's input size unless given.\n"
      "--batch N: clips per step (their gradients averaged); --workers W: how many of them run\n"
      "side by side, sharing the threads (default: on the CPU as many as the batch and the\n"
      "threads allow, on CUDA 1).\n"
      "exit status: 0 done, 1 failed (the message says why), 2 bad command line\n";

int usage() {
  std::cerr << kUsage;
  return 2;
}

std::string batch_problem(const std::string& value) {
  const long n = std::strtol(value.c_str(), nullptr, 10);
  return n >= 1 && n <= 64 ? "" : "expects 1 to 64, not " + value;
}

/// The commands and their options: anything else is refused with exit status 2.
std::vector<vmt::cli::Command> commands() {
  using vmt::cli::Kind;
  using vmt::cli::Option;
  const Option device{"device", Kind::Text, {}, vmt::cli::device_problem};
  const Option threads{"threads", Kind::Integer};
  const Option size{"size", Kind::Integer};
  return {
      {"train", 0,
       {{"data"}, {"output"}, {"preset", Kind::Choice, vmt::model::preset_names()}, {"config"},
        {"init"}, {"steps", Kind::Integer}, {"frames", Kind::Integer}, {"sizes"},
        {"max-size", Kind::Integer},
        {"flip", Kind::Number}, {"degrade", Kind::Number}, {"lr", Kind::Number},
        {"lr-backbone", Kind::Number}, {"weight-decay", Kind::Number}, {"clip", Kind::Number},
        {"freeze-stem", Kind::Flag}, device, {"seed", Kind::Integer},
        {"save-every", Kind::Number}, {"log"}, {"time-limit", Kind::Number},
        {"resume", Kind::Flag}, threads, {"name"}, {"refine", Kind::Flag},
        {"qsg-points", Kind::Integer}, {"batch", Kind::Integer, {}, batch_problem},
        {"workers", Kind::Integer, {}, batch_problem}}},
      {"predict", 1, {{"data"}, {"output"}, size, {"top", Kind::Integer}, {"point-limit", Kind::Integer},
                   {"one-per-query", Kind::Flag}, device, threads}},
      {"score", 1,
       {{"data"}, size, {"frames", Kind::Integer}, {"clips", Kind::Integer}, device, threads}},
      {"export", 1, {{"output"}, {"half", Kind::Flag}, threads}},
  };
}



torch::Device pick_device(const std::string& text) {
  if (text == "auto") return torch::cuda::is_available() ? torch::Device("cuda") : torch::Device("cpu");
  torch::Device d(text);
  if (d.is_cuda() && !torch::cuda::is_available()) {
    throw Error(ErrorCode::Unavailable, "--device " + text + ": no CUDA device available");
  }
  return d;
}

vmt::train::YtvisDataset open_data(const Args& a) {
  const fs::path dir = a.require("data");
  return vmt::train::YtvisDataset(dir / "instances.json", dir / "JPEGImages");
}

/// Progress line: [#####-----] step/total, losses, speed, ETA.
void progress(std::int64_t step, std::int64_t total, const std::map<std::string, double>& loss,
              double seconds_per_step) {
  constexpr int kWidth = 24;
  const int filled = total > 0 ? static_cast<int>(kWidth * step / total) : 0;
  const double eta = seconds_per_step * static_cast<double>(total - step);
  std::fprintf(stderr, "\r[%s%s] %lld/%lld loss %.3f (cls %.3f box %.3f giou %.3f mask %.3f dice %.3f points %.3f) %.2f s/it ETA %.0f s ",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '-').c_str(),
               static_cast<long long>(step), static_cast<long long>(total), loss.at("total"),
               loss.at("cls"), loss.at("bbox"), loss.at("giou"), loss.at("mask"), loss.at("dice"),
               loss.at("point_l1"), seconds_per_step, eta);
  std::fflush(stderr);
}

/// Appends one CSV row (writing the header for a new file).
void log_row(const fs::path& path, std::int64_t step, const std::map<std::string, double>& loss,
             double elapsed, std::int64_t height, std::int64_t width) {
  const bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  const auto& names = vmt::train::loss_term_names();
  if (fresh) {
    out << "step";
    for (const auto& name : names) out << ',' << name;
    out << ",seconds,height,width\n";
  }
  out << step;
  for (const auto& name : names) out << ',' << loss.at(name);
  out << ',' << elapsed << ',' << height << ',' << width << '\n';
}

/// Removes the rows of the CSV log after `step`: steps a stopped run logged after its last
/// checkpoint, which the resumed run trains (and logs) again.
void drop_rows_after(const fs::path& path, std::int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool dropped = false;
  while (std::getline(in, line)) {
    const auto row_step = std::strtoll(line.c_str(), nullptr, 10);  // 0 for the header
    if (row_step > step) {
      dropped = true;
      continue;
    }
    kept += line + '\n';
  }
  in.close();
  if (!dropped) return;
  const auto tmp = fs::path(path.string() + ".tmp");
  std::ofstream(tmp) << kept;
  fs::rename(tmp, path);
}

/// The per-step RNG: a function of (seed, step) only, so a resumed run draws the same clips.
std::mt19937_64 step_rng(std::uint64_t seed, std::int64_t step) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32)};
  return std::mt19937_64(seq);
}

vmt::train::Trainer make_trainer(const Args& a, const vmt::train::YtvisDataset& data,
                                 const torch::Device& device, std::uint64_t seed) {
  vmt::engine::ModelHeader header;
  vmt::engine::Model model{nullptr};
  if (a.has("init")) {
    auto loaded = vmt::engine::load_model(a.require("init"));
    header = loaded.header;
    model = loaded.module;
  } else {
    header.config = a.has("config") ? vmt::cli::read_config(a.require("config"))
                                    : vmt::model::preset(a.get("preset", "small"));
    header.config.num_classes = static_cast<std::int64_t>(data.labels().size()) + 1;
    header.labels = data.labels();
    model = vmt::engine::init_model(header.config, seed);
    vmt::train::apply_official_init(model);
  }
  header.name = a.get("name", header.name.empty() ? header.config.preset : header.name);
  vmt::train::OptimOptions o;
  o.lr = a.get_num("lr", o.lr);
  o.lr_backbone = a.get_num("lr-backbone", o.lr_backbone);
  o.weight_decay = a.get_num("weight-decay", o.weight_decay);
  o.clip_max_norm = a.get_num("clip", o.clip_max_norm);
  o.freeze_stem = a.get("freeze-stem", "1") == "1";
  vmt::train::RefineOptions refine;
  refine.enabled = a.get("refine", "1") == "1";
  refine.qsg_points = static_cast<std::int64_t>(a.get_num("qsg-points", 3000));
  vmt::train::Trainer trainer(model, header, device, o, {}, {}, refine);
  trainer.state().seed = seed;
  return trainer;
}

/// How many clips of a step run side by side: --workers, else on the CPU as many as the batch
/// and the threads (--threads, else the cores) allow, on CUDA one. The workers share the
/// threads: each runs its clip on threads / workers intra-op threads (one clip keeps about one
/// core busy at these model sizes, so a thread each is the fastest split).
int train_workers(const Args& a, const torch::Device& device, std::int64_t batch) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int threads = a.has("threads") ? static_cast<int>(a.get_num("threads", cores)) : cores;
  int workers = 1;
  if (a.has("workers")) {
    workers = static_cast<int>(a.get_num("workers", 1));
    if (workers > batch) {
      throw vmt::cli::UsageError("--workers " + std::to_string(workers) + " is more than --batch " +
                                 std::to_string(batch));
    }
  } else if (device.is_cpu()) {
    workers = static_cast<int>(std::min<std::int64_t>(batch, threads));
  }
  if (workers > 1) torch::set_num_threads(std::max(1, threads / workers));
  return workers;
}

int cmd_train(const Args& a) {
  const fs::path output = a.require("output");
  const auto device = pick_device(a.get("device", "auto"));
  const auto batch = static_cast<std::int64_t>(a.get_num("batch", 1));
  const int workers = train_workers(a, device, batch);
  if (int{a.has("preset")} + int{a.has("config")} + int{a.has("init")} > 1) {
    throw vmt::cli::UsageError("train takes one of --preset, --config and --init");
  }
  const auto data = open_data(a);
  const auto seed = static_cast<std::uint64_t>(a.get_num("seed", 0));
  const auto steps = static_cast<std::int64_t>(a.get_num("steps", 1000));
  const double save_every = a.get_num("save-every", 300);
  const double time_limit = a.get_num("time-limit", 0);  // seconds; 0 = none
  const fs::path log = a.get("log", (output.parent_path() / "loss.csv").string());
  vmt::train::ClipOptions clip;
  clip.frames = static_cast<std::int64_t>(a.get_num("frames", 5));
  if (a.has("sizes")) clip.shorter_edges = vmt::train::parse_sizes(a.require("sizes"));
  clip.max_longer_edge = static_cast<std::int64_t>(a.get_num("max-size", 768));
  clip.flip_probability = a.get_num("flip", 0.5);
  clip.degrade_probability = a.get_num("degrade", 0.0);

  auto trainer = make_trainer(a, data, device, seed);
  if (a.get("resume", "1") == "1" && fs::exists(output) && fs::exists(vmt::train::Trainer::sidecar_path(output))) {
    trainer.resume(output);
    std::cerr << "vmt-train: resumed " << output << " at step " << trainer.state().step << "\n";
    drop_rows_after(log, trainer.state().step);
  }
  std::cerr << "vmt-train: " << data.videos().size() << " videos, " << data.labels().size()
            << " classes, preset " << trainer.header().config.preset << ", device " << device
            << ", " << steps << " steps";
  if (batch > 1) std::cerr << " of " << batch << " clips (" << workers << " side by side)";
  std::cerr << "\n";
  const auto start = Clock::now();
  auto last_save = start;
  double avg = 0;
  auto out_of_time = [&] {
    return time_limit > 0 && std::chrono::duration<double>(Clock::now() - start).count() >= time_limit;
  };
  while (trainer.state().step < steps && !out_of_time()) {
    const auto t0 = Clock::now();
    auto rng = step_rng(trainer.state().seed, trainer.state().step);
    const auto clips = data.sample_batch(rng, clip, batch);
    const auto loss = trainer.step(clips, workers);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    avg = avg == 0 ? dt : 0.95 * avg + 0.05 * dt;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    log_row(log, trainer.state().step, loss, elapsed, clips[0].frames.size(2), clips[0].frames.size(3));
    progress(trainer.state().step, steps, loss, avg);
    if (std::chrono::duration<double>(Clock::now() - last_save).count() >= save_every) {
      trainer.save(output);
      last_save = Clock::now();
      std::cerr << "\nvmt-train: checkpoint " << output << " at step " << trainer.state().step << "\n";
    }
  }
  trainer.save(output);
  std::cerr << "\nvmt-train: wrote " << output << " (step " << trainer.state().step << ")\n";
  return 0;
}

/// Loads a model file onto `device` in eval mode.
vmt::engine::LoadedModel load_on(const std::string& path, const torch::Device& device) {
  auto loaded = vmt::engine::load_model(path);
  loaded.module->to(device);
  loaded.module->eval();
  return loaded;
}

/// Input size {H, W} for a video at shorter edge `size`.
std::pair<std::int64_t, std::int64_t> eval_size(const vmt::train::VideoEntry& v, std::int64_t size) {
  return vmt::train::resized_size(v.height, v.width, size, 100000, 32);
}

/// Per video, the whole video as one clip through vmt::Engine (the path vmtsegment runs: the same
/// resize, instance selection, refinement and mask rule): the top-`top` (query, class) pairs with
/// their final masks, as YouTube-VIS results JSON.
int cmd_predict(const std::string& model_path, const Args& a) {
  const auto data = open_data(a);
  vmt::EngineOptions options;
  options.model_path = model_path;
  options.device = vmt::parse_device(a.get("device", "auto"));
  // without --size, the model file's own input size (as vmtsegment and vmt-segment-video)
  if (a.has("size")) options.input_size = static_cast<int>(a.get_num("size", 96));
  options.max_instances = static_cast<int>(a.get_num("top", 10));
  options.point_limit = static_cast<int>(a.get_num("point-limit", 0));
  // --one-per-query 1: each query once with its best class (vmtsegment's per-object default)
  // instead of the official top-K over (query, class) pairs; every query is kept for the AP.
  if (a.get("one-per-query", "0") == "1") {
    options.selection = vmt::InstanceSelection::PerObject;
    options.score_threshold = 0.0f;
  }
  vmt::Engine engine(options);
  const fs::path images = fs::path(a.require("data")) / "JPEGImages";
  nlohmann::json results = nlohmann::json::array();
  for (const auto& v : data.videos()) {
    std::vector<cv::Mat> frames;
    std::vector<vmt::ImageView> views;
    for (const auto& name : v.file_names) {
      cv::Mat bgr = cv::imread((images / name).string(), cv::IMREAD_COLOR);
      if (bgr.empty()) throw Error(ErrorCode::CorruptData, "cannot read frame " + (images / name).string());
      cv::Mat rgb;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      frames.push_back(std::move(rgb));
    }
    for (const auto& f : frames) {
      views.push_back({vmt::PixelFormat::RGB, f.cols, f.rows, {f.data, nullptr, nullptr},
                       {static_cast<int>(f.step[0]), 0, 0}});
    }
    engine.clear_cache();
    const auto tube = engine.run_tube(0, views);
    for (const auto& instance : tube.instances) {
      nlohmann::json segs = nlohmann::json::array();
      for (const auto& mask : instance.frame_masks) {
        segs.push_back({{"size", {mask.frame.height, mask.frame.width}},
                        {"counts", vmt::rle_to_string(vmt::rle_encode(mask))}});
      }
      results.push_back({{"video_id", v.id},
                         {"category_id", instance.category},
                         {"score", instance.score},
                         {"segmentations", segs}});
    }
  }
  std::ofstream(a.require("output")) << results.dump() << "\n";
  std::cerr << "vmt-train: " << results.size() << " predictions for " << data.videos().size()
            << " videos\n";
  return 0;
}

/// Mean losses and the mean per-frame mask IoU of the matched queries' coarse masks (at stride 4,
/// thresholded at 0.5; also of their refined masks when the model refines) over `clips` fixed
/// clips (unflipped, shorter edge `size`).
int cmd_score(const std::string& model_path, const Args& a) {
  const auto data = open_data(a);
  const auto device = pick_device(a.get("device", "auto"));
  auto loaded = load_on(model_path, device);
  auto& det = vmt::engine::detector_of(loaded.module);
  // without --size, the model file's own input size (else 96, the old demo model's)
  const auto size = static_cast<std::int64_t>(
      a.get_num("size", loaded.header.defaults.input_size.value_or(96)));
  const auto frames = static_cast<std::int64_t>(a.get_num("frames", 5));
  const auto clips = static_cast<std::int64_t>(a.get_num("clips", 20));
  torch::NoGradGuard no_grad;
  std::map<std::string, double> sums;
  double iou_sum = 0, refined_iou_sum = 0, class_hits = 0;
  std::int64_t iou_count = 0, matched = 0;
  for (std::int64_t c = 0; c < clips; ++c) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(c));
    const auto vi = static_cast<std::size_t>(c) % data.videos().size();
    const auto& v = data.videos()[vi];
    const auto idx = vmt::train::YtvisDataset::sample_frames(static_cast<std::int64_t>(v.file_names.size()), frames, rng);
    const auto [h, w] = eval_size(v, size);
    const auto clip = data.load(vi, idx, h, w, false).to(device);
    const auto out = det->forward(clip.frames);
    const auto all = torch::arange(out.pred_logits.size(1), torch::TensorOptions().dtype(torch::kInt64).device(device));
    const vmt::train::Predictions pred{out.pred_logits[0], out.pred_boxes[0], det->coarse_mask_logits(out, all)};
    vmt::train::Match m;
    const auto terms = vmt::train::compute_losses(pred, clip.targets, {}, {}, &m);
    for (const auto& [k, t] : terms) sums[k] += t.item<double>();
    if (m.query_indices.numel() == 0) continue;
    const auto q = m.query_indices.to(device), t = m.target_indices.to(device);
    const auto p = pred.mask_logits.index_select(0, q) > 0;                      // [K, T, h, w]
    auto g = vmt::train::subsample_masks(clip.targets.masks, 4).index_select(0, t) > 0.5;
    g = g.narrow(2, 0, p.size(2)).narrow(3, 0, p.size(3));
    const auto valid = clip.targets.valid.index_select(0, t);                   // [K, T]
    const auto inter = (p & g).sum({2, 3}).to(torch::kFloat64);
    const auto uni = (p | g).sum({2, 3}).to(torch::kFloat64).clamp_min(1);
    iou_sum += ((inter / uni) * valid).sum().item<double>();
    iou_count += valid.sum().item<std::int64_t>();
    if (loaded.header.config.use_refinement) {
      const auto refined = vmt::model::refine_masks(loaded.module, out, clip.frames, q) > 0;
      auto gt = clip.targets.masks.index_select(0, t) > 0.5;
      gt = gt.narrow(2, 0, refined.size(2)).narrow(3, 0, refined.size(3));
      const auto r_inter = (refined & gt).sum({2, 3}).to(torch::kFloat64);
      const auto r_union = (refined | gt).sum({2, 3}).to(torch::kFloat64).clamp_min(1);
      refined_iou_sum += ((r_inter / r_union) * valid).sum().item<double>();
    }
    const auto pred_cls = pred.logits.index_select(0, q).argmax(1);
    class_hits += (pred_cls == clip.targets.labels.index_select(0, t)).sum().item<double>();
    matched += q.numel();
  }
  std::cout << "clips " << clips << "\n";
  for (const auto& [k, s] : sums) std::cout << "loss_" << k << " " << s / clips << "\n";
  std::cout << "matched_mask_iou " << (iou_count ? iou_sum / iou_count : 0.0) << " over "
            << iou_count << " (track, frame) pairs\n";
  if (loaded.header.config.use_refinement) {
    std::cout << "matched_refined_mask_iou " << (iou_count ? refined_iou_sum / iou_count : 0.0)
              << " (input resolution)\n";
  }
  std::cout << "matched_class_accuracy " << (matched ? class_hits / matched : 0.0) << "\n";
  return 0;
}

/// Re-writes a checkpoint's model file in fp16 (half the size; the engine widens it to fp32 on
/// load) or fp32, keeping its metadata.
int cmd_export(const std::string& model_path, const Args& a) {
  auto loaded = vmt::engine::load_model(model_path);
  if (a.get("half", "1") == "1") loaded.module->to(torch::kHalf);
  const fs::path out = a.require("output");
  vmt::engine::save_model(loaded.module, loaded.header, out);
  std::cerr << "vmt-train: wrote " << out << " (" << fs::file_size(out) << " bytes)\n";
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
    if (args.has("threads")) torch::set_num_threads(static_cast<int>(args.get_num("threads", 1)));
    if (command == "train") return cmd_train(args);
    if (command == "predict") return cmd_predict(positional[0], args);
    if (command == "score") return cmd_score(positional[0], args);
    return cmd_export(positional[0], args);
  } catch (const vmt::cli::UsageError& e) {
    std::cerr << "vmt-train: " << e.what() << "\n(vmt-train --help for the commands)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "\nvmt-train: " << e.what() << "\n";
    return 1;
  }
}
