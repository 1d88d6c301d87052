// The decode thread: admits queued jobs, builds one batch per step from every active job, samples, and
// hands text and events to JavaScript (see context.h).
#include <algorithm>

#include "objects/context.h"
#include "objects/context_internal.h"
#include "util/convert.h"
#include "util/errors.h"

namespace westfall {

namespace {

// Text reaches JavaScript at most this often while a generation runs (its first text and every other
// event at once). Each delivery costs the JavaScript thread ~0.4 ms of CPU in the server (event dispatch,
// an SSE or WebSocket frame, a socket write), and on a machine whose cores all decode that time is taken
// from the decode threads: one delivery per 11 ms token slowed the server's decoding by ~5% against the
// in-process engine. Every 30 ms, a CPU token stream arrives in groups of two or three, a GPU one in
// groups of ten or more, still smoother than a screen needs for reading.
constexpr int64_t kDeliveryIntervalUs = 30000;

// Bytes at the end of `s` that start a UTF-8 sequence which is not complete yet.
size_t IncompleteUtf8Tail(const std::string& s) {
  size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; back++) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t need = (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

// Length of the longest suffix of `s` that is a proper prefix of some stop string: that text must be
// held back, because the next token may complete the stop sequence.
size_t StopPrefixTail(const std::string& s, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const auto& stop : stops) {
    size_t max_len = std::min(stop.size() - 1, s.size());
    for (size_t len = max_len; len > keep; len--) {
      if (s.compare(s.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  return keep;
}

}  // namespace

// ---- decode thread ----------------------------------------------------------------------------

void Context::Post(std::unique_ptr<Event> ev, bool urgent) {
  bool call;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    outbox_.push_back(std::move(ev));
    call = DrainDueLocked(urgent);
  }
  if (call) ScheduleDrain();
}

void Context::Flush() {
  bool call;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    call = DrainDueLocked(true);
  }
  if (call) ScheduleDrain();
}

bool Context::DrainDueLocked(bool urgent) {
  // One pending call at a time: while JavaScript is busy, events accumulate in the outbox and are
  // delivered together, so decoding never waits on the JavaScript thread. Text that is not urgent waits
  // for the delivery interval; a later event, or Flush() before a long step, takes it along.
  if (drain_scheduled_ || !has_tsfn_ || outbox_.empty()) return false;
  int64_t now = NowUs();
  if (!urgent && now - last_drain_us_ < kDeliveryIntervalUs) return false;
  drain_scheduled_ = true;
  last_drain_us_ = now;
  return true;
}

// Called without out_mutex_: the JavaScript thread this wakes takes that lock first thing (DrainEvents),
// and woken while the decode thread still held it, it blocked, was woken again, and preempted a decode
// thread twice per delivery (strace showed the convoy). Safe unlocked: only the decode thread calls this,
// and Shutdown() joins it before the thread-safe function is released.
void Context::ScheduleDrain() {
  tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) { DrainEvents(env); });
}

void Context::DrainEvents(Napi::Env env) {
  std::vector<std::unique_ptr<Event>> queued;
  {
    std::lock_guard<std::mutex> lock(out_mutex_);
    queued.swap(outbox_);
    drain_scheduled_ = false;
  }
  // Consecutive text of one generation becomes one chunk: one call into JavaScript, one frame.
  std::vector<std::unique_ptr<Event>> events;
  for (auto& ev : queued) {
    if (ev->kind == Event::Chunk && !events.empty() && events.back()->kind == Event::Chunk && events.back()->id == ev->id) {
      events.back()->text += ev->text;
      events.back()->tokens.insert(events.back()->tokens.end(), ev->tokens.begin(), ev->tokens.end());
    } else {
      events.push_back(std::move(ev));
    }
  }
  Napi::HandleScope scope(env);
  for (auto& ev : events) {
    try {
      switch (ev->kind) {
        case Event::Chunk: {
          Napi::Object payload = Napi::Object::New(env);
          payload.Set("text", ev->text);
          payload.Set("tokens", ToInt32Array(env, ev->tokens));
          on_event_.Call({Napi::Number::New(env, ev->id), Napi::String::New(env, "chunk"), payload});
          break;
        }
        case Event::Done:
        case Event::Error: {
          Napi::Value payload = ev->value ? ev->value(env) : env.Undefined();
          if (ev->kind == Event::Error) payload = CodedError(env, ev->code, ev->message).Value();
          on_event_.Call({Napi::Number::New(env, ev->id), Napi::String::New(env, ev->kind == Event::Done ? "done" : "error"), payload});
          refs_--;
          break;
        }
        case Event::TaskOk:
        case Event::TaskErr: {
          auto it = deferreds_.find(ev->id);
          if (it != deferreds_.end()) {
            if (ev->kind == Event::TaskOk) it->second.Resolve(ev->value(env));
            else it->second.Reject(CodedError(env, ev->code, ev->message).Value());
            deferreds_.erase(it);
          }
          refs_--;
          break;
        }
      }
    } catch (const Napi::Error& e) {
      // The JavaScript dispatcher does not throw; if it ever does, surface it without losing later events.
      e.ThrowAsJavaScriptException();
      return;
    }
  }
  if (refs_ == 0 && has_tsfn_) tsfn_.Unref(env);
}

void Context::EmitText(Job& job, const std::string& text, bool final) {
  if (text.empty() && job.pending_tokens.empty() && !final) return;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Chunk;
  ev->id = job.id;
  ev->text = text;
  ev->tokens.swap(job.pending_tokens);
  if (ev->text.empty() && ev->tokens.empty()) return;
  bool first = !job.delivered;
  job.delivered = true;
  Post(std::move(ev), first);  // the first text goes at once: time to first token
}

void Context::FinishJob(Job& job, const char* reason) {
  if (job.finished) return;
  job.finished = true;
  last_used_[job.seq] = ++use_clock_;
  if (!job.held.empty() || !job.pending_tokens.empty()) {
    EmitText(job, job.held, true);
    job.held.clear();
  }
  int64_t t_end = NowUs();
  int64_t t_prompt_end = job.t_prompt_end ? job.t_prompt_end : t_end;
  double prompt_ms = (t_prompt_end - job.t_start) / 1000.0;
  double gen_ms = (t_end - t_prompt_end) / 1000.0;
  double ttft_ms = job.t_first ? (job.t_first - job.t_start) / 1000.0 : -1;
  size_t prompt_tokens = job.prompt.size(), reused = job.n_reused, restored = job.n_restored, copied = job.n_copied;
  int32_t generated = job.n_generated;
  std::string r = reason;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Done;
  ev->id = job.id;
  ev->value = [=](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("stopReason", r);
    o.Set("promptTokens", static_cast<double>(prompt_tokens));
    o.Set("reusedPromptTokens", static_cast<double>(reused));
    o.Set("evaluatedPromptTokens", static_cast<double>(prompt_tokens - reused));
    o.Set("restoredPromptTokens", static_cast<double>(restored));
    o.Set("copiedPromptTokens", static_cast<double>(copied));
    o.Set("generatedTokens", generated);
    o.Set("promptMs", prompt_ms);
    o.Set("generationMs", gen_ms);
    o.Set("timeToFirstTokenMs", ttft_ms);
    return o;
  };
  Post(std::move(ev), true);
}

void Context::FailJob(Job& job, const std::string& code, const std::string& message) {
  if (job.finished) return;
  job.finished = true;
  last_used_[job.seq] = ++use_clock_;
  auto ev = std::make_unique<Event>();
  ev->kind = Event::Error;
  ev->id = job.id;
  ev->code = code;
  ev->message = message;
  Post(std::move(ev), true);
}

void Context::AdmitPending() {
  std::deque<std::unique_ptr<Job>> incoming;
  std::vector<uint32_t> cancels;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A task that arrived after this iteration took its tasks came before any job that arrived with it
    // (JavaScript queues a sequence's state copy, then the job of the conversation taking it over): the
    // next iteration runs it first and admits them then.
    if (!tasks_.empty()) return;
    incoming.swap(pending_);
    cancels.swap(cancel_requests_);
  }
  llama_memory_t mem = llama_get_memory(ctx_);
  std::vector<std::unique_ptr<Job>> admitted;
  std::vector<bool> busy(n_seq_max_, false);
  for (auto& job : active_) busy[job->seq] = true;
  for (auto& job : incoming) {
    if (busy[job->seq]) {
      FailJob(*job, "invalid_params", "sequence " + std::to_string(job->seq) + " is already generating");
      continue;
    }
    busy[job->seq] = true;
    admitted.push_back(std::move(job));
  }
  if (!admitted.empty() && n_seq_max_ > 1) {
    for (uint32_t s = 0; s < n_seq_max_; s++) {
      if (!busy[s] && InKvCache(s)) Park(static_cast<int32_t>(s));
    }
  }
  for (auto& job : admitted) {
    job->t_start = NowUs();  // restoring a prefix counts in the time to first token
    size_t p = PreparePrefix(*job);
    job->n_done = p;
    job->n_reused = p;
    active_.push_back(std::move(job));
  }
  for (uint32_t id : cancels) {
    for (auto& job : active_) {
      if (job->id == id) job->cancelled = true;
    }
  }
}

