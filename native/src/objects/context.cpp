#include "objects/context.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "util/convert.h"
#include "util/errors.h"
#include "util/huge_pages.h"
#include "util/log.h"

namespace westfall {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Text reaches JavaScript at most this often while a generation runs (its first text and every other
// event at once). Each delivery costs the JavaScript thread ~0.4 ms of CPU in the server (event dispatch,
// an SSE or WebSocket frame, a socket write), and on a machine whose cores all decode that time is taken
// from the decode threads: one delivery per 11 ms token slowed the server's decoding by ~5% against the
// in-process engine. Every 30 ms, a CPU token stream arrives in groups of two or three, a GPU one in
// groups of ten or more, still smoother than a screen needs for reading.
constexpr int64_t kDeliveryIntervalUs = 30000;

// Bytes at the end of `s` that start a UTF-8 sequence which is not complete yet.
size_t IncompleteUtf8Tail(const std::string& s) {
  size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; back++) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t need = (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

// Length of the longest suffix of `s` that is a proper prefix of some stop string: that text must be
// held back, because the next token may complete the stop sequence.
size_t StopPrefixTail(const std::string& s, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const auto& stop : stops) {
    size_t max_len = std::min(stop.size() - 1, s.size());
    for (size_t len = max_len; len > keep; len--) {
      if (s.compare(s.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  return keep;
}

Napi::FunctionReference* g_context_ctor = nullptr;

ggml_type CacheType(Napi::Env env, const std::string& name) {
  static const std::pair<const char*, ggml_type> kTypes[] = {
      {"f32", GGML_TYPE_F32},   {"f16", GGML_TYPE_F16},   {"bf16", GGML_TYPE_BF16}, {"q8_0", GGML_TYPE_Q8_0},
      {"q5_1", GGML_TYPE_Q5_1}, {"q5_0", GGML_TYPE_Q5_0}, {"q4_1", GGML_TYPE_Q4_1}, {"q4_0", GGML_TYPE_Q4_0},
      {"iq4_nl", GGML_TYPE_IQ4_NL},
  };
  for (const auto& [n, t] : kTypes) {
    if (name == n) return t;
  }
  throw CodedError(env, "invalid_params", "unknown KV cache type '" + name + "'");
}

struct CreateResult {
  std::shared_ptr<ModelState> model;
  llama_context* ctx = nullptr;
  ggml_threadpool* threadpool = nullptr;
  ggml_threadpool* threadpool_batch = nullptr;
};

// Without an attached pool, ggml (built without OpenMP) creates and joins its worker threads for every
// graph, i.e. for every generated token; that alone cost more than half of the decode speed.
// The functions are looked up through the CPU backend's registry so this also works when the CPU
// backend is a dynamically loaded variant.
ggml_threadpool* NewThreadpool(int n_threads) {
  ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (dev == nullptr) return nullptr;
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
  auto* fn = reinterpret_cast<decltype(ggml_threadpool_new)*>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
  if (fn == nullptr) return nullptr;
  ggml_threadpool_params params = ggml_threadpool_params_default(n_threads);
  return fn(&params);
}

void FreeThreadpool(ggml_threadpool* tp) {
  if (tp == nullptr) return;
  ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (dev == nullptr) return;
  auto* fn = reinterpret_cast<decltype(ggml_threadpool_free)*>(
      ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(dev), "ggml_threadpool_free"));
  if (fn != nullptr) fn(tp);
}

class CreateWorker : public Napi::AsyncWorker {
 public:
  CreateWorker(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params, Napi::Function on_event)
      : Napi::AsyncWorker(env, "westfall.createContext"),
        deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)),
        params_(params),
        on_event_(Napi::Persistent(on_event)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    ClearLastNativeError();
    MappingSnapshot before;
    if (model_->huge_pages) before = SnapshotMappings();
    ctx_ = llama_init_from_model(model_->model, params_);
    if (ctx_ == nullptr) {
      std::string reason = LastNativeError();
      SetError("llama.cpp could not create the context" + (reason.empty() ? std::string(" (out of memory, or unsupported settings)") : ": " + reason));
      return;
    }
    tp_ = NewThreadpool(params_.n_threads);
    tp_batch_ = params_.n_threads_batch == params_.n_threads ? nullptr : NewThreadpool(params_.n_threads_batch);
    if (tp_ != nullptr) llama_attach_threadpool(ctx_, tp_, tp_batch_);
    // The compute buffer is still untouched and faults in as huge pages; the KV cache, already cleared,
    // is collapsed in the background (see util/huge_pages.h).
    if (model_->huge_pages) AdviseNewMappings(before, false);
  }

  void OnOK() override {
    auto* holder = new CreateResult{model_, ctx_, tp_, tp_batch_};
    Napi::Object obj = g_context_ctor->New({Napi::External<CreateResult>::New(Env(), holder)});
    Context* context = Napi::ObjectWrap<Context>::Unwrap(obj);
    context->Start(Env(), holder->model, holder->ctx, on_event_.Value(), holder->threadpool, holder->threadpool_batch);
    delete holder;
    deferred_.Resolve(obj);
  }

  void OnError(const Napi::Error& e) override {
    deferred_.Reject(CodedError(Env(), "native_error", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ModelState> model_;
  llama_context_params params_;
  Napi::FunctionReference on_event_;
  llama_context* ctx_ = nullptr;
  ggml_threadpool* tp_ = nullptr;
  ggml_threadpool* tp_batch_ = nullptr;
};

}  // namespace

struct Job {
  uint32_t id = 0;
  int32_t seq = 0;
  std::vector<llama_token> prompt;
  std::unique_ptr<Sampler> sampler;
  int32_t max_tokens = 2048;
  std::vector<std::string> stops;
  bool render_special = false;
  bool ignore_eos = false;

  bool cancelled = false;
  bool finished = false;
  bool generating = false;
  size_t n_done = 0;    // prompt tokens in the KV cache
  size_t n_reused = 0;  // of which came from the previous turn
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

Napi::Function Context::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Context", {
      InstanceMethod<&Context::Generate>("generate"),
      InstanceMethod<&Context::Cancel>("cancel"),
      InstanceMethod<&Context::Embed>("embed"),
      InstanceMethod<&Context::SaveState>("saveState"),
      InstanceMethod<&Context::LoadState>("loadState"),
      InstanceMethod<&Context::ClearSequence>("clearSequence"),
      InstanceMethod<&Context::CacheState>("cacheState"),
      InstanceMethod<&Context::Info>("info"),
      InstanceMethod<&Context::Dispose>("dispose"),
      InstanceAccessor<&Context::IsDisposed>("disposed"),
  });
  g_context_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  return ctor;
}

Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw CodedError(info.Env(), "invalid_params", "Context cannot be constructed directly; use model.createContext()");
  }
}

Context::~Context() { Shutdown(); }

// createContext(model, options, onEvent)
Napi::Value Context::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsFunction()) {
    throw CodedError(env, "invalid_params", "createContext(model, options, onEvent)");
  }
  Model* model = Napi::ObjectWrap<Model>::Unwrap(info[0].As<Napi::Object>());
  std::shared_ptr<ModelState> state = model->State(env);
  Napi::Object o = info[1].As<Napi::Object>();

  llama_context_params p = llama_context_default_params();
  p.n_ctx = static_cast<uint32_t>(GetNumber(o, "contextSize", 4096));
  p.n_batch = static_cast<uint32_t>(GetNumber(o, "batchSize", 512));
  p.n_ubatch = static_cast<uint32_t>(GetNumber(o, "ubatchSize", std::min<double>(p.n_batch, 512)));
  p.n_seq_max = static_cast<uint32_t>(GetNumber(o, "sequences", 1));
  p.n_threads = static_cast<int32_t>(GetNumber(o, "threads", 4));
  p.n_threads_batch = static_cast<int32_t>(GetNumber(o, "threadsBatch", p.n_threads));
  p.embeddings = GetBool(o, "embeddings", false);
  if (p.embeddings) p.pooling_type = LLAMA_POOLING_TYPE_MEAN;
  p.type_k = CacheType(env, GetString(o, "typeK", "f16"));
  p.type_v = CacheType(env, GetString(o, "typeV", "f16"));
  std::string fa = GetString(o, "flashAttention", "auto");
  p.flash_attn_type = fa == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED : fa == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED : LLAMA_FLASH_ATTN_TYPE_AUTO;
  // We ask for logits of at most one token per sequence per batch; telling llama.cpp so shrinks the
  // compute buffer by n_batch x n_vocab floats (311 MB for a 152k vocabulary at batch 512).
  if (!p.embeddings) p.n_outputs_max = p.n_seq_max;
  // Several sequences share one cache, so a long chat and a short one fit together. A unified cache makes
  // llama.cpp validate every batch against all LLAMA_MAX_SEQ (256) sequences, a 256 x 256 loop per
  // decode that cost 8% of a small model's token time; with one sequence it buys nothing.
  p.kv_unified = p.n_seq_max > 1;
  p.no_perf = true;
  p.abort_callback = nullptr;  // set in Start(), once `this` exists

  auto* worker = new CreateWorker(env, state, p, info[2].As<Napi::Function>());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void Context::Start(Napi::Env env, std::shared_ptr<ModelState> model, llama_context* ctx, Napi::Function on_event,
                    ggml_threadpool* threadpool, ggml_threadpool* threadpool_batch) {
  model_ = std::move(model);
  ctx_ = ctx;
  threadpool_ = threadpool;
  threadpool_batch_ = threadpool_batch;
  vocab_ = llama_model_get_vocab(model_->model);
  n_batch_ = llama_n_batch(ctx_);
  n_seq_max_ = llama_n_seq_max(ctx_);
  n_ctx_seq_ = llama_n_ctx_seq(ctx_);
  seq_tokens_.assign(n_seq_max_, {});
  parked_.assign(n_seq_max_, {});
  parked_at_.assign(n_seq_max_, 0);
  last_used_.assign(n_seq_max_, 0);
  batch_ = llama_batch_init(static_cast<int32_t>(n_batch_), 0, 1);
  llama_set_abort_callback(ctx_, &Context::AbortCallback, this);
  on_event_ = Napi::Persistent(on_event);
  // The thread-safe function keeps this object alive until it is released in Shutdown(); queued
  // deliveries may still reference it after dispose().
  Ref();
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "westfall.context", 0, 1, this, [](Napi::Env, Context* self) { self->Unref(); });
  tsfn_.Unref(env);
  has_tsfn_ = true;
  thread_ = std::thread([this] { Run(); });
}

