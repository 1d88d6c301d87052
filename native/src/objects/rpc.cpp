// ggml's RPC backend (ggml/src/ggml-rpc): our own build of the pinned tree on both ends, so worker and
// client speak the same protocol version. Nothing here implements the protocol; it only starts ggml's
// server and registers ggml's client devices.
#include "objects/rpc.h"

#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ggml-backend-impl.h"
#include "ggml-rpc.h"
#include "util/convert.h"
#include "util/errors.h"

namespace westfall {
namespace {

// `--mem N`: the memory a worker offers, when the owner wants to keep some for themselves. Clients split
// layers by the free memory a worker reports, so capping the report caps the share. One worker per
// process, hence one cap.
size_t g_memory_cap = 0;
void (*g_real_get_memory)(ggml_backend_dev_t, size_t*, size_t*) = nullptr;

void CappedGetMemory(ggml_backend_dev_t dev, size_t* free_mem, size_t* total_mem) {
  g_real_get_memory(dev, free_mem, total_mem);
  if (*total_mem > g_memory_cap) *total_mem = g_memory_cap;
  if (*free_mem > g_memory_cap) *free_mem = g_memory_cap;
}

ggml_backend_t (*g_real_init_backend)(ggml_backend_dev_t, const char*) = nullptr;

// The server asks a backend for its device when a client wants memory figures: backends made from the
// capped device must point back at it, not at the device they were copied from.
ggml_backend_t CappedInitBackend(ggml_backend_dev_t dev, const char* params) {
  ggml_backend_t backend = g_real_init_backend(dev, params);
  if (backend != nullptr) backend->device = dev;
  return backend;
}

ggml_backend_dev_t CappedDevice(ggml_backend_dev_t dev, size_t cap) {
  g_memory_cap = cap;
  g_real_get_memory = dev->iface.get_memory;
  g_real_init_backend = dev->iface.init_backend;
  auto* copy = new ggml_backend_device{dev->iface, dev->reg, dev->context};
  copy->iface.get_memory = &CappedGetMemory;
  copy->iface.init_backend = &CappedInitBackend;
  return copy;
}

std::mutex g_rpc_mutex;
// Devices of the workers this process has added, by ggml's device name ("RPC0", ...).
std::unordered_map<std::string, ggml_backend_dev_t> g_rpc_devices;
bool g_serving = false;

// Through the registry rather than by symbol: in the portable build ggml-rpc is a dynamically loaded
// backend module, not linked into the addon.
template <typename Fn>
Fn RpcProc(Napi::Env env, const char* name) {
  ggml_backend_reg_t reg = ggml_backend_reg_by_name("RPC");
  void* fn = reg != nullptr ? ggml_backend_reg_get_proc_address(reg, name) : nullptr;
  if (fn == nullptr) throw CodedError(env, "native_error", "this build has no RPC backend (GGML_RPC)");
  return reinterpret_cast<Fn>(fn);
}

Napi::Object DeviceObject(Napi::Env env, ggml_backend_dev_t dev) {
  size_t free_mem = 0, total_mem = 0;
  ggml_backend_dev_memory(dev, &free_mem, &total_mem);
  Napi::Object d = Napi::Object::New(env);
  d.Set("name", ggml_backend_dev_name(dev));
  d.Set("description", ggml_backend_dev_description(dev));
  d.Set("memoryFree", static_cast<double>(free_mem));
  d.Set("memoryTotal", static_cast<double>(total_mem));
  return d;
}

}  // namespace

ggml_backend_dev_t FindDevice(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(g_rpc_mutex);
    auto it = g_rpc_devices.find(name);
    if (it != g_rpc_devices.end()) return it->second;
  }
  return ggml_backend_dev_by_name(name.c_str());
}

Napi::Value RpcServe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw CodedError(env, "invalid_params", "rpcServe needs an options object");
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string endpoint = GetString(opts, "endpoint", "");
  if (endpoint.empty()) throw CodedError(env, "invalid_params", "endpoint (host:port) is required");
  double threads = GetNumber(opts, "threads", 0);
  double memory = GetNumber(opts, "memoryBytes", 0);
  std::string cache_dir = GetString(opts, "cacheDir", "");
  std::vector<std::string> names = GetStringArray(opts, "devices");

  std::vector<ggml_backend_dev_t> devices;
  for (const auto& n : names) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_name(n.c_str());
    if (dev == nullptr) throw CodedError(env, "invalid_params", "no device named '" + n + "' on this machine");
    devices.push_back(dev);
  }
  if (devices.empty()) {
    // As ggml's rpc-server: the accelerators if there are any, else the CPU.
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
      ggml_backend_dev_t dev = ggml_backend_dev_get(i);
      enum ggml_backend_dev_type t = ggml_backend_dev_type(dev);
      if (t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU) devices.push_back(dev);
    }
    if (devices.empty()) {
      ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
      if (cpu != nullptr) devices.push_back(cpu);
    }
  }
  if (devices.empty()) throw CodedError(env, "native_error", "this machine has no device to serve");
  if (memory > 0) {
    if (devices.size() != 1) throw CodedError(env, "invalid_params", "a memory limit needs exactly one device");
    devices[0] = CappedDevice(devices[0], static_cast<size_t>(memory));
  }
  {
    std::lock_guard<std::mutex> lock(g_rpc_mutex);
    if (g_serving) throw CodedError(env, "invalid_params", "this process already serves RPC");
    g_serving = true;
  }

  Napi::Array out = Napi::Array::New(env);
  for (auto* dev : devices) out.Set(out.Length(), DeviceObject(env, dev));

  size_t n_threads = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency() / 2);
  auto start = RpcProc<decltype(&ggml_backend_rpc_start_server)>(env, "ggml_backend_rpc_start_server");
  std::thread([start, endpoint, cache_dir, n_threads, devices]() mutable {
    // Returns only when the socket cannot be created or accept fails; the JS side notices through its
    // own probe of the endpoint.
    start(endpoint.c_str(), cache_dir.empty() ? nullptr : cache_dir.c_str(), n_threads,
                                  devices.size(), devices.data());
  }).detach();
  return out;
}

Napi::Value RpcAddServer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "endpoint must be a string");
  std::string endpoint = info[0].As<Napi::String>().Utf8Value();
  auto add = RpcProc<decltype(&ggml_backend_rpc_add_server)>(env, "ggml_backend_rpc_add_server");
  ggml_backend_reg_t reg = add(endpoint.c_str());
  if (reg == nullptr) throw CodedError(env, "rpc_worker_unreachable", "the worker at " + endpoint + " offers no device");
  Napi::Array out = Napi::Array::New(env);
  std::lock_guard<std::mutex> lock(g_rpc_mutex);
  for (size_t i = 0; i < ggml_backend_reg_dev_count(reg); i++) {
    ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, i);
    g_rpc_devices[ggml_backend_dev_name(dev)] = dev;
    out.Set(out.Length(), DeviceObject(env, dev));
  }
  return out;
}

}  // namespace westfall
