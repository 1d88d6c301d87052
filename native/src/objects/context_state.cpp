// State files: a sequence's KV cache saved to and loaded from disk (llama_state_seq_*_file).
#include <algorithm>

#include "objects/context.h"
#include "objects/context_internal.h"
#include "util/convert.h"
#include "util/errors.h"

namespace westfall {

// saveState(seq, path) -> Promise<number of tokens saved>
Napi::Value Context::SaveState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t seq = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (seq < 0 || static_cast<uint32_t>(seq) >= n_seq_max_) throw CodedError(env, "invalid_params", "no such sequence");
  return QueueTask(env, [this, seq, path]() -> std::function<Napi::Value(Napi::Env)> {
    if (SeqBusy(active_, seq)) throw CodedException("invalid_params", "the sequence is generating; save its state after it finishes");
    if (!Unpark(seq)) {
      throw CodedException("context_overflow", "the sequence's cache is parked in memory and the KV cache has no room to bring it back while the other generations run; try again when they finish");
    }
    const auto& tokens = seq_tokens_[seq];
    size_t n = llama_state_seq_save_file(ctx_, path.c_str(), seq, tokens.data(), tokens.size());
    if (n == 0) throw CodedException("native_error", "could not write the state file " + path);
    size_t count = tokens.size();
    return [count](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(count)); };
  });
}

// loadState(seq, path) -> Promise<Int32Array of the tokens now cached>
Napi::Value Context::LoadState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t seq = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (seq < 0 || static_cast<uint32_t>(seq) >= n_seq_max_) throw CodedError(env, "invalid_params", "no such sequence");
  return QueueTask(env, [this, seq, path]() -> std::function<Napi::Value(Napi::Env)> {
    if (SeqBusy(active_, seq)) throw CodedException("invalid_params", "the sequence is generating; load state after it finishes");
    llama_memory_t mem = llama_get_memory(ctx_);
    DropParked(seq);
    llama_memory_seq_rm(mem, seq, -1, -1);
    seq_tokens_[seq].clear();
    std::vector<llama_token> tokens(n_ctx_seq_);
    size_t n_out = 0;
    size_t read = llama_state_seq_load_file(ctx_, path.c_str(), seq, tokens.data(), tokens.size(), &n_out);
    if (read == 0) {
      llama_memory_seq_rm(mem, seq, -1, -1);
      throw CodedException("invalid_params", "could not load the state file " + path + " (missing, corrupt, or from another model or context size)");
    }
    tokens.resize(n_out);
    seq_tokens_[seq] = tokens;
    return [tokens](Napi::Env env) -> Napi::Value { return ToInt32Array(env, tokens); };
  });
}

// stateData(seq) -> Promise<{ tokens, data } | null>: the sequence's tokens and KV state in memory, for
// JavaScript to write to disk off this thread (engine/prompt-cache.ts). null while it generates or holds
// nothing. Only the copy happens on the decode thread (tens of milliseconds for thousands of tokens).
Napi::Value Context::StateData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  int32_t seq = info[0].As<Napi::Number>().Int32Value();
  if (seq < 0 || static_cast<uint32_t>(seq) >= n_seq_max_) throw CodedError(env, "invalid_params", "no such sequence");
  return QueueTask(env, [this, seq]() -> std::function<Napi::Value(Napi::Env)> {
    auto none = [](Napi::Env env) -> Napi::Value { return env.Null(); };
    if (SeqBusy(active_, seq) || seq_tokens_[seq].empty()) return none;
    auto tokens = std::make_shared<std::vector<llama_token>>(seq_tokens_[seq]);
    auto data = std::make_shared<std::vector<uint8_t>>();
    if (!parked_[seq].empty()) {
      *data = parked_[seq];
    } else {
      data->resize(llama_state_seq_get_size(ctx_, seq));
      if (data->empty() || llama_state_seq_get_data(ctx_, data->data(), data->size(), seq) != data->size()) return none;
    }
    return [tokens, data](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("tokens", ToInt32Array(env, *tokens));
      // Handed over without a copy where the runtime allows external memory; Electron's V8 sandbox does
      // not, and there NewOrCopy copies (the vector is then freed right away).
      auto* owned = new std::vector<uint8_t>(std::move(*data));
      o.Set("data", Napi::Buffer<uint8_t>::NewOrCopy(env, owned->data(), owned->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned));
      return o;
    };
  });
}

}  // namespace westfall
