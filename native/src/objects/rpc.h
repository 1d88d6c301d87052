#pragma once
// ggml's RPC backend, both ways: serving this machine's devices to other Westfall processes
// (`westfall worker`), and reaching other machines' workers as devices a model can be split over.
#include <napi.h>

#include <string>

#include "ggml-backend.h"

namespace westfall {

// rpcServe({ endpoint, threads, devices?, memoryBytes?, cacheDir? }) -> devices served.
// Starts ggml's RPC server on its own thread; it runs until the process exits.
Napi::Value RpcServe(const Napi::CallbackInfo& info);

// rpcAddServer(endpoint) -> [{ name, description, memoryFree, memoryTotal }]
// The caller must have checked that the worker answers (src/engine/rpc.ts): ggml aborts the process when
// a worker it connects to is unreachable.
Napi::Value RpcAddServer(const Napi::CallbackInfo& info);

// A device by name: local devices from ggml's registry, or a worker's device added by rpcAddServer.
ggml_backend_dev_t FindDevice(const std::string& name);

}  // namespace westfall
