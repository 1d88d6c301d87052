#pragma once
// A sampler chain built from one generation's parameters. Owned by that generation (one per sequence
// slot), so concurrent generations never share penalty history or RNG state.
#include <cstdint>
#include <string>
#include <vector>
#include "llama.h"

namespace westfall {

struct SamplingParams {
  float temperature = 0.7f;
  int32_t top_k = 40;
  float top_p = 0.9f;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  int32_t repeat_last_n = 64;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint32_t seed = LLAMA_DEFAULT_SEED;
  std::string grammar;  // GBNF, empty for none
};

class Sampler {
 public:
  // Throws CodedException("invalid_params") when the grammar does not parse.
  Sampler(const llama_model* model, const SamplingParams& params);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Picks the next token from the logits at batch index `idx` and records it in the chain's history.
  // Returns -1 when the chain selected nothing (e.g. a grammar that allows no token).
  llama_token Sample(llama_context* ctx, int32_t idx);

 private:
  llama_sampler* chain_ = nullptr;
  int32_t n_vocab_ = 0;
  // Fast path: when nothing before top-k changes logits (no grammar, no penalties), the k best are
  // selected straight from the logits and only they enter the chain, instead of all n_vocab.
  int32_t pre_top_k_ = 0;
  bool greedy_ = false;
  std::vector<llama_token_data> candidates_;  // reused: one allocation per generation, not per token
};

}  // namespace westfall
