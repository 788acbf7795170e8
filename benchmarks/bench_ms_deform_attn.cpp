// ms_deform_attn timings for VMT r50 at 360p (a 360x640 frame: levels 45x80, 23x40, 12x20, 6x10;
// M = 8 heads, D = 32, L = 4, P = 4; 5 frames). The encoder has one query per pixel, the decoder
// 300. Prints ms per call on the CPU (own loops and the grid_sample reference) and, where a GPU
// is present, for the CUDA kernel in fp32 and fp16.
//
//   bench-ms-deform-attn [cpu|gpu|all]     (default: all)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "model/ops/ms_deform_attn.h"

#ifdef VMT_WITH_CUDA
#include "runtime.h"  // cuda/: device_name
#endif

namespace {

constexpr std::int64_t kFrames = 5, kHeads = 8, kHeadDim = 32, kPoints = 4;
constexpr std::int64_t kPixels = 45 * 80 + 23 * 40 + 12 * 20 + 6 * 10;  // S = 4820

struct Workload {
  const char* name;
  std::int64_t queries;  // Lq
};
constexpr Workload kWorkloads[] = {{"encoder", kPixels}, {"decoder", 300}};

/// value [N, S, M, D], shapes [L, 2], starts [L], locations [N, Lq, M, L, P, 2] (mostly inside,
/// some just outside), weights [N, Lq, M, L, P] summing to 1 over L*P, on `device` in `dtype`.
struct Inputs {
  at::Tensor value, shapes, starts, locations, weights;
};

Inputs make_inputs(std::int64_t queries, at::Device device, at::ScalarType dtype) {
  at::manual_seed(0);
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  Inputs in;
  in.value = at::randn({kFrames, kPixels, kHeads, kHeadDim}, options);
  in.shapes = at::tensor({45, 80, 23, 40, 12, 20, 6, 10}, at::kLong).view({4, 2}).to(device);
  in.starts = at::tensor({0, 45 * 80, 45 * 80 + 23 * 40, 45 * 80 + 23 * 40 + 12 * 20}, at::kLong)
                  .to(device);
  in.locations = at::rand({kFrames, queries, kHeads, 4, kPoints, 2}, options) * 1.1 - 0.05;
  in.weights = at::softmax(at::randn({kFrames, queries, kHeads, 4 * kPoints}, options), -1)
                   .view({kFrames, queries, kHeads, 4, kPoints});
  return in;
}

/// Mean ms per call of `call` after a warm-up, over enough calls to fill ~1 s (at least 3).
double ms_per_call(const std::function<void()>& call, const std::function<void()>& sync) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) call();
  sync();
  int calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (calls < 3 || elapsed < 1.0) {
    call();
    ++calls;
    if (calls % 10 == 0 || calls < 10) {
      sync();
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  sync();
  elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return elapsed * 1000.0 / calls;
}

void report(const char* device, const char* dtype, const char* what, const Workload& w, double ms) {
  std::printf("%-5s %-8s %-22s %-8s N=%lld Lq=%-5lld %10.3f ms/call\n", device, dtype, what, w.name,
              static_cast<long long>(kFrames), static_cast<long long>(w.queries), ms);
  std::fflush(stdout);
}

void bench_cpu() {
  std::printf("CPU: %d threads (at::get_num_threads)\n", at::get_num_threads());
  for (const Workload& w : kWorkloads) {
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      const Inputs in = make_inputs(w.queries, at::kCPU, dtype);
      const double ms = ms_per_call(
          [&] {
            vmt::ops::ms_deform_attn(in.value, in.shapes, in.starts, in.locations, in.weights);
          },
          [] {});
      report("cpu", dtype == at::kFloat ? "fp32" : "fp64", "ms_deform_attn", w, ms);
    }
    const Inputs in = make_inputs(w.queries, at::kCPU, at::kFloat);
    const double ms = ms_per_call(
        [&] { vmt::ops::ms_deform_attn_reference(in.value, in.shapes, in.locations, in.weights); },
        [] {});
    report("cpu", "fp32", "grid_sample reference", w, ms);
  }
}

void bench_gpu() {
#ifdef VMT_WITH_CUDA
  if (!torch::cuda::is_available()) {
    std::printf("GPU: none usable (%s); skipped\n", vmt::cuda::device_count() == 0
                                                        ? vmt::cuda::unavailable_reason().c_str()
                                                        : "LibTorch sees no CUDA device");
    return;
  }
  std::printf("GPU: %s\n", vmt::cuda::device_name(0).c_str());
  const auto sync = [] { torch::cuda::synchronize(); };
  for (const Workload& w : kWorkloads) {
    for (const at::ScalarType dtype : {at::kFloat, at::kHalf}) {
      const Inputs in = make_inputs(w.queries, at::kCUDA, dtype);
      const char* name = dtype == at::kFloat ? "fp32" : "fp16";
      report("cuda", name, "ms_deform_attn", w,
             ms_per_call(
                 [&] {
                   vmt::ops::ms_deform_attn(in.value, in.shapes, in.starts, in.locations,
                                            in.weights);
                 },
                 sync));
      report("cuda", name, "grid_sample reference", w,
             ms_per_call(
                 [&] {
                   vmt::ops::ms_deform_attn_reference(in.value, in.shapes, in.locations,
                                                      in.weights);
                 },
                 sync));
    }
  }
#else
  std::printf("GPU: this build has no CUDA kernels; skipped\n");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  if (which != "cpu" && which != "gpu" && which != "all") {
    std::fprintf(stderr, "usage: %s [cpu|gpu|all]\n", argv[0]);
    return 2;
  }
  std::printf("ms_deform_attn, VMT r50 360p: levels 45x80 23x40 12x20 6x10, M=%lld D=%lld P=%lld\n",
              static_cast<long long>(kHeads), static_cast<long long>(kHeadDim),
              static_cast<long long>(kPoints));
  if (which != "gpu") bench_cpu();
  if (which != "cpu") bench_gpu();
  return 0;
}
