#pragma once
// Option readers. The TypeScript layer validates every option with zod before calling in, so these only
// guard against misuse of the raw addon (wrong types become a coded error, never a crash).
#include <napi.h>
#include <cstring>
#include <string>
#include <vector>
#include "util/errors.h"

namespace westfall {

inline bool Has(const Napi::Object& o, const char* key) {
  return o.Has(key) && !o.Get(key).IsUndefined() && !o.Get(key).IsNull();
}

inline double GetNumber(const Napi::Object& o, const char* key, double fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw CodedError(o.Env(), "invalid_params", std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool GetBool(const Napi::Object& o, const char* key, bool fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw CodedError(o.Env(), "invalid_params", std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string GetString(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw CodedError(o.Env(), "invalid_params", std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline std::vector<std::string> GetStringArray(const Napi::Object& o, const char* key) {
  std::vector<std::string> out;
  if (!Has(o, key)) return out;
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw CodedError(o.Env(), "invalid_params", std::string(key) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) throw CodedError(o.Env(), "invalid_params", std::string(key) + " must be an array of strings");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

// Tokens travel as Int32Array both ways: one copy, no per-element JS values.
inline std::vector<int32_t> GetTokens(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw CodedError(v.Env(), "invalid_params", std::string(what) + " must be an Int32Array of token ids");
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

inline Napi::Int32Array ToInt32Array(Napi::Env env, const std::vector<int32_t>& tokens) {
  Napi::Int32Array a = Napi::Int32Array::New(env, tokens.size());
  if (!tokens.empty()) std::memcpy(a.Data(), tokens.data(), tokens.size() * sizeof(int32_t));
  return a;
}

}  // namespace westfall
