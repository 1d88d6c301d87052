#pragma once
// What the files of the Context class share (context.cpp: the object and its JavaScript methods;
// context_decode.cpp: the decode thread; context_parking.cpp: idle sequences moved to host memory;
// context_state.cpp: state files; context_sampling.cpp: a generation's parameters).
#include <napi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "llama.h"
#include "objects/sampler.h"

namespace westfall {

inline int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Job {
  uint32_t id = 0;
  int32_t seq = 0;
  std::vector<llama_token> prompt;
  std::unique_ptr<Sampler> sampler;
  int32_t max_tokens = 2048;
  std::vector<std::string> stops;
  bool render_special = false;
  // Special tokens that are part of the model's chat format (e.g. <tool_call>, <|channel|>): rendered as
  // text, so the format's parser sees them, while other special tokens stay hidden.
  std::unordered_set<llama_token> preserved;
  bool ignore_eos = false;
  // false: evaluate the whole prompt, reusing nothing (/v1 `cache_prompt: false`, for like-for-like timing).
  bool cache_prompt = true;
  // A saved state of this sequence read from disk by JavaScript (engine/prompt-cache.ts): used at admission
  // when it covers more of the prompt than what the sequence holds. Freed once admitted.
  std::vector<llama_token> restore_tokens;
  std::vector<uint8_t> restore_data;

  bool cancelled = false;
  bool finished = false;
  bool generating = false;
  size_t n_done = 0;    // prompt tokens in the KV cache
  size_t n_reused = 0;  // of which came from the previous turn
  size_t n_restored = 0;  // of those, from a saved state on disk
  size_t n_copied = 0;    // of those, copied from another sequence's cache (a shared prefix)
  llama_token last = -1;
  int32_t n_generated = 0;
  int32_t batch_idx = -1;
  size_t n_in_batch = 0;
  size_t pos_before = 0;
  std::string held;
  std::vector<int32_t> pending_tokens;
  bool delivered = false;  // some text was posted already
  int64_t t_start = 0, t_prompt_end = 0, t_first = 0;
};

struct Event {
  enum Kind { Chunk, Done, Error, TaskOk, TaskErr } kind;
  uint32_t id;
  std::string text;
  std::vector<int32_t> tokens;
  std::string code, message;
  std::function<Napi::Value(Napi::Env)> value;
};


inline bool SeqBusy(const std::vector<std::unique_ptr<Job>>& active, int32_t seq) {
  for (const auto& j : active) {
    if (j->seq == seq) return true;
  }
  return false;
}

// Reads generate()'s parameters (context_sampling.cpp): the job's options and its sampler. Throws a
// coded Napi::Error for bad input.
void ReadGenerateParams(Napi::Env env, const llama_vocab* vocab, const Napi::Object& p, Job& job, SamplingParams& sp);

}  // namespace westfall