bool Context::AbortCallback(void* data) { return static_cast<Context*>(data)->abort_now_.load(std::memory_order_relaxed); }

void Context::EnsureOpen(Napi::Env env) const {
  if (disposed_ || ctx_ == nullptr) throw CodedError(env, "disposed", "the context was disposed");
}

// generate(seq, tokens, params) -> job id. Events for the job arrive through onEvent(id, kind, payload).
Napi::Value Context::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  int32_t seq = info[0].As<Napi::Number>().Int32Value();
  if (seq < 0 || static_cast<uint32_t>(seq) >= n_seq_max_) {
    throw CodedError(env, "invalid_params", "sequence must be between 0 and " + std::to_string(n_seq_max_ - 1));
  }
  auto job = std::make_unique<Job>();
  job->seq = seq;
  job->prompt = GetTokens(info[1], "tokens");
  if (job->prompt.empty()) throw CodedError(env, "invalid_params", "the prompt must contain at least one token");
  int32_t n_vocab = llama_vocab_n_tokens(vocab_);
  for (int32_t t : job->prompt) {
    if (t < 0 || t >= n_vocab) throw CodedError(env, "invalid_params", "token id " + std::to_string(t) + " is outside the vocabulary");
  }
  if (job->prompt.size() >= n_ctx_seq_) {
    throw CodedError(env, "context_overflow", "the prompt has " + std::to_string(job->prompt.size()) +
                                                  " tokens; the context holds " + std::to_string(n_ctx_seq_) + " per sequence");
  }
  Napi::Object p = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  SamplingParams sp;
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
  try {
    job->sampler = std::make_unique<Sampler>(model_->model, sp);
  } catch (const CodedException& e) {
    throw CodedError(env, e.code, e.what());
  }
  job->max_tokens = static_cast<int32_t>(GetNumber(p, "maxTokens", 2048));
  job->stops = GetStringArray(p, "stop");
  job->stops.erase(std::remove_if(job->stops.begin(), job->stops.end(), [](const std::string& s) { return s.empty(); }), job->stops.end());
  job->render_special = GetBool(p, "renderSpecial", false);
  job->ignore_eos = GetBool(p, "ignoreEos", false);
  job->id = next_id_++;
  uint32_t id = job->id;
  if (refs_++ == 0) tsfn_.Ref(env);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(std::move(job));
  }
  cv_.notify_one();
  return Napi::Number::New(env, id);
}

