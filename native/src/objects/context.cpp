#include "objects/context.h"
#include "objects/context_internal.h"

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

Napi::Function Context::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Context", {
      InstanceMethod<&Context::Generate>("generate"),
      InstanceMethod<&Context::Cancel>("cancel"),
      InstanceMethod<&Context::Embed>("embed"),
      InstanceMethod<&Context::SaveState>("saveState"),
      InstanceMethod<&Context::LoadState>("loadState"),
      InstanceMethod<&Context::StateData>("stateData"),
      InstanceMethod<&Context::ClearSequence>("clearSequence"),
      InstanceMethod<&Context::ReserveRestore>("reserveRestore"),
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
  ReadGenerateParams(env, vocab_, p, *job, sp);
  job->cache_prompt = GetBool(p, "cachePrompt", true);
  if (Has(p, "restore") && p.Get("restore").IsObject()) {
    Napi::Object r = p.Get("restore").As<Napi::Object>();
    job->restore_tokens = GetTokens(r.Get("tokens"), "restore.tokens");
    Napi::Value data = r.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw CodedError(env, "invalid_params", "restore.data must be a Uint8Array (a Buffer)");
    }
    Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
    if (job->restore_tokens.size() >= n_ctx_seq_) throw CodedError(env, "invalid_params", "restore.tokens is longer than a sequence");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job->restore_data.swap(restore_spare_);
    }
    job->restore_data.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
  }
  try {
    job->sampler = std::make_unique<Sampler>(model_->model, sp);
  } catch (const CodedException& e) {
    throw CodedError(env, e.code, e.what());
  }
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

}  // namespace westfall

namespace westfall {

// reserveRestore(bytes): makes the restore buffer (context.h) that large now and touches its pages, so the
// first conversation resumed after a start does not pay for them (~100 ms for 36 MB on a VM) while the user
// waits. At most 256 MiB; a no-op when it is already that large.
Napi::Value Context::ReserveRestore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw CodedError(env, "invalid_params", "bytes must be a number");
  const double want = info[0].As<Napi::Number>().DoubleValue();
  if (!(want >= 0)) throw CodedError(env, "invalid_params", "bytes must be 0 or more");
  const size_t bytes = static_cast<size_t>(std::min(want, static_cast<double>(kSpareBytesMax)));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (restore_spare_.capacity() >= bytes) return env.Undefined();
  }
  std::vector<uint8_t> fresh(bytes);  // value-initialized: every page written once
  fresh.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (fresh.capacity() > restore_spare_.capacity()) restore_spare_.swap(fresh);
  return env.Undefined();
}

}  // namespace westfall
