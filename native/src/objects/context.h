#pragma once
// Context: a llama_context with its own decode thread. Generations are queued as jobs on sequences
// (slots); the thread builds one batch per step from every active job, so several streams are decoded
// together, and pushes text to JavaScript through one thread-safe function without waiting for it.
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "llama.h"
#include "objects/model.h"
#include "objects/sampler.h"

namespace westfall {

struct Job;
struct Event;

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Init(Napi::Env env);
  // createContext(model, options, onEvent) -> Promise<Context>
  static Napi::Value Create(const Napi::CallbackInfo& info);

  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;

  // Called by the creation worker on the JS thread.
  void Start(Napi::Env env, std::shared_ptr<ModelState> model, llama_context* ctx, Napi::Function on_event,
             ggml_threadpool* threadpool, ggml_threadpool* threadpool_batch);

 private:
  Napi::Value Generate(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Embed(const Napi::CallbackInfo& info);
  Napi::Value SaveState(const Napi::CallbackInfo& info);
  Napi::Value LoadState(const Napi::CallbackInfo& info);
  Napi::Value StateData(const Napi::CallbackInfo& info);
  Napi::Value ClearSequence(const Napi::CallbackInfo& info);
  Napi::Value ReserveRestore(const Napi::CallbackInfo& info);
  Napi::Value CacheState(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);

  void EnsureOpen(Napi::Env env) const;
  void Shutdown();
  void Run();  // the decode thread
  bool Step();  // one batch; false when there was nothing to do
  void AdmitPending();
  // Idle sequences are parked: their cache is copied to host memory and removed from the KV cache (see
  // context.cpp). Decode thread only.
  void Park(int32_t seq);
  bool Unpark(int32_t seq);  // false when the KV cache has no contiguous room for it (it stays parked)
  void DropParked(int32_t seq);  // forgets the parked cache and the tokens it held
  void KeepSpare(std::vector<uint8_t>& data);
  // Admission (context_parking.cpp): brings the longest usable prefix of the job's prompt into its
  // sequence, from its own cache, a state read from disk, or another sequence; returns the tokens kept.
  size_t PreparePrefix(Job& job);
  void ParkWhenIdle();           // with nothing to run: parks all idle sequences but the latest used
  bool InKvCache(uint32_t seq) const { return parked_[seq].empty() && !seq_tokens_[seq].empty(); }
  void FinishJob(Job& job, const char* reason);
  void FailJob(Job& job, const std::string& code, const std::string& message);
  void FailActive(const std::string& message);  // after an exception from llama.cpp: every active job
  void EmitText(Job& job, const std::string& text, bool final);
  void Post(std::unique_ptr<Event> ev, bool urgent);
  void Flush();  // deliver what the outbox holds now, before a long step
  bool DrainDueLocked(bool urgent);  // whether a delivery should be scheduled now (out_mutex_ held)
  void ScheduleDrain();
  void DrainEvents(Napi::Env env);
  // A task runs on the decode thread between batches; its result settles a promise.
  Napi::Value QueueTask(Napi::Env env, std::function<std::function<Napi::Value(Napi::Env)>()> task);
  static bool AbortCallback(void* data);

  std::shared_ptr<ModelState> model_;
  llama_context* ctx_ = nullptr;
  ggml_threadpool* threadpool_ = nullptr;        // persistent decode threads (see context.cpp)
  ggml_threadpool* threadpool_batch_ = nullptr;  // only when batch threads differ
  const llama_vocab* vocab_ = nullptr;
  uint32_t n_batch_ = 0;
  uint32_t n_seq_max_ = 1;
  uint32_t n_ctx_seq_ = 0;
  std::vector<std::vector<llama_token>> seq_tokens_;  // what each sequence holds, in the KV cache or parked (decode thread)
  std::vector<std::vector<uint8_t>> parked_;          // per sequence: its cache while parked, else empty
  // A buffer a parked cache came back from (decode thread only): the next park fills it instead of fresh
  // memory, whose page faults were ~110 of the ~150 ms a new chat started after a long one waited for the
  // long one's 39 MB to be parked. Parking also takes the restore buffer when that one is large enough.
  std::vector<uint8_t> park_spare_;
  std::vector<uint64_t> parked_at_;                   // when each was parked, to drop the oldest first
  std::vector<uint64_t> last_used_;                   // when each last ended a generation
  uint64_t park_clock_ = 0;
  uint64_t use_clock_ = 0;
  size_t parked_bytes_ = 0;
  size_t parked_budget_ = 0;  // at most what a full KV cache holds; set at the first park
  llama_batch batch_{};

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::unique_ptr<Job>> pending_;
  // A saved state's bytes are copied into a job's buffer on the JS thread and read on the decode thread;
  // the buffer comes back here afterwards (mutex_), because filling memory the process already holds is
  // far cheaper than a fresh allocation (a 36 MB state cost ~100 ms of page faults per load in a VM).
  std::vector<uint8_t> restore_spare_;
  // The most a kept buffer (restore_spare_, park_spare_) may hold; larger ones are freed after use.
  static constexpr size_t kSpareBytesMax = size_t(256) << 20;
  std::vector<std::unique_ptr<Job>> active_;
  std::deque<std::pair<uint32_t, std::function<std::function<Napi::Value(Napi::Env)>()>>> tasks_;
  std::atomic<bool> abort_now_{false};
  std::vector<uint32_t> cancel_requests_;

  std::mutex out_mutex_;
  std::vector<std::unique_ptr<Event>> outbox_;
  bool drain_scheduled_ = false;
  int64_t last_drain_us_ = 0;  // when the last delivery was scheduled (out_mutex_)
  Napi::ThreadSafeFunction tsfn_;
  bool has_tsfn_ = false;
  Napi::FunctionReference on_event_;
  std::unordered_map<uint32_t, Napi::Promise::Deferred> deferreds_;  // JS thread only
  uint32_t next_id_ = 1;  // JS thread only
  int refs_ = 0;          // JS thread only: in-flight jobs and tasks keep the process alive
  bool disposed_ = false;
};

}  // namespace westfall