Napi::Value Context::Cancel(const Napi::CallbackInfo& info) {
  if (disposed_) return info.Env().Undefined();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_requests_.push_back(id);
  }
  // Interrupts a long prompt evaluation; jobs sharing the batch are rolled back and simply re-run.
  abort_now_ = true;
  cv_.notify_one();
  return info.Env().Undefined();
}

Napi::Value Context::QueueTask(Napi::Env env, std::function<std::function<Napi::Value(Napi::Env)>()> task) {
  EnsureOpen(env);
  uint32_t id = next_id_++;
  auto deferred = Napi::Promise::Deferred::New(env);
  deferreds_.emplace(id, deferred);
  if (refs_++ == 0) tsfn_.Ref(env);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.emplace_back(id, std::move(task));
  }
  cv_.notify_one();
  return deferred.Promise();
}

// embed(tokens) -> Promise<Float32Array>: mean-pooled, L2-normalized.
Napi::Value Context::Embed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  std::vector<int32_t> tokens = GetTokens(info[0], "tokens");
  if (tokens.empty()) throw CodedError(env, "invalid_params", "cannot embed an empty text");
  if (tokens.size() > n_batch_ || tokens.size() > llama_n_ubatch(ctx_) || tokens.size() > n_ctx_seq_) {
    throw CodedError(env, "context_overflow", "the text has " + std::to_string(tokens.size()) + " tokens; this embedding context takes " +
                                                  std::to_string(std::min(n_batch_, llama_n_ubatch(ctx_))));
  }
  if (llama_pooling_type(ctx_) == LLAMA_POOLING_TYPE_NONE) {
    throw CodedError(env, "invalid_params", "this context was not created for embeddings");
  }
  return QueueTask(env, [this, tokens]() -> std::function<Napi::Value(Napi::Env)> {
    llama_memory_t mem = llama_get_memory(ctx_);
    DropParked(0);
    llama_memory_seq_rm(mem, 0, -1, -1);
    seq_tokens_[0].clear();
    batch_.n_tokens = 0;
    for (size_t i = 0; i < tokens.size(); i++) {
      batch_.token[i] = tokens[i];
      batch_.pos[i] = static_cast<llama_pos>(i);
      batch_.n_seq_id[i] = 1;
      batch_.seq_id[i][0] = 0;
      batch_.logits[i] = true;
    }
    batch_.n_tokens = static_cast<int32_t>(tokens.size());
    abort_now_ = false;
    int32_t ret = llama_decode(ctx_, batch_);
    if (ret != 0) {
      llama_memory_seq_rm(mem, 0, -1, -1);
      throw CodedException(ret == 2 ? "aborted" : "native_error", "embedding evaluation failed (code " + std::to_string(ret) + ")");
    }
    const float* e = llama_get_embeddings_seq(ctx_, 0);
    int32_t n = llama_model_n_embd_out(model_->model);
    if (e == nullptr) throw CodedException("native_error", "the model produced no embedding");
    std::vector<float> v(e, e + n);
    llama_memory_seq_rm(mem, 0, -1, -1);
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    norm = std::sqrt(norm);
    if (norm > 0) for (float& x : v) x = static_cast<float>(x / norm);
    return [v](Napi::Env env) -> Napi::Value {
      Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
      std::copy(v.begin(), v.end(), a.Data());
      return a;
    };
  });
}

