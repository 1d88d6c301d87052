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
  const size_t size = llama_state_seq_get_size(ctx_, seq);
  std::vector<uint8_t> data;
  if (park_spare_.capacity() >= size) {
    data.swap(park_spare_);
  } else {
    // After a restart the conversation came from disk through the restore buffer, whose pages are
    // already the process's: park into it rather than into fresh memory.
    std::lock_guard<std::mutex> lock(mutex_);
    if (restore_spare_.capacity() >= size) data.swap(restore_spare_);
  }
  // A conversation grows between parks: room for a quarter more, whose pages stay untouched until used.
  if (data.capacity() < size) data.reserve(size + size / 4);
  data.resize(size);  // within what the buffer held before: no fill, no new pages
  if (!data.empty() && parked_budget_ == 0) parked_budget_ = (data.size() / std::max<size_t>(tokens.size(), 1) + 1) * llama_n_ctx(ctx_);
  while (!data.empty() && parked_bytes_ + data.size() > parked_budget_) {
    int32_t oldest = -1;
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      if (!parked_[s].empty() && (oldest < 0 || parked_at_[s] < parked_at_[oldest])) oldest = static_cast<int32_t>(s);
    }
    if (oldest < 0) {
      KeepSpare(data);  // larger than the budget on its own: forget it
      break;
    }
    DropParked(oldest);
  }
  if (!data.empty() && llama_state_seq_get_data(ctx_, data.data(), data.size(), seq) != data.size()) KeepSpare(data);
  llama_memory_seq_rm(mem, seq, -1, -1);
  if (data.empty()) {
    KeepSpare(data);
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
  KeepSpare(data);
  return true;
}

// Keeps `data` for the next park if it is larger than the spare (up to 256 MiB), else gives it to the
// restore buffer if larger than that one, and leaves `data` empty. A kept buffer keeps its size, so a
// park that needs no more than that does not write it before the copy.
void Context::KeepSpare(std::vector<uint8_t>& data) {
  if (data.capacity() <= kSpareBytesMax) {
    if (data.capacity() > park_spare_.capacity()) {
      park_spare_.swap(data);
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      if (data.capacity() > restore_spare_.capacity()) {
        data.clear();
        restore_spare_.swap(data);
      }
    }
  }
  std::vector<uint8_t>().swap(data);
}

void Context::DropParked(int32_t seq) {
  auto& data = parked_[seq];
  if (data.empty()) return;
  parked_bytes_ -= data.size();
  KeepSpare(data);
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
  // The latest one is parked when another conversation starts: have its buffer's pages ready now, while
  // nothing runs, rather than fault them in then (~110 ms for a 2,900-token conversation).
  if (latest >= 0) {
      const size_t size = llama_state_seq_get_size(ctx_, latest);
    if (size > park_spare_.capacity() && size + size / 4 <= kSpareBytesMax) {
      std::vector<uint8_t>().swap(park_spare_);
      park_spare_.reserve(size + size / 4);
      park_spare_.resize(size + size / 4);  // written once: the pages are the process's from now on
    }
  }
}

}  // namespace westfall

namespace westfall {

namespace {

// Below this many more tokens, bringing in another copy of a prefix is not worth disturbing the sequence.
constexpr size_t kMinGain = 16;

size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) n++;
  return n;
}

}  // namespace

