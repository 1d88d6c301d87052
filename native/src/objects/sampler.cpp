#include "objects/sampler.h"

#include <algorithm>
#include <cmath>

#include "reasoning-budget.h"
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
  vocab_ = vocab;
  n_vocab_ = llama_vocab_n_tokens(vocab);

  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  chain_ = llama_sampler_chain_init(cp);

  try {
    // The grammar is not part of the chain: every token is first picked without it and then checked
    // (llama.cpp's rejection sampling), and only a token the grammar refuses sends the whole vocabulary
    // through it. A lazy grammar waiting for its trigger then costs one check per token.
    if (!p.grammar.empty()) {
      lazy_ = p.grammar_lazy;
      if (lazy_) {
        std::vector<const char*> patterns;
        for (const auto& s : p.trigger_patterns) patterns.push_back(s.c_str());
        grammar_ = llama_sampler_init_grammar_lazy_patterns(vocab, p.grammar.c_str(), "root", patterns.data(), patterns.size(),
                                                            p.trigger_tokens.data(), p.trigger_tokens.size());
      } else {
        grammar_ = llama_sampler_init_grammar(vocab, p.grammar.c_str(), "root");
      }
      if (grammar_ == nullptr) throw CodedException("invalid_params", "the grammar could not be parsed (llama.cpp prints the position to stderr)");
      if (!lazy_ && p.grammar_prefill) {
        for (llama_token t : p.prefill) llama_sampler_accept(grammar_, t);
      }
    }
    if (p.reasoning_budget >= 0 && !p.reasoning_start.empty() && !p.reasoning_end.empty()) {
      budget_ = common_reasoning_budget_init(vocab, {p.reasoning_start}, p.reasoning_end, p.reasoning_forced, p.reasoning_budget,
                                             p.reasoning_open ? REASONING_BUDGET_COUNTING : REASONING_BUDGET_IDLE);
      if (!p.reasoning_open) {
        for (llama_token t : p.prefill) llama_sampler_accept(budget_, t);
      }
      budget_params_ = p;
    }
  } catch (const CodedException&) {
    Free();
    throw;
  } catch (const std::exception& e) {
    Free();
    throw CodedException("invalid_params", std::string("the grammar does not fit the start of the reply: ") + e.what());
  }

  const bool penalties = p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  if (penalties) {
    llama_sampler_chain_add(chain_, llama_sampler_init_penalties(n_vocab_, p.repeat_last_n, p.repeat_penalty,
                                                                 p.frequency_penalty, p.presence_penalty));
  }
  if (p.temperature <= 0.0f) {
    greedy_ = !penalties;
    llama_sampler_chain_add(chain_, llama_sampler_init_greedy());
    return;
  }
  if (!penalties && p.top_k > 0 && p.top_k < n_vocab_) {
    pre_top_k_ = p.top_k;  // done in Pick(); top-k as the chain's first stage is the same distribution
    top_k_ = llama_sampler_init_top_k(p.top_k);
  } else if (p.top_k > 0) {
    llama_sampler_chain_add(chain_, llama_sampler_init_top_k(p.top_k));
  }
  if (p.top_p < 1.0f) llama_sampler_chain_add(chain_, llama_sampler_init_top_p(p.top_p, 1));
  if (p.min_p > 0.0f) llama_sampler_chain_add(chain_, llama_sampler_init_min_p(p.min_p, 1));
  llama_sampler_chain_add(chain_, llama_sampler_init_temp(p.temperature));
  llama_sampler_chain_add(chain_, llama_sampler_init_dist(p.seed));
}

Sampler::~Sampler() { Free(); }

void Sampler::Free() {
  for (llama_sampler** s : {&chain_, &top_k_, &grammar_, &budget_}) {
    if (*s != nullptr) llama_sampler_free(*s);
    *s = nullptr;
  }
}

// As in llama.cpp's common sampler: while a lazy grammar's model is inside its thinking block, the
// grammar waits (a trigger word in the thinking must not start a tool call).
bool Sampler::GrammarApplies() const {
  if (grammar_ == nullptr) return false;
  if (budget_ == nullptr || !lazy_) return true;
  const auto state = common_reasoning_budget_get_state(budget_);
  return state == REASONING_BUDGET_IDLE || state == REASONING_BUDGET_DONE;
}

bool Sampler::Allowed(llama_token token) {
  if (grammar_ == nullptr && budget_ == nullptr) return true;
  llama_token_data one = {token, 1.0f, 0.0f};
  llama_token_data_array arr = {&one, 1, -1, false};
  if (budget_ != nullptr) llama_sampler_apply(budget_, &arr);
  if (GrammarApplies()) llama_sampler_apply(grammar_, &arr);
  return one.logit != -INFINITY;
}

