#include "objects/sampler.h"

#include <algorithm>
#include <cmath>

#include "util/errors.h"

namespace westfall {

namespace {

// The scans below run once per generated token over the whole vocabulary (150k logits for Qwen), which
// made sampling a sixth of a small model's token time. Independent lanes remove the loop-carried
// dependency of a plain "best so far" loop, so the compiler keeps them in registers and vectorizes.
constexpr int32_t kLanes = 16;

// Index of the largest logit, the first one on ties (as a plain scan would pick). NaNs never win.
llama_token ArgMax(const float* x, int32_t n) {
  float best[kLanes];
  int32_t idx[kLanes];
  for (int32_t l = 0; l < kLanes; l++) {
    best[l] = -INFINITY;
    idx[l] = 0;
  }
  int32_t t = 0;
  for (; t + kLanes <= n; t += kLanes) {
    for (int32_t l = 0; l < kLanes; l++) {
      const bool more = x[t + l] > best[l];
      best[l] = more ? x[t + l] : best[l];
      idx[l] = more ? t + l : idx[l];
    }
  }
  for (int32_t l = 0; t < n; t++, l++) {
    if (x[t] > best[l]) {
      best[l] = x[t];
      idx[l] = t;
    }
  }
  int32_t b = 0;
  for (int32_t l = 1; l < kLanes; l++) {
    if (best[l] > best[b] || (best[l] == best[b] && idx[l] < idx[b])) b = l;
  }
  return idx[b];
}

// Whether any of x[0..kLanes) is above thr (compare and OR: vectorizes, unlike a max reduction).
inline bool AnyAbove(const float* x, float thr) {
  int32_t hit = 0;
  for (int32_t l = 0; l < kLanes; l++) hit |= x[l] > thr ? 1 : 0;
  return hit != 0;
}

}  // namespace

Sampler::Sampler(const llama_model* model, const SamplingParams& p) {
  const llama_vocab* vocab = llama_model_get_vocab(model);
  n_vocab_ = llama_vocab_n_tokens(vocab);

  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  chain_ = llama_sampler_chain_init(cp);

  // The grammar goes first so that every later stage only redistributes probability among tokens the
  // grammar allows; truncation (top-k/p) before it could leave nothing legal to pick.
  if (!p.grammar.empty()) {
    llama_sampler* g = llama_sampler_init_grammar(vocab, p.grammar.c_str(), "root");
    if (g == nullptr) {
      llama_sampler_free(chain_);
      chain_ = nullptr;
      throw CodedException("invalid_params", "the grammar could not be parsed (llama.cpp prints the position to stderr)");
    }
    llama_sampler_chain_add(chain_, g);
  }
  const bool penalties = p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  const bool exact_logits_first = p.grammar.empty() && !penalties;
  if (penalties) {
    llama_sampler_chain_add(chain_, llama_sampler_init_penalties(n_vocab_, p.repeat_last_n, p.repeat_penalty,
                                                                 p.frequency_penalty, p.presence_penalty));
  }
  if (p.temperature <= 0.0f) {
    greedy_ = exact_logits_first;
    llama_sampler_chain_add(chain_, llama_sampler_init_greedy());
    return;
  }
  if (exact_logits_first && p.top_k > 0 && p.top_k < n_vocab_) {
    pre_top_k_ = p.top_k;  // done in Sample(); top-k as the chain's first stage is the same distribution
  } else if (p.top_k > 0) {
    llama_sampler_chain_add(chain_, llama_sampler_init_top_k(p.top_k));
  }
  if (p.top_p < 1.0f) llama_sampler_chain_add(chain_, llama_sampler_init_top_p(p.top_p, 1));
  if (p.min_p > 0.0f) llama_sampler_chain_add(chain_, llama_sampler_init_min_p(p.min_p, 1));
  llama_sampler_chain_add(chain_, llama_sampler_init_temp(p.temperature));
  llama_sampler_chain_add(chain_, llama_sampler_init_dist(p.seed));
}

Sampler::~Sampler() {
  if (chain_ != nullptr) llama_sampler_free(chain_);
}

// Our own version of llama_sampler_sample: the library's asserts (aborting the process) when nothing is
// selected, and a desktop app must turn that into an error instead.
llama_token Sampler::Sample(llama_context* ctx, int32_t idx) {
  const float* logits = llama_get_logits_ith(ctx, idx);
  if (logits == nullptr) return -1;
  if (greedy_) {
    const llama_token best = ArgMax(logits, n_vocab_);
    llama_sampler_accept(chain_, best);
    return best;
  }
  if (pre_top_k_ > 0) {
    // A min-heap of the k largest logits: one pass, and most logits fail the first comparison.
    auto cmp = [](const llama_token_data& a, const llama_token_data& b) { return a.logit > b.logit; };
    candidates_.clear();
    candidates_.reserve(pre_top_k_);
    auto offer = [&](llama_token t) {
      if (static_cast<int32_t>(candidates_.size()) < pre_top_k_) {
        candidates_.push_back({t, logits[t], 0.0f});
        std::push_heap(candidates_.begin(), candidates_.end(), cmp);
      } else if (logits[t] > candidates_.front().logit) {
        std::pop_heap(candidates_.begin(), candidates_.end(), cmp);
        candidates_.back() = {t, logits[t], 0.0f};
        std::push_heap(candidates_.begin(), candidates_.end(), cmp);
      }
    };
    llama_token t = 0;
    for (; t + kLanes <= n_vocab_; t += kLanes) {
      // Once the heap is full, a block whose largest logit does not beat the k-th best is skipped whole:
      // that is nearly every block, and the block maximum vectorizes.
      if (static_cast<int32_t>(candidates_.size()) == pre_top_k_ && !AnyAbove(logits + t, candidates_.front().logit)) continue;
      for (llama_token u = t; u < t + kLanes; u++) offer(u);
    }
    for (; t < n_vocab_; t++) offer(t);
    std::sort(candidates_.begin(), candidates_.end(), [](const auto& a, const auto& b) { return a.logit > b.logit; });
    llama_token_data_array cur = {candidates_.data(), candidates_.size(), -1, true};
    llama_sampler_apply(chain_, &cur);
    if (cur.selected < 0 || cur.selected >= static_cast<int64_t>(cur.size)) return -1;
    llama_token token = cur.data[cur.selected].id;
    llama_sampler_accept(chain_, token);
    return token;
  }
  candidates_.resize(n_vocab_);
  for (llama_token t = 0; t < n_vocab_; t++) candidates_[t] = llama_token_data{t, logits[t], 0.0f};
  llama_token_data_array cur = {candidates_.data(), candidates_.size(), -1, false};
  llama_sampler_apply(chain_, &cur);
  if (cur.selected < 0 || cur.selected >= static_cast<int64_t>(cur.size)) return -1;
  llama_token token = cur.data[cur.selected].id;
  llama_sampler_accept(chain_, token);
  return token;
}

}  // namespace westfall
