#include "objects/model.h"

#include <atomic>
#include <cmath>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "objects/chat_parser.h"
#include "objects/rpc.h"
#include "util/convert.h"
#include "util/errors.h"
#include "util/huge_pages.h"
#include "util/log.h"

namespace westfall {

ModelState::~ModelState() {
  templates.reset();
  if (model != nullptr) llama_model_free(model);
#if defined(__GLIBC__)
  // The vocabulary alone is ~150k small heap blocks; freed, they stay in glibc's arenas as fragments
  // unless trimmed, so RSS after unloading a model wandered by tens of MB. Unloading is rare; a trim
  // (a few ms) gives the memory back to the system.
  malloc_trim(0);
#endif
}

namespace {

Napi::FunctionReference* g_model_ctor = nullptr;

struct LoadProgress {
  std::atomic<bool> cancelled{false};
  std::atomic<int> last_percent{-1};
};

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, llama_model_params params, bool huge_pages, Napi::Function on_progress,
             std::shared_ptr<LoadProgress> progress, std::vector<ggml_backend_dev_t> devices, std::vector<float> split)
      : Napi::AsyncWorker(env, "westfall.loadModel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        params_(params),
        devices_(std::move(devices)),
        split_(std::move(split)),
        huge_pages_(huge_pages && !params.vocab_only && HugePagesAvailable()),
        progress_(std::move(progress)) {
    if (!on_progress.IsEmpty()) {
      tsfn_ = Napi::ThreadSafeFunction::New(env, on_progress, "westfall.loadProgress", 0, 1);
      has_tsfn_ = true;
    }
  }

  ~LoadWorker() override {
    if (has_tsfn_) tsfn_.Release();
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    // llama.cpp reads both arrays during the load only; they live as long as this worker.
    if (!devices_.empty()) params_.devices = devices_.data();
    if (!split_.empty()) params_.tensor_split = split_.data();
    params_.progress_callback = &LoadWorker::OnProgress;
    params_.progress_callback_user_data = this;
    ClearLastNativeError();
    if (huge_pages_) before_load_ = SnapshotMappings();
    llama_model* model = llama_model_load_from_file(path_.c_str(), params_);
    if (model == nullptr) {
      if (progress_->cancelled.load()) {
        code_ = "aborted";
        SetError("model loading was aborted");
      } else {
        code_ = "invalid_model";
        std::string reason = LastNativeError();
        SetError("llama.cpp could not load the model" + (reason.empty() ? std::string() : ": " + reason));
      }
      return;
    }
    state_ = std::make_shared<ModelState>();
    state_->model = model;
    state_->path = path_;
    state_->vocab_only = params_.vocab_only;
    state_->huge_pages = huge_pages_;
    // A vocabulary-only model gets its templates too: they need only metadata and the vocabulary, and the
    // backend renders chats with one while the weights live in another process (worker-host.ts).
    {
      try {
        // Parsing the template is done here, off the JavaScript thread, and only once per model.
        state_->templates = common_chat_templates_init(model, "");
      } catch (const std::exception& e) {
        // A template that does not parse must not make the model unusable: fall back to ChatML.
        LogFromNative(GGML_LOG_LEVEL_WARN, std::string("chat template failed to parse, using ChatML: ") + e.what());
        try {
          state_->templates = common_chat_templates_init(model, "chatml");
        } catch (...) {
        }
      }
    }
  }

  void OnOK() override {
    deferred_.Resolve(Model::NewInstance(Env(), state_));
  }

  void OnError(const Napi::Error& e) override {
    deferred_.Reject(CodedError(Env(), code_, e.Message()).Value());
  }

 private:
  static bool OnProgress(float progress, void* user_data) {
    auto* self = static_cast<LoadWorker*>(user_data);
    if (self->progress_->cancelled.load()) return false;
    if (self->huge_pages_ && !self->advised_) {
      // The first call comes after llama.cpp allocated the model's buffers and before it writes them:
      // advised now, they fault in as huge pages (in parallel, see util/huge_pages.cpp).
      self->advised_ = true;
      AdviseNewMappings(self->before_load_, true);
    }
    int percent = static_cast<int>(std::floor(progress * 100.0f));
    if (self->has_tsfn_ && percent != self->progress_->last_percent.exchange(percent)) {
      self->tsfn_.NonBlockingCall([percent](Napi::Env env, Napi::Function fn) {
        fn.Call({Napi::Number::New(env, percent / 100.0)});
      });
    }
    return true;
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  llama_model_params params_;
  std::vector<ggml_backend_dev_t> devices_;  // null-terminated when set
  std::vector<float> split_;
  bool huge_pages_;
  bool advised_ = false;
  MappingSnapshot before_load_;
  std::shared_ptr<LoadProgress> progress_;
  Napi::ThreadSafeFunction tsfn_;
  bool has_tsfn_ = false;
  std::shared_ptr<ModelState> state_;
  std::string code_ = "native_error";
};

}  // namespace

Napi::Function Model::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Model", {
      InstanceMethod<&Model::Info>("info"),
      InstanceMethod<&Model::Tokenize>("tokenize"),
      InstanceMethod<&Model::Detokenize>("detokenize"),
      InstanceMethod<&Model::TokenBytes>("tokenBytes"),
      InstanceMethod<&Model::IsEndOfGeneration>("isEndOfGeneration"),
      InstanceMethod<&Model::ApplyChatTemplate>("applyChat"),
      InstanceMethod<&Model::Dispose>("dispose"),
      InstanceAccessor<&Model::IsDisposed>("disposed"),
  });
  g_model_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  return ctor;
}

