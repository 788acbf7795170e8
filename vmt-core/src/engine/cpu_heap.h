// The C heap for CPU inference. Internal to vmt-core.
#pragma once

namespace vmt::engine {

/// Keeps large tensors' memory in the process heap between engine steps, once per process.
///
/// glibc hands out every allocation above its mmap threshold (at most 32 MiB by default) as fresh
/// pages that the kernel maps and zeroes, and returns them on free; a CPU step of vmt_r50 at 360p
/// allocates and frees hundreds of such tensors (stride-2 refinement maps, the point
/// transformer's 2048-wide layers, batched backbone outputs), which made a quarter of its CPU
/// time system time. Raising the mmap threshold to 1 GiB and the trim threshold to 1 GiB lets
/// freed blocks be reused instead (measured in docs/benchmarks.md). Free memory at the top of the
/// heap goes back to the system once it exceeds 1 GiB.
///
/// Process-wide, glibc only, and left alone when the environment already tunes the heap
/// (GLIBC_TUNABLES with glibc.malloc settings, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)
/// or sets VMT_CPU_HEAP=system. Returns whether it changed the settings (first call only).
bool keep_cpu_heap();

}  // namespace vmt::engine