// The budget sampler recognizes the start tag by its token sequence, as the tokenizer writes the tag on
// its own. A model may spell it with other tokens (a vocabulary without a special <think> token, say:
// " <" "think" ">"), and then its thinking would go uncounted; so the generated text is watched too, and
// a start tag seen there opens a counting budget.
void Sampler::WatchThinkingStart(llama_token token) {
  const std::string& tag = budget_params_.reasoning_start_text;
  if (tag.empty()) return;
  const auto state = common_reasoning_budget_get_state(budget_);
  if (state != REASONING_BUDGET_IDLE && state != REASONING_BUDGET_DONE) {
    recent_.clear();
    return;
  }
  char buf[128];
  int32_t n = llama_token_to_piece(vocab_, token, buf, sizeof(buf), 0, true);
  if (n <= 0) return;
  // The tag may end inside this piece ("think>v"): look for it where the piece could complete it.
  const size_t from = recent_.size() >= tag.size() ? recent_.size() - tag.size() + 1 : 0;
  recent_.append(buf, n);
  const bool opened = recent_.find(tag, from) != std::string::npos;
  if (recent_.size() > 4 * tag.size() + 64) recent_.erase(0, recent_.size() - (2 * tag.size() + 32));
  if (opened) {
    llama_sampler_free(budget_);
    const auto& b = budget_params_;
    budget_ = common_reasoning_budget_init(vocab_, {b.reasoning_start}, b.reasoning_end, b.reasoning_forced, b.reasoning_budget, REASONING_BUDGET_COUNTING);
    recent_.clear();
  }
}

void Sampler::Accept(llama_token token) {
  const bool accept_grammar = GrammarApplies();
  if (budget_ != nullptr) {
    llama_sampler_accept(budget_, token);
    WatchThinkingStart(token);
    // Thinking just ended: the end sequence may itself start a tool call, so the grammar sees it.
    if (grammar_ != nullptr && !accept_grammar && common_reasoning_budget_get_state(budget_) == REASONING_BUDGET_DONE) {
      if (const llama_tokens* end = common_reasoning_budget_get_end_match(budget_)) {
        for (llama_token t : *end) llama_sampler_accept(grammar_, t);
      }
    }
  }
  if (accept_grammar) llama_sampler_accept(grammar_, token);
  llama_sampler_accept(chain_, token);
}

// Our own version of llama_sampler_sample: the library's asserts (aborting the process) when nothing is
// selected, and llama.cpp's grammar throws when it is handed a token it cannot take; a desktop app must
// turn both into an error of that one generation instead.
llama_token Sampler::Sample(llama_context* ctx, int32_t idx) {
  const float* logits = llama_get_logits_ith(ctx, idx);
  if (logits == nullptr) return -1;
  try {
    llama_token token = Pick(logits);
    if (token < 0 || !Allowed(token)) token = PickConstrained(logits);
    if (token < 0) return -1;
    Accept(token);
    return token;
  } catch (const std::exception& e) {
    throw CodedException("grammar_error", std::string("the grammar could not continue: ") + e.what());
  }
}

llama_token Sampler::PickConstrained(const float* logits) {
  candidates_.resize(n_vocab_);
  for (llama_token t = 0; t < n_vocab_; t++) candidates_[t] = llama_token_data{t, logits[t], 0.0f};
  llama_token_data_array cur = {candidates_.data(), candidates_.size(), -1, false};
  if (budget_ != nullptr) llama_sampler_apply(budget_, &cur);
  if (GrammarApplies()) llama_sampler_apply(grammar_, &cur);
  if (top_k_ != nullptr) llama_sampler_apply(top_k_, &cur);
  llama_sampler_apply(chain_, &cur);
  if (cur.selected < 0 || cur.selected >= static_cast<int64_t>(cur.size)) return -1;
  if (cur.data[cur.selected].logit == -INFINITY) return -1;  // nothing was allowed
  return cur.data[cur.selected].id;
}

llama_token Sampler::Pick(const float* logits) {
  if (greedy_) return ArgMax(logits, n_vocab_);
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
    return cur.data[cur.selected].id;
  }
  candidates_.resize(n_vocab_);
  for (llama_token t = 0; t < n_vocab_; t++) candidates_[t] = llama_token_data{t, logits[t], 0.0f};
  llama_token_data_array cur = {candidates_.data(), candidates_.size(), -1, false};
  llama_sampler_apply(chain_, &cur);
  if (cur.selected < 0 || cur.selected >= static_cast<int64_t>(cur.size)) return -1;
  return cur.data[cur.selected].id;
}

}  // namespace westfall
