#include "util/huge_pages.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and the pages fault in as written
#endif
#endif

namespace westfall {

namespace {
constexpr uintptr_t kHugePage = 2u << 20;
constexpr uintptr_t kMinRegion = 4u << 20;
constexpr uintptr_t kMinPopulate = 16u << 20;
constexpr uintptr_t kPopulateSlice = 32u << 20;

struct Mapping {
  uintptr_t start, end;
  bool anonymous_rw;
  bool reserved_after;  // followed directly by an inaccessible mapping: a growing heap, not a finished buffer
};

std::vector<Mapping> ReadMappings() {
  std::vector<Mapping> out;
#if defined(__linux__)
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0, offset = 0, inode = 0;
    char perms[8] = {0}, dev[32] = {0};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %31s %lu %n", &start, &end, perms, &offset, dev, &inode, &path_at) < 6) continue;
    bool no_path = path_at == 0 || static_cast<size_t>(path_at) >= line.size();
    if (!out.empty() && out.back().end == start && std::strncmp(perms, "---p", 4) == 0) out.back().reserved_after = true;
    out.push_back({start, end, inode == 0 && no_path && std::strncmp(perms, "rw-p", 4) == 0, false});
  }
#endif
  return out;
}

#if defined(__linux__)
// Faults the ranges in now, on several threads. Where the kernel must find fresh memory for each huge
// page (a VM whose host backs guest memory lazily: 600 ms per 300 MiB there), the faults are the slow
// part of loading, and they parallelize; elsewhere this only moves the zeroing of pages that are about
// to be written anyway.
void Populate(const std::vector<std::pair<uintptr_t, uintptr_t>>& ranges) {
  std::vector<std::pair<uintptr_t, uintptr_t>> slices;
  for (const auto& [s, e] : ranges) {
    for (uintptr_t p = s; p < e; p += kPopulateSlice) slices.emplace_back(p, std::min(e, p + kPopulateSlice));
  }
  if (slices.empty()) return;
  unsigned n = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < slices.size();) {
      madvise(reinterpret_cast<void*>(slices[i].first), slices[i].second - slices[i].first, MADV_POPULATE_WRITE);
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < n; i++) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
}
#endif
}  // namespace

bool HugePagesAvailable() {
#if defined(__linux__)
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(f, mode)) return false;
  return mode.find("[never]") == std::string::npos;
#else
  return false;
#endif
}

MappingSnapshot SnapshotMappings() {
  MappingSnapshot s;
  for (const auto& m : ReadMappings()) s.ranges.emplace_back(m.start, m.end);
  std::sort(s.ranges.begin(), s.ranges.end());
  return s;
}

void AdviseNewMappings(const MappingSnapshot& before, bool populate) {
#if defined(__linux__)
  std::vector<std::pair<uintptr_t, uintptr_t>> to_populate;
  for (const auto& m : ReadMappings()) {
    if (!m.anonymous_rw || m.end - m.start < kMinRegion) continue;
    // Only the parts that were not mapped before: a new allocation can merge into a neighbouring
    // mapping (the JavaScript heap's, for one), which must be left as it was.
    std::vector<std::pair<uintptr_t, uintptr_t>> parts{{m.start, m.end}};
    for (const auto& [s, e] : before.ranges) {
      if (e <= m.start || s >= m.end) continue;
      std::vector<std::pair<uintptr_t, uintptr_t>> next;
      for (const auto& [ps, pe] : parts) {
        if (e <= ps || s >= pe) {
          next.emplace_back(ps, pe);
          continue;
        }
        if (ps < s) next.emplace_back(ps, s);
        if (e < pe) next.emplace_back(e, pe);
      }
      parts.swap(next);
    }
    for (const auto& [ps, pe] : parts) {
      uintptr_t s = (ps + kHugePage - 1) & ~(kHugePage - 1);
      uintptr_t e = pe & ~(kHugePage - 1);
      if (e <= s || pe - ps < kMinRegion) continue;
      if (madvise(reinterpret_cast<void*>(s), e - s, MADV_HUGEPAGE) != 0) continue;
      // A whole new mapping of this size is one of llama.cpp's buffers (malloc serves large blocks with
      // their own mapping); a growing heap or a reservation is left to fault in as it is used.
      if (populate && !m.reserved_after && ps == m.start && pe == m.end && pe - ps >= kMinPopulate) to_populate.emplace_back(ps, pe);
    }
  }
  Populate(to_populate);
#else
  (void)before;
  (void)populate;
#endif
}

}  // namespace westfall
