// Per-stage times of the VMT detector (vmt-core/src/model) for the vmt_r50 preset on a 5-frame
// 360p clip (5 × 3 × 360 × 640): backbone (+ input projections), encoder, decoder, heads
// (class / box heads, controller, mask features) and the coarse masks of the 10 selected
// queries. Weights are LibTorch's default initialisation (timings do not depend on values).
// Runs on the CPU and, where a GPU is usable, on cuda:0 (fp32).
//
//   bench-detector [cpu|gpu|all] [runs]     (default: all, 3 runs after one warm-up)
#include <torch/cuda.h>
#include <torch/utils.h>

#include <ATen/Parallel.h>
#include <ATen/ops/randn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model/config.h"
#include "model/vmt_detector.h"
#include "vmt/device.h"

namespace {

constexpr std::int64_t kFrames = 5, kHeight = 360, kWidth = 640;

void run(const std::string& device_text, int runs) {
  const auto spec = vmt::resolve_device(vmt::parse_device(device_text));
  const torch::Device device(device_text);
  torch::NoGradGuard no_grad;
  vmt::model::VmtDetector model(vmt::model::vmt_r50());
  model->eval();
  model->to(device);
  const auto frames = at::randn({kFrames, 3, kHeight, kWidth}, torch::TensorOptions().device(device));

  vmt::model::StageTimes total;
  double masks_ms = 0, forward_ms = 0;
  for (int i = 0; i <= runs; ++i) {  // run 0 warms up
    vmt::model::StageTimes t;
    const auto start = std::chrono::steady_clock::now();
    const auto out = model->forward(frames, {}, &t);
    const auto sel = vmt::model::VmtDetectorImpl::select_queries(out.pred_logits);
    const auto masks = model->coarse_mask_logits(out, sel);
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto end = std::chrono::steady_clock::now();
    const double all = std::chrono::duration<double, std::milli>(end - start).count();
    if (i == 0) continue;
    total.backbone_ms += t.backbone_ms;
    total.encoder_ms += t.encoder_ms;
    total.decoder_ms += t.decoder_ms;
    total.heads_ms += t.heads_ms;
    masks_ms += all - (t.backbone_ms + t.encoder_ms + t.decoder_ms + t.heads_ms);
    forward_ms += all;
  }
  const double n = runs;
  std::printf("device %s, %d thread(s), vmt_r50, clip %lldx3x%lldx%lld, fp32, mean of %d run(s)\n",
              vmt::describe_device(spec).c_str(), at::get_num_threads(),
              static_cast<long long>(kFrames), static_cast<long long>(kHeight),
              static_cast<long long>(kWidth), runs);
  std::printf("  backbone+proj %9.1f ms\n", total.backbone_ms / n);
  std::printf("  encoder       %9.1f ms\n", total.encoder_ms / n);
  std::printf("  decoder       %9.1f ms\n", total.decoder_ms / n);
  std::printf("  heads         %9.1f ms\n", total.heads_ms / n);
  std::printf("  coarse masks  %9.1f ms (10 selected queries)\n", masks_ms / n);
  std::printf("  total         %9.1f ms (%.2f clip/s)\n", forward_ms / n, 1000.0 * n / forward_ms);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  if (which != "cpu" && which != "gpu" && which != "all") {
    std::fprintf(stderr, "usage: %s [cpu|gpu|all] [runs]\n", argv[0]);
    return 2;
  }
  if (which != "gpu") run("cpu", runs);
  if (which != "cpu") {
    if (vmt::cuda_device_count() > 0) {
      run("cuda:0", runs);
    } else {
      std::printf("no usable GPU: GPU timings skipped\n");
    }
  }
  return 0;
}
