#include "util/log.h"

#include <atomic>
#include <mutex>

#include "llama.h"

namespace westfall {

namespace {

std::mutex g_log_mutex;
Napi::ThreadSafeFunction g_log_tsfn;
bool g_has_tsfn = false;
std::atomic<int> g_min_level{GGML_LOG_LEVEL_WARN};
thread_local std::string t_last_error;
thread_local std::string t_partial;  // llama.cpp may emit one line in several calls
thread_local ggml_log_level t_partial_level = GGML_LOG_LEVEL_INFO;

const char* LevelName(ggml_log_level level) {
  switch (level) {
    case GGML_LOG_LEVEL_ERROR: return "error";
    case GGML_LOG_LEVEL_WARN: return "warn";
    case GGML_LOG_LEVEL_INFO: return "info";
    case GGML_LOG_LEVEL_DEBUG: return "debug";
    default: return "info";
  }
}

void Deliver(ggml_log_level level, const std::string& line) {
  // The first error of a failed operation names the cause; later ones only report that it failed.
  if (level == GGML_LOG_LEVEL_ERROR && t_last_error.empty()) t_last_error = line;
  if (level < g_min_level.load() && level != GGML_LOG_LEVEL_NONE) return;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (!g_has_tsfn) return;
  std::string name = LevelName(level);
  g_log_tsfn.NonBlockingCall([name, line](Napi::Env env, Napi::Function fn) {
    fn.Call({Napi::String::New(env, name), Napi::String::New(env, line)});
  });
}

void OnLog(ggml_log_level level, const char* text, void*) {
  if (text == nullptr) return;
  // CONT continues the previous line at the previous level.
  if (level != GGML_LOG_LEVEL_CONT) t_partial_level = level;
  t_partial += text;
  size_t nl;
  while ((nl = t_partial.find('\n')) != std::string::npos) {
    std::string line = t_partial.substr(0, nl);
    t_partial.erase(0, nl + 1);
    if (!line.empty()) Deliver(t_partial_level, line);
  }
}

}  // namespace

void InstallLogHandler() { llama_log_set(OnLog, nullptr); }

Napi::Value SetLogCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (g_has_tsfn) {
    g_log_tsfn.Release();
    g_has_tsfn = false;
  }
  if (info.Length() > 0 && info[0].IsFunction()) {
    g_log_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "westfall.log", 0, 1);
    g_log_tsfn.Unref(env);  // logging alone must never keep the process alive
    g_has_tsfn = true;
  }
  if (info.Length() > 1 && info[1].IsString()) {
    std::string lvl = info[1].As<Napi::String>().Utf8Value();
    g_min_level = lvl == "debug" ? GGML_LOG_LEVEL_DEBUG : lvl == "info" ? GGML_LOG_LEVEL_INFO
                : lvl == "warn" ? GGML_LOG_LEVEL_WARN : GGML_LOG_LEVEL_ERROR;
  }
  return env.Undefined();
}

void LogFromNative(ggml_log_level level, const std::string& text) { Deliver(level, text); }

void ClearLastNativeError() { t_last_error.clear(); }
std::string LastNativeError() { return t_last_error; }

}  // namespace westfall