Napi::Object Model::NewInstance(Napi::Env env, std::shared_ptr<ModelState> state) {
  auto* holder = new std::shared_ptr<ModelState>(std::move(state));
  return g_model_ctor->New({Napi::External<std::shared_ptr<ModelState>>::New(env, holder)});
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw CodedError(info.Env(), "invalid_params", "Model cannot be constructed directly; use loadModel()");
  }
  auto* holder = info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
  state_ = std::move(*holder);
  delete holder;
}

Napi::Value Model::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "path must be a string");
  Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  Napi::Function on_progress = info.Length() > 2 && info[2].IsFunction() ? info[2].As<Napi::Function>() : Napi::Function();

  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = static_cast<int32_t>(GetNumber(opts, "gpuLayers", 0));
  params.vocab_only = GetBool(opts, "vocabOnly", false);
  params.load_mode = GetBool(opts, "useMmap", true) ? params.load_mode : LLAMA_LOAD_MODE_NONE;

  // `devices`: the devices to offload to, in order (local ones and workers' RPC devices), instead of every
  // local accelerator; `tensorSplit`: each one's share of the offloaded layers.
  std::vector<ggml_backend_dev_t> devices;
  for (const auto& name : GetStringArray(opts, "devices")) {
    ggml_backend_dev_t dev = FindDevice(name);
    if (dev == nullptr) throw CodedError(env, "invalid_params", "no device named '" + name + "'");
    devices.push_back(dev);
  }
  if (!devices.empty()) devices.push_back(nullptr);
  std::vector<float> split;
  if (Has(opts, "tensorSplit")) {
    Napi::Value v = opts.Get("tensorSplit");
    if (!v.IsArray()) throw CodedError(env, "invalid_params", "tensorSplit must be an array of numbers");
    Napi::Array a = v.As<Napi::Array>();
    if (a.Length() > llama_max_devices()) throw CodedError(env, "invalid_params", "tensorSplit has more entries than llama.cpp allows devices");
    split.assign(llama_max_devices(), 0.0f);
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber() || !(e.As<Napi::Number>().DoubleValue() >= 0)) throw CodedError(env, "invalid_params", "tensorSplit must be an array of non-negative numbers");
      split[i] = e.As<Napi::Number>().FloatValue();
    }
  }

  auto progress = std::make_shared<LoadProgress>();
  bool huge_pages = GetBool(opts, "hugePages", true);
  auto* worker = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), params, huge_pages, on_progress, progress,
                                std::move(devices), std::move(split));
  Napi::Promise promise = worker->Promise();
  worker->Queue();

  Napi::Object result = Napi::Object::New(env);
  result.Set("promise", promise);
  result.Set("cancel", Napi::Function::New(env, [progress](const Napi::CallbackInfo&) { progress->cancelled = true; }));
  return result;
}

std::shared_ptr<ModelState> Model::State(Napi::Env env) const {
  if (!state_) throw CodedError(env, "disposed", "the model was disposed");
  return state_;
}

const llama_model* Model::Get(Napi::Env env) const { return State(env)->model; }

Napi::Value Model::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = State(env);
  const llama_model* m = state->model;
  const llama_vocab* vocab = llama_model_get_vocab(m);
  Napi::Object o = Napi::Object::New(env);
  char buf[512];
  o.Set("vocabOnly", state->vocab_only);
  o.Set("vocabSize", llama_vocab_n_tokens(vocab));
  o.Set("bosToken", llama_vocab_bos(vocab));
  o.Set("eosToken", llama_vocab_eos(vocab));
  o.Set("eotToken", llama_vocab_eot(vocab));
  o.Set("addBos", llama_vocab_get_add_bos(vocab));
  if (!state->vocab_only) {
    llama_model_desc(m, buf, sizeof(buf));
    o.Set("description", std::string(buf));
    o.Set("parameterCount", static_cast<double>(llama_model_n_params(m)));
    o.Set("sizeBytes", static_cast<double>(llama_model_size(m)));
    o.Set("contextLength", llama_model_n_ctx_train(m));
    o.Set("embeddingLength", llama_model_n_embd(m));
    o.Set("layerCount", llama_model_n_layer(m));
    o.Set("headCount", llama_model_n_head(m));
    o.Set("headCountKv", llama_model_n_head_kv(m));
    o.Set("hasEncoder", llama_model_has_encoder(m));
    o.Set("isRecurrent", llama_model_is_recurrent(m));
  }
  const char* tmpl = llama_model_chat_template(m, nullptr);
  o.Set("chatTemplate", tmpl ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());

  Napi::Object meta = Napi::Object::New(env);
  int32_t n = llama_model_meta_count(m);
  std::vector<char> val(4096);
  for (int32_t i = 0; i < n; i++) {
    if (llama_model_meta_key_by_index(m, i, buf, sizeof(buf)) < 0) continue;
    int32_t len = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
    if (len < 0) continue;
    if (static_cast<size_t>(len) >= val.size()) {
      val.resize(len + 1);
      llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
    }
    meta.Set(buf, std::string(val.data()));
  }
  o.Set("metadata", meta);
  return o;
}