namespace {
bool SeqBusy(const std::vector<std::unique_ptr<Job>>& active, int32_t seq) {
  return std::any_of(active.begin(), active.end(), [seq](const auto& j) { return j->seq == seq; });
}
}  // namespace

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

Napi::Value Context::ClearSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t seq = info[0].As<Napi::Number>().Int32Value();
  if (seq < 0 || static_cast<uint32_t>(seq) >= n_seq_max_) throw CodedError(env, "invalid_params", "no such sequence");
  return QueueTask(env, [this, seq]() -> std::function<Napi::Value(Napi::Env)> {
    if (SeqBusy(active_, seq)) throw CodedException("invalid_params", "the sequence is generating");
    DropParked(seq);
    llama_memory_seq_rm(llama_get_memory(ctx_), seq, -1, -1);
    seq_tokens_[seq].clear();
    return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
  });
}

// cacheState() -> Promise<[{ tokens, resident, parkedBytes }]> per sequence, as the decode thread sees it
// between steps.
Napi::Value Context::CacheState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  return QueueTask(env, [this]() -> std::function<Napi::Value(Napi::Env)> {
    struct Row {
      size_t tokens;
      bool resident;
      size_t parked_bytes;
    };
    std::vector<Row> rows;
    llama_memory_t mem = llama_get_memory(ctx_);
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      rows.push_back({seq_tokens_[s].size(), llama_memory_seq_pos_max(mem, static_cast<llama_seq_id>(s)) >= 0, parked_[s].size()});
    }
    return [rows](Napi::Env env) -> Napi::Value {
      Napi::Array a = Napi::Array::New(env, rows.size());
      for (size_t i = 0; i < rows.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("tokens", static_cast<double>(rows[i].tokens));
        o.Set("resident", rows[i].resident);
        o.Set("parkedBytes", static_cast<double>(rows[i].parked_bytes));
        a.Set(static_cast<uint32_t>(i), o);
      }
      return a;
    };
  });
}

