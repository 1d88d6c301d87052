#include <algorithm>

#include "objects/context.h"
#include "objects/context_internal.h"

namespace westfall {

// Parking. Sequences share one (unified) KV cache, and an idle sequence keeps its tokens there so that a
// follow-up prompt can reuse them. Left in place they cost the ones generating: a batch of several
// sequences interleaves their cells, so the next lone stream fills the holes one in four across a long
// span; attention then walks all of it and, from 512 cells, ggml splits it between threads by position,
// so one thread gets nearly all the real work (a single stream ran 7% slower after four concurrent
// ones). llama-server moves idle slots to a host-memory prompt cache for the same reason. So idle
// sequences' caches are copied to host memory (llama_state_seq_get_data) and removed, when the decode
// thread goes idle (ParkWhenIdle) and when a job starts (AdmitPending); a later prompt on such a sequence
// that shares a prefix brings it back (restored contiguously) instead of evaluating it again. Parked
// copies never hold more than a full KV cache; beyond that the oldest goes.
void Context::Park(int32_t seq) {
  auto& tokens = seq_tokens_[seq];
  llama_memory_t mem = llama_get_memory(ctx_);
  std::vector<uint8_t> data(llama_state_seq_get_size(ctx_, seq));
  if (!data.empty() && parked_budget_ == 0) parked_budget_ = (data.size() / std::max<size_t>(tokens.size(), 1) + 1) * llama_n_ctx(ctx_);
  while (!data.empty() && parked_bytes_ + data.size() > parked_budget_) {
    int32_t oldest = -1;
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      if (!parked_[s].empty() && (oldest < 0 || parked_at_[s] < parked_at_[oldest])) oldest = static_cast<int32_t>(s);
    }
    if (oldest < 0) {
      data.clear();  // larger than the budget on its own: forget it
      break;
    }
    DropParked(oldest);
  }
  if (!data.empty() && llama_state_seq_get_data(ctx_, data.data(), data.size(), seq) != data.size()) data.clear();
  llama_memory_seq_rm(mem, seq, -1, -1);
  if (data.empty()) {
    tokens.clear();
    return;
  }
  parked_bytes_ += data.size();
  parked_at_[seq] = ++park_clock_;
  parked_[seq] = std::move(data);
}

bool Context::Unpark(int32_t seq) {
  auto& data = parked_[seq];
  if (data.empty()) return true;
  if (llama_state_seq_set_data(ctx_, data.data(), data.size(), seq) == 0) {
    llama_memory_seq_rm(llama_get_memory(ctx_), seq, -1, -1);
    return false;
  }
  parked_bytes_ -= data.size();
  std::vector<uint8_t>().swap(data);
  return true;
}

void Context::DropParked(int32_t seq) {
  auto& data = parked_[seq];
  if (data.empty()) return;
  parked_bytes_ -= data.size();
  std::vector<uint8_t>().swap(data);
  seq_tokens_[seq].clear();
}

// Parking at admission costs the new request's time to first token (a copy per idle sequence, ~5 ms
// for three of 190 tokens after a 4-stream batch). Most of it can happen while nothing runs: every idle
// sequence but the one used last (a chat's next turn most likely goes there, and JavaScript routes ties
// to it) is parked as soon as the decode thread has nothing to do, unless a job is already waiting.
void Context::ParkWhenIdle() {
  if (n_seq_max_ <= 1 || !active_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !pending_.empty()) return;
  }
  int32_t latest = -1;
  for (uint32_t s = 0; s < n_seq_max_; s++) {
    if (InKvCache(s) && (latest < 0 || last_used_[s] > last_used_[latest])) latest = static_cast<int32_t>(s);
  }
  for (uint32_t s = 0; s < n_seq_max_; s++) {
    if (static_cast<int32_t>(s) != latest && InKvCache(s)) Park(static_cast<int32_t>(s));
  }
}

}  // namespace westfall
