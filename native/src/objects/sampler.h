#pragma once
// A sampler chain built from one generation's parameters. Owned by that generation (one per sequence
// slot), so concurrent generations never share penalty history, grammar state or RNG state.
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
  // Lazy: free text until a trigger (a regex over the output, or a token) matches, then constrained.
  // A chat format's tool-call grammar is lazy, so a model may answer or call.
  bool grammar_lazy = false;
  std::vector<std::string> trigger_patterns;
  std::vector<llama_token> trigger_tokens;
  // The part of the assistant turn the template already wrote (e.g. "<think>\n"): fed to the grammar
  // (when it came from the template: grammar_prefill) and to the reasoning budget before generation.
  std::vector<llama_token> prefill;
  bool grammar_prefill = false;
  // Reasoning budget (common/reasoning-budget.h): at most budget tokens between a start and an end
  // sequence, then `forced` (a message and the first end tag) is forced. budget < 0: no limit.
  int32_t reasoning_budget = -1;
  std::vector<llama_token> reasoning_start;
  std::vector<std::vector<llama_token>> reasoning_end;
  std::vector<llama_token> reasoning_forced;
  // The template opened the thinking block itself (the generation prompt ends with the start tag): the
  // budget counts from the first token. Matching the tag's tokens in the prefill would depend on how the
  // tokenizer merged it with what surrounds it.
  bool reasoning_open = false;
  std::string reasoning_start_text;  // the start tag as text (see Sampler::Accept)
};

class Sampler {
 public:
  // Throws CodedException("invalid_params") when the grammar does not parse or the prefill does not fit it.
  Sampler(const llama_model* model, const SamplingParams& params);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Picks the next token from the logits at batch index `idx` and records it in the chain's history.
  // Returns -1 when nothing is left to pick (a grammar that allows no token). Throws
  // CodedException("grammar_error") when the grammar rejects the token it was given.
  llama_token Sample(llama_context* ctx, int32_t idx);

 private:
  llama_token Pick(const float* logits);  // unconstrained choice (the fast paths)
  llama_token PickConstrained(const float* logits);  // every candidate through budget and grammar
  bool Allowed(llama_token token);
  bool GrammarApplies() const;
  void Accept(llama_token token);
  void Free();
  void WatchThinkingStart(llama_token token);

  // To re-arm the budget when the model opens a thinking block in other tokens than the tag's own.
  const llama_vocab* vocab_ = nullptr;
  SamplingParams budget_params_;
  std::string recent_;  // the last pieces generated while no thinking block is open

  llama_sampler* chain_ = nullptr;    // penalties ... dist (or greedy); never the grammar
  llama_sampler* top_k_ = nullptr;    // only with the pre-top-k fast path: top-k for the full path
  llama_sampler* grammar_ = nullptr;
  llama_sampler* budget_ = nullptr;
  bool lazy_ = false;
  int32_t n_vocab_ = 0;
  // Fast path: when nothing before top-k changes logits (no penalties), the k best are selected straight
  // from the logits and only they enter the chain, instead of all n_vocab.
  int32_t pre_top_k_ = 0;
  bool greedy_ = false;
  std::vector<llama_token_data> candidates_;  // reused: one allocation per generation, not per token
};

}  // namespace westfall