Napi::Value Context::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("contextSize", llama_n_ctx(ctx_));
  o.Set("contextSizePerSequence", n_ctx_seq_);
  o.Set("batchSize", n_batch_);
  o.Set("ubatchSize", llama_n_ubatch(ctx_));
  o.Set("sequences", n_seq_max_);
  o.Set("threads", llama_n_threads(ctx_));
  o.Set("threadsBatch", llama_n_threads_batch(ctx_));
  return o;
}

Napi::Value Context::Dispose(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value Context::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

void Context::Shutdown() {
  if (disposed_) return;
  disposed_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  abort_now_ = true;
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (ctx_ != nullptr) {
    llama_batch_free(batch_);
    llama_free(ctx_);
    ctx_ = nullptr;
    FreeThreadpool(threadpool_);
    FreeThreadpool(threadpool_batch_);
    threadpool_ = threadpool_batch_ = nullptr;
  }
  model_.reset();
  if (has_tsfn_) {
    has_tsfn_ = false;
    tsfn_.Release();  // queued events (the jobs' final 'disposed' errors) are still delivered
  }
}

// ---- decode thread ----------------------------------------------------------------------------

void Context::Post(std::unique_ptr<Event> ev, bool urgent) {
  bool call;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    outbox_.push_back(std::move(ev));
    call = DrainDueLocked(urgent);
  }
  if (call) ScheduleDrain();
}

void Context::Flush() {
  bool call;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    call = DrainDueLocked(true);
  }
  if (call) ScheduleDrain();
}

bool Context::DrainDueLocked(bool urgent) {
  // One pending call at a time: while JavaScript is busy, events accumulate in the outbox and are
  // delivered together, so decoding never waits on the JavaScript thread. Text that is not urgent waits
  // for the delivery interval; a later event, or Flush() before a long step, takes it along.
  if (drain_scheduled_ || !has_tsfn_ || outbox_.empty()) return false;
  int64_t now = NowUs();
  if (!urgent && now - last_drain_us_ < kDeliveryIntervalUs) return false;
  drain_scheduled_ = true;
  last_drain_us_ = now;
  return true;
}

// Called without out_mutex_: the JavaScript thread this wakes takes that lock first thing (DrainEvents),
// and woken while the decode thread still held it, it blocked, was woken again, and preempted a decode
// thread twice per delivery (strace showed the convoy). Safe unlocked: only the decode thread calls this,
// and Shutdown() joins it before the thread-safe function is released.
void Context::ScheduleDrain() {
  tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) { DrainEvents(env); });
}