void Context::Run() {
  while (true) {
    ParkWhenIdle();
    std::deque<std::pair<uint32_t, std::function<std::function<Napi::Value(Napi::Env)>()>>> tasks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] {
        return stopping_ || !pending_.empty() || !tasks_.empty() || !cancel_requests_.empty() || !active_.empty();
      });
      if (stopping_) break;
      tasks.swap(tasks_);
    }
    for (auto& [id, task] : tasks) {
      auto ev = std::make_unique<Event>();
      ev->id = id;
      try {
        ev->value = task();
        ev->kind = Event::TaskOk;
      } catch (const CodedException& e) {
        ev->kind = Event::TaskErr;
        ev->code = e.code;
        ev->message = e.what();
      } catch (const std::exception& e) {
        ev->kind = Event::TaskErr;
        ev->code = "native_error";
        ev->message = e.what();
      }
      Post(std::move(ev), true);
    }
    // Nothing may leave this thread as an exception (that would end the process): whatever llama.cpp
    // throws fails the jobs of this step, and the thread goes on with the next.
    try {
      AdmitPending();
      Step();
    } catch (const std::exception& e) {
      FailActive(std::string("the generation failed inside llama.cpp: ") + e.what());
    } catch (...) {
      FailActive("the generation failed inside llama.cpp");
    }
  }
  // Disposed: every job and task still queued ends with a clear error instead of hanging forever.
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& job : pending_) active_.push_back(std::move(job));
  pending_.clear();
  for (auto& job : active_) FailJob(*job, "disposed", "the context was disposed during generation");
  active_.clear();
  for (auto& [id, task] : tasks_) {
    auto ev = std::make_unique<Event>();
    ev->kind = Event::TaskErr;
    ev->id = id;
    ev->code = "disposed";
    ev->message = "the context was disposed";
    Post(std::move(ev), true);
  }
  tasks_.clear();
}

