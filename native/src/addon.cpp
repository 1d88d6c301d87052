// Entry point of the westfall_llama addon: registers the Model and Context classes and the module-level
// functions. JavaScript never sees a raw pointer; every native object is reached through these classes.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "ggml-backend.h"
#include "json-schema-to-grammar.h"
#include "json.h"
#include "llama.h"
#include "objects/chat_parser.h"
#include "objects/context.h"
#include "objects/model.h"
#include "objects/rpc.h"
#include "util/errors.h"
#include "util/log.h"

namespace westfall {
namespace {

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", WESTFALL_BACKEND_NAME);
  o.Set("llamaCppVersion", llama_version());
  o.Set("cpuFeatures", llama_print_system_info());
  o.Set("gpuOffload", llama_supports_gpu_offload());
  o.Set("mmap", llama_supports_mmap());
  Napi::Array devices = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    size_t free_mem = 0, total_mem = 0;
    ggml_backend_dev_memory(dev, &free_mem, &total_mem);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    const char* type = "cpu";
    switch (ggml_backend_dev_type(dev)) {
      case GGML_BACKEND_DEVICE_TYPE_GPU: type = "gpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_IGPU: type = "igpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_ACCEL: type = "accelerator"; break;
      default: break;
    }
    d.Set("type", type);
    d.Set("memoryFree", static_cast<double>(free_mem));
    d.Set("memoryTotal", static_cast<double>(total_mem));
    devices.Set(devices.Length(), d);
  }
  o.Set("devices", devices);
  return o;
}

// jsonSchemaToGrammar(schemaJson) -> GBNF
Napi::Value JsonSchemaToGrammar(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "schema must be a JSON string");
  try {
    return Napi::String::New(env, json_schema_to_grammar(common_json::parse(info[0].As<Napi::String>().Utf8Value())));
  } catch (const std::exception& e) {
    throw CodedError(env, "invalid_params", std::string("JSON schema could not be turned into a grammar: ") + e.what());
  }
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#if defined(__GLIBC__)
  // Contexts allocate their large buffers on worker threads and free them on the JavaScript thread. With
  // glibc's adaptive mmap threshold those buffers end up in per-thread heap arenas that never shrink, and
  // RSS grew by ~0.5 MB per context created and disposed. A fixed threshold keeps large blocks in mmap,
  // returned to the system on free.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // Every context has its own threads, and each new thread may get a fresh arena; fragmentation
  // across them made RSS creep with every context. Two arenas are plenty for our few allocating threads.
  mallopt(M_ARENA_MAX, 2);
#endif
  InstallLogHandler();
  llama_backend_init();
  exports.Set("Model", Model::Init(env));
  exports.Set("Context", Context::Init(env));
  exports.Set("ChatParser", ChatParser::Init(env));
  exports.Set("createChatParser", Napi::Function::New(env, ChatParser::Create, "createChatParser"));
  exports.Set("loadModel", Napi::Function::New(env, Model::Load, "loadModel"));
  exports.Set("createContext", Napi::Function::New(env, Context::Create, "createContext"));
  exports.Set("setLogCallback", Napi::Function::New(env, SetLogCallback, "setLogCallback"));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("rpcServe", Napi::Function::New(env, RpcServe, "rpcServe"));
  exports.Set("rpcAddServer", Napi::Function::New(env, RpcAddServer, "rpcAddServer"));
  exports.Set("jsonSchemaToGrammar", Napi::Function::New(env, JsonSchemaToGrammar, "jsonSchemaToGrammar"));
  return exports;
}

}  // namespace westfall

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return westfall::Init(env, exports); }

NODE_API_MODULE(westfall_llama, InitAddon)