void Context::DrainEvents(Napi::Env env) {
  std::vector<std::unique_ptr<Event>> queued;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    queued.swap(outbox_);
    drain_scheduled_ = false;
  }
  // Consecutive text of one generation becomes one chunk: one call into JavaScript, one frame.
  std::vector<std::unique_ptr<Event>> events;
  for (auto& ev : queued) {
    if (ev->kind == Event::Chunk && !events.empty() && events.back()->kind == Event::Chunk && events.back()->id == ev->id) {
      events.back()->text += ev->text;
      events.back()->tokens.insert(events.back()->tokens.end(), ev->tokens.begin(), ev->tokens.end());
    } else {
      events.push_back(std::move(ev));
    }
  }
  Napi::HandleScope scope(env);
  for (auto& ev : events) {
    try {
      switch (ev->kind) {
        case Event::Chunk: {
          Napi::Object payload = Napi::Object::New(env);
          payload.Set("text", ev->text);
          payload.Set("tokens", ToInt32Array(env, ev->tokens));
          on_event_.Call({Napi::Number::New(env, ev->id), Napi::String::New(env, "chunk"), payload});
          break;
        }
        case Event::Done:
        case Event::Error: {
          Napi::Value payload = ev->value ? ev->value(env) : env.Undefined();
          if (ev->kind == Event::Error) payload = CodedError(env, ev->code, ev->message).Value();
          on_event_.Call({Napi::Number::New(env, ev->id), Napi::String::New(env, ev->kind == Event::Done ? "done" : "error"), payload});
          refs_--;
          break;
        }
        case Event::TaskOk:
        case Event::TaskErr: {
          auto it = deferreds_.find(ev->id);
          if (it != deferreds_.end()) {
            if (ev->kind == Event::TaskOk) it->second.Resolve(ev->value(env));
            else it->second.Reject(CodedError(env, ev->code, ev->message).Value());
            deferreds_.erase(it);
          }
          refs_--;
          break;
        }
      }
    } catch (const Napi::Error& e) {
      // The JavaScript dispatcher does not throw; if it ever does, surface it without losing later events.
      e.ThrowAsJavaScriptException();
      return;
    }
  }
  if (refs_ == 0 && has_tsfn_) tsfn_.Unref(env);
}

void Context::EmitText(Job& job, const std::string& text, bool final) {
  if (text.empty() && job.pending_tokens.empty() && !final) return;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Chunk;
  ev->id = job.id;
  ev->text = text;
  ev->tokens.swap(job.pending_tokens);
  if (ev->text.empty() && ev->tokens.empty()) return;
  bool first = !job.delivered;
  job.delivered = true;
  Post(std::move(ev), first);  // the first text goes at once: time to first token
}

void Context::FinishJob(Job& job, const char* reason) {
  if (job.finished) return;
  job.finished = true;
  last_used_[job.seq] = ++use_clock_;
  if (!job.held.empty() || !job.pending_tokens.empty()) {
    EmitText(job, job.held, true);
    job.held.clear();
  }
  int64_t t_end = NowUs();
  int64_t t_prompt_end = job.t_prompt_end ? job.t_prompt_end : t_end;
  double prompt_ms = (t_prompt_end - job.t_start) / 1000.0;
  double gen_ms = (t_end - t_prompt_end) / 1000.0;
  double ttft_ms = job.t_first ? (job.t_first - job.t_start) / 1000.0 : -1;
  size_t prompt_tokens = job.prompt.size(), reused = job.n_reused;
  int32_t generated = job.n_generated;
  std::string r = reason;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Done;
  ev->id = job.id;
  ev->value = [=](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("stopReason", r);
    o.Set("promptTokens", static_cast<double>(prompt_tokens));
    o.Set("reusedPromptTokens", static_cast<double>(reused));
    o.Set("evaluatedPromptTokens", static_cast<double>(prompt_tokens - reused));
    o.Set("generatedTokens", generated);
    o.Set("promptMs", prompt_ms);
    o.Set("generationMs", gen_ms);
    o.Set("timeToFirstTokenMs", ttft_ms);
    return o;
  };
  Post(std::move(ev), true);
}

void Context::FailJob(Job& job, const std::string& code, const std::string& message) {
  if (job.finished) return;
  job.finished = true;
  last_used_[job.seq] = ++use_clock_;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Error;
  ev->id = job.id;
  ev->code = code;
  ev->message = message;
  Post(std::move(ev), true);
}

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