// Where the prompt's prefix comes from, cheapest to evaluate first: the sequence's own cache (resident or
// parked), a saved state JavaScript read from disk for this job, or another sequence holding a longer
// prefix (a new chat shares the system prompt and tool definitions with every other chat of the model).
// In the unified KV cache a copy from a resident sequence only tags the same cells with a second
// sequence id; from a parked one it is a memory copy. Recurrent and hybrid models cannot cut a copied
// state part-way, so they only reuse their own.
size_t Context::PreparePrefix(Job& job) {
  llama_memory_t mem = llama_get_memory(ctx_);
  const int32_t seq = job.seq;
  auto& cached = seq_tokens_[seq];
  auto clear = [&] {
    DropParked(seq);
    llama_memory_seq_rm(mem, seq, -1, -1);
    cached.clear();
  };
  std::vector<llama_token> restore_tokens;
  std::vector<uint8_t> restore_data;
  restore_tokens.swap(job.restore_tokens);
  restore_data.swap(job.restore_data);
  struct GiveBack {  // on every return below
    Context* self;
    std::vector<uint8_t>& data;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(self->mutex_);
      if (data.capacity() > self->restore_spare_.capacity() && data.capacity() <= kSpareBytesMax) {
        data.clear();
        self->restore_spare_.swap(data);
      }
    }
  } give_back{this, restore_data};
  if (!job.cache_prompt) {
    clear();
    return 0;
  }

  const bool can_share = !llama_model_is_recurrent(model_->model) && !llama_model_is_hybrid(model_->model);
  size_t own = CommonPrefix(cached, job.prompt);
  size_t from_disk = restore_data.empty() ? 0 : CommonPrefix(restore_tokens, job.prompt);
  int32_t other = -1;
  size_t from_other = 0;
  if (can_share) {
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      if (static_cast<int32_t>(s) == seq || seq_tokens_[s].empty()) continue;
      size_t n = CommonPrefix(seq_tokens_[s], job.prompt);
      if (n > from_other) {
        from_other = n;
        other = static_cast<int32_t>(s);
      }
    }
  }

  enum { Own, Disk, Other } source = Own;
  size_t best = own;
  if (from_disk > best + kMinGain) source = Disk, best = from_disk;
  if (from_other > best + kMinGain) source = Other, best = from_other;

  size_t p = 0;
  if (source == Own) {
    p = own;
    if (!parked_[seq].empty() && (p == 0 || !Unpark(seq))) {
      DropParked(seq);
      p = 0;
    }
  } else if (source == Disk) {
    clear();
    if (llama_state_seq_set_data(ctx_, restore_data.data(), restore_data.size(), seq) != 0) {
      cached = std::move(restore_tokens);
      p = from_disk;
    } else {
      llama_memory_seq_rm(mem, seq, -1, -1);  // another model's or context's state: evaluate instead
    }
  } else {
    clear();
    if (parked_[other].empty()) {
      llama_memory_seq_cp(mem, other, seq, 0, static_cast<llama_pos>(from_other));
      cached.assign(job.prompt.begin(), job.prompt.begin() + static_cast<std::ptrdiff_t>(from_other));
      p = from_other;
    } else if (llama_state_seq_set_data(ctx_, parked_[other].data(), parked_[other].size(), seq) != 0) {
      cached = seq_tokens_[other];
      p = from_other;
    } else {
      llama_memory_seq_rm(mem, seq, -1, -1);
    }
  }

  // At least one token is always evaluated, since sampling needs fresh logits.
  if (p >= job.prompt.size()) p = job.prompt.size() - 1;
  if (p < cached.size()) {
    if (!llama_memory_seq_rm(mem, seq, static_cast<llama_pos>(p), -1)) {
      clear();  // recurrent caches cannot be cut part-way
      p = 0;
    }
    cached.resize(p);
  }
  // A sliding-window cache keeps only the last window of positions: continuing at p needs the window
  // before p, which a longer cache cut back (or copied) may no longer hold. llama-server checks the same.
  const int32_t n_swa = llama_model_n_swa(model_->model);
  if (p > 0 && n_swa > 0) {
    llama_pos pos_min = llama_memory_seq_pos_min(mem, seq);
    if (pos_min > std::max<llama_pos>(0, static_cast<llama_pos>(p) - n_swa)) {
      clear();
      p = 0;
    }
  }
  if (source == Disk) job.n_restored = p;
  if (source == Other) job.n_copied = p;
  return p;
}

}  // namespace westfall
