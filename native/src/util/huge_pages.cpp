#include "util/huge_pages.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace westfall {

namespace {
constexpr uintptr_t kHugePage = 2u << 20;
constexpr uintptr_t kMinRegion = 4u << 20;

struct Mapping {
  uintptr_t start, end;
  bool anonymous_rw;
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
    out.push_back({start, end, inode == 0 && no_path && std::strncmp(perms, "rw-p", 4) == 0});
  }
#endif
  return out;
}
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

size_t AdviseNewMappings(const MappingSnapshot& before) {
  size_t advised = 0;
#if defined(__linux__)
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
      if (madvise(reinterpret_cast<void*>(s), e - s, MADV_HUGEPAGE) == 0) advised += e - s;
    }
  }
#else
  (void)before;
#endif
  return advised;
}

}  // namespace westfall
