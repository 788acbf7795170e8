#include "cpu_heap.h"

#include <cstdlib>
#include <mutex>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace vmt::engine {

namespace {

bool environment_tunes_the_heap() {
  const auto set = [](const char* name) { return std::getenv(name) != nullptr; };
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const char* choice = std::getenv("VMT_CPU_HEAP");
  return (tunables && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) ||
         set("MALLOC_MMAP_THRESHOLD_") || set("MALLOC_TRIM_THRESHOLD_") ||
         (choice && std::string_view(choice) == "system");
}

}  // namespace

bool keep_cpu_heap() {
  static std::once_flag once;
  bool changed = false;
  std::call_once(once, [&] {
#if defined(__GLIBC__)
    if (environment_tunes_the_heap()) return;
    constexpr int kOneGiB = 1 << 30;
    changed = mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1 && mallopt(M_TRIM_THRESHOLD, kOneGiB) == 1;
#endif
  });
  return changed;
}

}  // namespace vmt::engine