void Context::FailActive(const std::string& message) {
  llama_memory_t mem = llama_get_memory(ctx_);
  for (auto& job : active_) {
    // Their cells may hold a half-evaluated batch: the sequence starts afresh next time.
    DropParked(job->seq);
    llama_memory_seq_rm(mem, job->seq, -1, -1);
    seq_tokens_[job->seq].clear();
    FailJob(*job, "native_error", message);
  }
  active_.clear();
}

bool Context::Step() {
  for (auto& job : active_) {
    if (job->cancelled) FinishJob(*job, "aborted");
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
  if (active_.empty()) return false;

  // Generating jobs first (one token each, cheap and latency-sensitive), then prompt chunks fill the rest.
  batch_.n_tokens = 0;
  auto add = [this](llama_token t, llama_pos pos, int32_t seq, bool logits) {
    int32_t i = batch_.n_tokens++;
    batch_.token[i] = t;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = logits;
    return i;
  };
  for (auto& job : active_) {
    job->batch_idx = -1;
    job->n_in_batch = 0;
    job->pos_before = seq_tokens_[job->seq].size();
    if (job->generating && static_cast<uint32_t>(batch_.n_tokens) < n_batch_) {
      job->batch_idx = add(job->last, static_cast<llama_pos>(job->pos_before), job->seq, true);
      job->n_in_batch = 1;
    }
  }
  for (auto& job : active_) {
    if (job->generating) continue;
    while (job->n_done + job->n_in_batch < job->prompt.size() && static_cast<uint32_t>(batch_.n_tokens) < n_batch_) {
      size_t k = job->n_done + job->n_in_batch;
      bool last = k == job->prompt.size() - 1;
      int32_t i = add(job->prompt[k], static_cast<llama_pos>(k), job->seq, last);
      if (last) job->batch_idx = i;
      job->n_in_batch++;
    }
  }
  if (batch_.n_tokens == 0) return false;
  // A step with prompt tokens can take seconds on a CPU: text waiting for the delivery interval goes now.
  if (std::any_of(active_.begin(), active_.end(), [](const auto& j) { return !j->generating && j->n_in_batch > 0; })) Flush();

  {
    // A cancel that arrived before this point is handled next step; only later ones should interrupt.
    std::lock_guard<std::mutex> lock(mutex_);
    abort_now_ = stopping_ || !cancel_requests_.empty();
  }
  int32_t ret = llama_decode(ctx_, batch_);
  if (ret != 0) {
    llama_memory_t mem = llama_get_memory(ctx_);
    for (auto& job : active_) {
      if (job->n_in_batch == 0) continue;
      llama_memory_seq_rm(mem, job->seq, static_cast<llama_pos>(job->pos_before), -1);
      seq_tokens_[job->seq].resize(job->pos_before);
      if (ret == 2) continue;  // aborted: cancelled jobs end next step, the others run again
      if (ret == 1) FailJob(*job, "context_overflow", "no room left in the context's KV cache for this batch");
      else FailJob(*job, "native_error", "llama_decode failed with code " + std::to_string(ret));
    }
    active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
    return true;
  }

  // GPU backends return from llama_decode before the graph has run. The sampler would wait for it anyway
  // (reading logits synchronizes); waiting here first makes the prompt timings include the compute.
  llama_synchronize(ctx_);
  int64_t now = NowUs();
  for (auto& job : active_) {
    if (job->n_in_batch == 0) continue;
    auto& cached = seq_tokens_[job->seq];
    if (job->generating) {
      cached.push_back(job->last);
    } else {
      cached.insert(cached.end(), job->prompt.begin() + job->n_done, job->prompt.begin() + job->n_done + job->n_in_batch);
      job->n_done += job->n_in_batch;
    }
    if (job->batch_idx < 0) continue;
    if (!job->generating) {
      job->generating = true;
      job->t_prompt_end = now;
    }
    llama_token tok;
    try {
      tok = job->sampler->Sample(ctx_, job->batch_idx);
    } catch (const CodedException& e) {
      FailJob(*job, e.code, e.what());
      continue;
    }
    if (tok < 0) {
      FailJob(*job, "grammar_error", "the grammar allows no further token: the output so far cannot be completed to match it");
      continue;
    }
    if (!job->ignore_eos && llama_vocab_is_eog(vocab_, tok)) {
      FinishJob(*job, "eos");
      continue;
    }
    if (job->n_generated++ == 0) job->t_first = NowUs();
    char buf[256];
    const bool special = job->render_special || job->preserved.count(tok) > 0;
    int32_t n = llama_token_to_piece(vocab_, tok, buf, sizeof(buf), 0, special);
    std::string piece;
    if (n < 0) {
      piece.resize(-n);
      llama_token_to_piece(vocab_, tok, piece.data(), static_cast<int32_t>(piece.size()), 0, special);
    } else {
      piece.assign(buf, n);
    }
    job->held += piece;
    job->pending_tokens.push_back(tok);

    size_t stop_at = std::string::npos;
    for (const auto& s : job->stops) stop_at = std::min(stop_at, job->held.find(s));
    if (stop_at != std::string::npos) {
      job->held.resize(stop_at);
      FinishJob(*job, "stop_sequence");
      continue;
    }
    size_t keep = std::max(StopPrefixTail(job->held, job->stops), IncompleteUtf8Tail(job->held));
    EmitText(*job, job->held.substr(0, job->held.size() - keep), false);
    job->held.erase(0, job->held.size() - keep);

    if (job->n_generated >= job->max_tokens) {
      FinishJob(*job, "max_tokens");
    } else if (cached.size() + 1 >= n_ctx_seq_) {
      FinishJob(*job, "context_full");
    } else {
      job->last = tok;
    }
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(), [](const auto& j) { return j->finished; }), active_.end());
  return true;
}

}  // namespace westfall