void Context::AdmitPending() {
  std::deque<std::unique_ptr<Job>> incoming;
  std::vector<uint32_t> cancels;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming.swap(pending_);
    cancels.swap(cancel_requests_);
  }
  llama_memory_t mem = llama_get_memory(ctx_);
  std::vector<std::unique_ptr<Job>> admitted;
  std::vector<bool> busy(n_seq_max_, false);
  for (auto& job : active_) busy[job->seq] = true;
  for (auto& job : incoming) {
    if (busy[job->seq]) {
      FailJob(*job, "invalid_params", "sequence " + std::to_string(job->seq) + " is already generating");
      continue;
    }
    busy[job->seq] = true;
    admitted.push_back(std::move(job));
  }
  if (!admitted.empty() && n_seq_max_ > 1) {
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      if (!busy[s] && InKvCache(s)) Park(static_cast<int32_t>(s));
    }
  }
  for (auto& job : admitted) {
    // Prefix reuse: keep the cached tokens this prompt starts with, evaluate only the rest. At least one
    // token is always evaluated, since sampling needs fresh logits.
    auto& cached = seq_tokens_[job->seq];
    size_t p = 0;
    while (p < cached.size() && p < job->prompt.size() && cached[p] == job->prompt[p]) p++;
    if (!parked_[job->seq].empty() && (p == 0 || !Unpark(job->seq))) {
      DropParked(job->seq);
      p = 0;
    }
    if (p >= job->prompt.size()) p = job->prompt.size() - 1;
    if (p < cached.size()) {
      if (!llama_memory_seq_rm(mem, job->seq, static_cast<llama_pos>(p), -1)) {
        llama_memory_seq_rm(mem, job->seq, -1, -1);  // recurrent caches cannot be cut part-way
        p = 0;
      }
      cached.resize(p);
    }
    job->n_done = p;
    job->n_reused = p;
    job->t_start = NowUs();
    active_.push_back(std::move(job));
  }
  for (uint32_t id : cancels) {
    for (auto& job : active_) {
      if (job->id == id) job->cancelled = true;
    }
  }
}

void Context::Run() {
  while (true) {
    ParkWhenIdle();
    std::deque<std::pair<uint32_t, std::function<std::function<Napi::Value(Napi::Env)>()>>> tasks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] {
        return stopping_ || !pending_.empty() || !tasks_.empty() || !cancel_requests_.empty() || !active_.empty();
      });
      if (stopping_) break;
      tasks.swap(tasks_);
    }
    for (auto& [id, task] : tasks) {
      auto ev = std::make_unique<Event>();
      ev->id = id;
      try {
        ev->value = task();
        ev->kind = Event::TaskOk;
      } catch (const CodedException& e) {
        ev->kind = Event::TaskErr;
        ev->code = e.code;
        ev->message = e.what();
      } catch (const std::exception& e) {
        ev->kind = Event::TaskErr;
        ev->code = "native_error";
        ev->message = e.what();
      }
      Post(std::move(ev), true);
    }
    AdmitPending();
    Step();
  }
  // Disposed: every job and task still queued ends with a clear error instead of hanging forever.
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& job : pending_) active_.push_back(std::move(job));
  pending_.clear();
  for (auto& job : active_) FailJob(*job, "disposed", "the context was disposed during generation");
  active_.clear();
  for (auto& [id, task] : tasks_) {
    auto ev = std::make_unique<Event>();
    ev->kind = Event::TaskErr;
    ev->id = id;
    ev->code = "disposed";
    ev->message = "the context was disposed";
    Post(std::move(ev), true);
  }
  tasks_.clear();
}