// tokenize(text, addSpecial, parseSpecial) -> Int32Array
Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Get(env);
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "text must be a string");
  std::string text = info[0].As<Napi::String>().Utf8Value();
  bool add_special = info.Length() > 1 && info[1].ToBoolean();
  bool parse_special = info.Length() > 2 && info[2].ToBoolean();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  std::vector<int32_t> tokens(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                             static_cast<int32_t>(tokens.size()), add_special, parse_special);
  if (n == INT32_MIN) throw CodedError(env, "invalid_params", "text is too long to tokenize");
  if (n < 0) {
    tokens.resize(-n);
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), add_special, parse_special);
  }
  tokens.resize(std::max(0, n));
  return ToInt32Array(env, tokens);
}

// detokenize(tokens, removeSpecial, unparseSpecial) -> string
Napi::Value Model::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Get(env);
  std::vector<int32_t> tokens = GetTokens(info[0], "tokens");
  bool remove_special = info.Length() > 1 && info[1].ToBoolean();
  bool unparse_special = info.Length() > 2 && info[2].ToBoolean();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  int32_t n_vocab = llama_vocab_n_tokens(vocab);
  for (int32_t t : tokens) {
    if (t < 0 || t >= n_vocab) throw CodedError(env, "invalid_params", "token id " + std::to_string(t) + " is outside the vocabulary");
  }
  std::string out(tokens.size() * 8 + 16, '\0');
  int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                               static_cast<int32_t>(out.size()), remove_special, unparse_special);
  if (n < 0) {
    out.resize(-n);
    n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                         static_cast<int32_t>(out.size()), remove_special, unparse_special);
  }
  out.resize(std::max(0, n));
  return Napi::String::New(env, out);
}

// tokenBytes(tokens) -> { bytes: Buffer, ends: Uint32Array }: each token's own bytes, concatenated, and where
// each ends. Unlike detokenize, nothing depends on the neighbours (no leading-space removal, no UTF-8
// decoding), so two token runs spell the same text exactly when their bytes are equal. Control and
// user-defined tokens (<|im_end|>, <think>) are written as 0xFF, their id, 0xFF: never equal to any text,
// so a special token only ever matches itself.
Napi::Value Model::TokenBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Get(env);
  std::vector<int32_t> tokens = GetTokens(info[0], "tokens");
  const llama_vocab* vocab = llama_model_get_vocab(m);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  std::string bytes;
  bytes.reserve(tokens.size() * 4);
  auto ends = Napi::Uint32Array::New(env, tokens.size());
  std::vector<char> piece(64);
  for (size_t i = 0; i < tokens.size(); i++) {
    const int32_t t = tokens[i];
    if (t < 0 || t >= n_vocab) throw CodedError(env, "invalid_params", "token id " + std::to_string(t) + " is outside the vocabulary");
    const llama_token_attr attr = llama_vocab_get_attr(vocab, t);
    if (attr & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED)) {
      bytes.push_back('\xFF');
      for (int b = 0; b < 4; b++) bytes.push_back(static_cast<char>((static_cast<uint32_t>(t) >> (8 * b)) & 0xFF));
      bytes.push_back('\xFF');
    } else {
      int32_t n = llama_token_to_piece(vocab, t, piece.data(), static_cast<int32_t>(piece.size()), 0, false);
      if (n < 0) {
        piece.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, t, piece.data(), static_cast<int32_t>(piece.size()), 0, false);
      }
      bytes.append(piece.data(), static_cast<size_t>(std::max(0, n)));
    }
    ends[i] = static_cast<uint32_t>(bytes.size());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size()));
  out.Set("ends", ends);
  return out;
}

Napi::Value Model::IsEndOfGeneration(const Napi::CallbackInfo& info) {
  const llama_model* m = Get(info.Env());
  return Napi::Boolean::New(info.Env(), llama_vocab_is_eog(llama_model_get_vocab(m), info[0].As<Napi::Number>().Int32Value()));
}

// applyChat(requestJson) -> see objects/chat_parser.h. Messages and tools use OpenAI's JSON shapes;
// llama.cpp's chat layer renders the model's own template and picks its tool-call and thinking format.
Napi::Value Model::ApplyChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = State(env);
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "the chat request must be a JSON string");
  return ApplyChat(env, *state, info[0].As<Napi::String>().Utf8Value());
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  // Contexts hold their own reference: the weights are freed when the last of them goes.
  state_.reset();
  return info.Env().Undefined();
}

Napi::Value Model::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !state_); }

}  // namespace westfall
