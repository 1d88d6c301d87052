// A generation's parameters, read on the JavaScript thread: the job's options (stops, limits, rendering)
// and its sampler's (sampling, grammar with lazy triggers, reasoning budget). Text that names tokens
// (trigger words, preserved tokens, thinking tags, the generation prompt) is tokenized here, once.
#include <algorithm>

#include "common.h"
#include "objects/context_internal.h"
#include "util/convert.h"
#include "util/errors.h"

namespace westfall {

namespace {

std::vector<llama_token> Tokenize(const llama_vocab* vocab, const std::string& text) {
  return common_tokenize(vocab, text, false, true);
}

// A single token id for `text`, or -1 when the vocabulary writes it with several.
llama_token SingleToken(const llama_vocab* vocab, const std::string& text) {
  auto ids = Tokenize(vocab, text);
  return ids.size() == 1 ? ids[0] : -1;
}

// The same characters as text: used to match a trigger word anywhere in the output.
std::string RegexEscape(const std::string& s) {
  static const std::string kSpecial = R"(.^$|()*+?[]{}\)";
  std::string out;
  for (char c : s) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void ReadGenerateParams(Napi::Env env, const llama_vocab* vocab, const Napi::Object& p, Job& job, SamplingParams& sp) {
  sp.temperature = static_cast<float>(GetNumber(p, "temperature", sp.temperature));
  sp.top_k = static_cast<int32_t>(GetNumber(p, "topK", sp.top_k));
  sp.top_p = static_cast<float>(GetNumber(p, "topP", sp.top_p));
  sp.min_p = static_cast<float>(GetNumber(p, "minP", sp.min_p));
  sp.repeat_penalty = static_cast<float>(GetNumber(p, "repeatPenalty", sp.repeat_penalty));
  sp.repeat_last_n = static_cast<int32_t>(GetNumber(p, "repeatLastN", sp.repeat_last_n));
  sp.presence_penalty = static_cast<float>(GetNumber(p, "presencePenalty", sp.presence_penalty));
  sp.frequency_penalty = static_cast<float>(GetNumber(p, "frequencyPenalty", sp.frequency_penalty));
  if (Has(p, "seed")) sp.seed = static_cast<uint32_t>(GetNumber(p, "seed", 0));
  sp.grammar = GetString(p, "grammar", "");

  // Preserved tokens first: a trigger word that is one preserved token becomes a token trigger.
  for (const auto& text : GetStringArray(p, "preservedTokens")) {
    llama_token t = SingleToken(vocab, text);
    if (t >= 0) job.preserved.insert(t);
  }
  sp.grammar_lazy = GetBool(p, "grammarLazy", false);
  if (Has(p, "grammarTriggers")) {
    Napi::Value v = p.Get("grammarTriggers");
    if (!v.IsArray()) throw CodedError(env, "invalid_params", "grammarTriggers must be an array");
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      if (!a.Get(i).IsObject()) throw CodedError(env, "invalid_params", "each grammar trigger must be an object");
      Napi::Object t = a.Get(i).As<Napi::Object>();
      std::string type = GetString(t, "type", "word");
      std::string value = GetString(t, "value", "");
      if (value.empty() && type != "pattern_full") throw CodedError(env, "invalid_params", "a grammar trigger needs a value");
      if (type == "word" || type == "token") {
        llama_token id = SingleToken(vocab, value);
        if (id >= 0 && job.preserved.count(id)) sp.trigger_tokens.push_back(id);
        else sp.trigger_patterns.push_back(RegexEscape(value));
      } else if (type == "pattern") {
        sp.trigger_patterns.push_back(value);
      } else if (type == "pattern_full") {
        std::string anchored = value.empty() ? "^$" : (value.front() != '^' ? "^" : "") + value + (value.back() != '$' ? "$" : "");
        sp.trigger_patterns.push_back(anchored);
      } else {
        throw CodedError(env, "invalid_params", "unknown grammar trigger type '" + type + "'");
      }
    }
  }
  if (sp.grammar_lazy && !sp.grammar.empty() && sp.trigger_patterns.empty() && sp.trigger_tokens.empty()) {
    throw CodedError(env, "invalid_params", "a lazy grammar needs at least one trigger");
  }
  sp.grammar_prefill = GetBool(p, "grammarPrefill", false);
  std::string generation_prompt = GetString(p, "generationPrompt", "");
  if (!generation_prompt.empty()) {
    auto tokens = Tokenize(vocab, generation_prompt);
    for (size_t i = 0; i < tokens.size(); i++) {
      // As llama.cpp's sampler does: some tokenizers put a space before the first special token.
      std::string piece = common_token_to_piece(vocab, tokens[i], true);
      if (i == 0 && !piece.empty() && std::isspace(static_cast<unsigned char>(piece[0])) &&
          !std::isspace(static_cast<unsigned char>(generation_prompt[0]))) {
        continue;
      }
      sp.prefill.push_back(tokens[i]);
    }
  }
  if (Has(p, "reasoningBudget")) {
    Napi::Value v = p.Get("reasoningBudget");
    if (!v.IsObject()) throw CodedError(env, "invalid_params", "reasoningBudget must be an object");
    Napi::Object rb = v.As<Napi::Object>();
    sp.reasoning_budget = static_cast<int32_t>(GetNumber(rb, "tokens", -1));
    std::string start = GetString(rb, "startTag", "");
    if (!start.empty()) sp.reasoning_start = Tokenize(vocab, start);
    sp.reasoning_start_text = start;
    size_t end = generation_prompt.find_last_not_of(" \t\r\n");
    std::string trimmed = end == std::string::npos ? std::string() : generation_prompt.substr(0, end + 1);
    sp.reasoning_open = !start.empty() && trimmed.size() >= start.size() && trimmed.compare(trimmed.size() - start.size(), start.size(), start) == 0;
    for (const auto& tag : GetStringArray(rb, "endTags")) {
      if (!tag.empty()) sp.reasoning_end.push_back(Tokenize(vocab, tag));
    }
    if (!sp.reasoning_end.empty()) {
      sp.reasoning_forced = sp.reasoning_end.front();
      std::string message = GetString(rb, "message", "");
      if (!message.empty()) {
        auto m = Tokenize(vocab, message);
        sp.reasoning_forced.insert(sp.reasoning_forced.begin(), m.begin(), m.end());
      }
    }
  }

  job.max_tokens = static_cast<int32_t>(GetNumber(p, "maxTokens", 2048));
  job.stops = GetStringArray(p, "stop");
  job.stops.erase(std::remove_if(job.stops.begin(), job.stops.end(), [](const std::string& s) { return s.empty(); }), job.stops.end());
  job.render_special = GetBool(p, "renderSpecial", false);
  job.ignore_eos = GetBool(p, "ignoreEos", false);
}

}  // namespace westfall
