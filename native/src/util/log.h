#pragma once
// llama.cpp/ggml log routing. Messages go to a JavaScript callback when one is set (delivered
// asynchronously from any thread); error lines are also remembered per thread so that a failed load
// can say why.
#include <napi.h>
#include <string>
#include "ggml.h"

namespace westfall {

void InstallLogHandler();
Napi::Value SetLogCallback(const Napi::CallbackInfo& info);  // setLogCallback(fn | null, minLevel)
void LogFromNative(ggml_log_level level, const std::string& text);

void ClearLastNativeError();
std::string LastNativeError();

}  // namespace westfall
