#pragma once
// Transparent huge pages for llama.cpp's large CPU buffers (Linux; elsewhere these do nothing).
//
// Generating a token reads every weight once. ggml allocates its CPU buffers (repacked weights, weights
// loaded without mmap, the KV cache, the compute buffer) with posix_memalign, i.e. plain 4 KiB pages
// unless THP is set to "always"; most distributions default to "madvise". A 0.5B model's repacked
// weights are ~68k such pages per token, far beyond the TLB, so the page walks cost several percent of
// decode speed (measured: docs/engine.md). llama.cpp offers no hook into its allocations, so we note the
// process's mappings before it allocates and advise the ones that appeared: for the weights before they
// are written (the first load-progress callback), so they fault in as huge pages, several threads at a
// time (the faults were most of the extra load time in a VM); the KV cache, cleared
// while the context is created, is collapsed by the kernel's khugepaged in the background (collapsing it
// at once cost 25-120 ms per context for no measurable decode gain).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace westfall {

struct MappingSnapshot {
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;  // every mapping at the time, sorted
};

// False where transparent huge pages are unavailable or set to "never".
bool HugePagesAvailable();

MappingSnapshot SnapshotMappings();

// Advises the private anonymous read-write memory mapped since `before` (regions of at least 4 MiB).
// With populate, the new mappings that look like whole buffers (16 MiB or
// more, not a growing heap) are also faulted in now, on several threads: use it only for buffers that
// are about to be written in full (the weights), since it commits the memory.
void AdviseNewMappings(const MappingSnapshot& before, bool populate);

}  // namespace westfall
