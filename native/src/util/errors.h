#pragma once
// Errors crossing into JavaScript carry a stable string `code` (the catalog lives in src/errors.ts);
// the TypeScript layer turns them into WestfallError instances.
#include <napi.h>
#include <stdexcept>
#include <string>

namespace westfall {

inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// Thrown on worker threads and converted to a coded JS error on the main thread.
struct CodedException : std::runtime_error {
  std::string code;
  CodedException(std::string c, const std::string& message) : std::runtime_error(message), code(std::move(c)) {}
};

}  // namespace westfall