bool Context::Step() {
  for (auto& job : active_) {
    if (job->cancelled) FinishJob(*job, "aborted");
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
  if (active_.empty()) return false;

  // Generating jobs first (one token each, cheap and latency-sensitive), then prompt chunks fill the rest.
  batch_.n_tokens = 0;
  auto add = [this](llama_token t, llama_pos pos, int32_t seq, bool logits) {
    int32_t i = batch_.n_tokens++;
    batch_.token[i] = t;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = logits;
    return i;
  };
  for (auto& job : active_) {
    job->batch_idx = -1;
    job->n_in_batch = 0;
    job->pos_before = seq_tokens_[job->seq].size();
    if (job->generating && static_cast<uint32_t>(batch_.n_tokens) < n_batch_) {
      job->batch_idx = add(job->last, static_cast<llama_pos>(job->pos_before), job->seq, true);
      job->n_in_batch = 1;
    }
  }
  for (auto& job : active_) {
    if (job->generating) continue;
    while (job->n_done + job->n_in_batch < job->prompt.size() && static_cast<uint32_t>(batch_.n_tokens) < n_batch_) {
      size_t k = job->n_done + job->n_in_batch;
      bool last = k == job->prompt.size() - 1;
      int32_t i = add(job->prompt[k], static_cast<llama_pos>(k), job->seq, last);
      if (last) job->batch_idx = i;
      job->n_in_batch++;
    }
  }
  if (batch_.n_tokens == 0) return false;
  // A step with prompt tokens can take seconds on a CPU: text waiting for the delivery interval goes now.
  if (std::any_of(active_.begin(), active_.end(), [](const auto& j) { return !j->generating && j->n_in_batch > 0; })) Flush();

  {
    // A cancel that arrived before this point is handled next step; only later ones should interrupt.
    std::lock_guard<std::mutex> lock(mutex_);
    abort_now_ = stopping_ || !cancel_requests_.empty();
  }
  int32_t ret = llama_decode(ctx_, batch_);
  if (ret != 0) {
    llama_memory_t mem = llama_get_memory(ctx_);
    for (auto& job : active_) {
      if (job->n_in_batch == 0) continue;
      llama_memory_seq_rm(mem, job->seq, static_cast<llama_pos>(job->pos_before), -1);
      seq_tokens_[job->seq].resize(job->pos_before);
      if (ret == 2) continue;  // aborted: cancelled jobs end next step, the others run again
      if (ret == 1) FailJob(*job, "context_overflow", "no room left in the context's KV cache for this batch");
      else FailJob(*job, "native_error", "llama_decode failed with code " + std::to_string(ret));
    }
    active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
    return true;
  }

  // GPU backends return from llama_decode before the graph has run. The sampler would wait for it anyway
  // (reading logits synchronizes); waiting here first makes the prompt timings include the compute.
  llama_synchronize(ctx_);
  int64_t now = NowUs();
  for (auto& job : active_) {
    if (job->n_in_batch == 0) continue;
    auto& cached = seq_tokens_[job->seq];
    if (job->generating) {
      cached.push_back(job->last);
    } else {
      cached.insert(cached.end(), job->prompt.begin() + job->n_done, job->prompt.begin() + job->n_done + job->n_in_batch);
      job->n_done += job->n_in_batch;
    }
    if (job->batch_idx < 0) continue;
    if (!job->generating) {
      job->generating = true;
      job->t_prompt_end = now;
    }
    llama_token tok = job->sampler->Sample(ctx_, job->batch_idx);
    if (tok < 0) {
      FailJob(*job, "native_error", "the sampler selected no token (the grammar may allow none)");
      continue;
    }
    if (!job->ignore_eos && llama_vocab_is_eog(vocab_, tok)) {
      FinishJob(*job, "eos");
      continue;
    }
    if (job->n_generated++ == 0) job->t_first = NowUs();
    char buf[256];
    int32_t n = llama_token_to_piece(vocab_, tok, buf, sizeof(buf), 0, job->render_special);
    std::string piece;
    if (n < 0) {
      piece.resize(-n);
      llama_token_to_piece(vocab_, tok, piece.data(), static_cast<int32_t>(piece.size()), 0, job->render_special);
    } else {
      piece.assign(buf, n);
    }
    job->held += piece;
    job->pending_tokens.push_back(tok);

    size_t stop_at = std::string::npos;
    for (const auto& s : job->stops) stop_at = std::min(stop_at, job->held.find(s));
    if (stop_at != std::string::npos) {
      job->held.resize(stop_at);
      FinishJob(*job, "stop_sequence");
      continue;
    }
    size_t keep = std::max(StopPrefixTail(job->held, job->stops), IncompleteUtf8Tail(job->held));
    EmitText(*job, job->held.substr(0, job->held.size() - keep), false);
    job->held.erase(0, job->held.size() - keep);

    if (job->n_generated >= job->max_tokens) {
      FinishJob(*job, "max_tokens");
    } else if (cached.size() + 1 >= n_ctx_seq_) {
      FinishJob(*job, "context_full");
    } else {
      job->last = tok;
    }
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
  return true;
}

}  // namespace westfall
