#pragma once
// Model: one loaded GGUF. JavaScript holds a Model object; the llama_model itself lives in a shared
// ModelState so that contexts created from it keep it alive even if the Model is disposed first.
#include <napi.h>

#include <memory>
#include <string>

#include "chat.h"
#include "llama.h"

namespace westfall {

struct ModelState {
  llama_model* model = nullptr;
  common_chat_templates_ptr templates;
  std::string path;
  bool vocab_only = false;  // llama.cpp asserts on hyperparameter queries of a vocabulary-only model
  bool huge_pages = false;  // its CPU buffers (and its contexts') are advised to use huge pages
  ~ModelState();
};

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Init(Napi::Env env);
  // loadModel(path, options, onProgress) -> { promise, cancel }
  static Napi::Value Load(const Napi::CallbackInfo& info);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelState> state);

  explicit Model(const Napi::CallbackInfo& info);

  // The state for a context to share; throws a coded `disposed` error after dispose().
  std::shared_ptr<ModelState> State(Napi::Env env) const;

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenBytes(const Napi::CallbackInfo& info);
  Napi::Value IsEndOfGeneration(const Napi::CallbackInfo& info);
  Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);

  const llama_model* Get(Napi::Env env) const;

  std::shared_ptr<ModelState> state_;
};

}  // namespace westfall
