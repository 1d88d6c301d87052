// The per-model scheduler: at most `capacity` generations run at once on a model's context (decoded
// together in one batch per step); more wait in a bounded FIFO queue; beyond it, queue_full (HTTP 429 with
// Retry-After). Every generation gets an AbortSignal: a client that leaves, a cancel, an unload or shutdown
// stops it within one token, also during prompt processing.
import { formatGenerateParams, type ChatFormat, type ChatFormatOptions, type Context, type GenerateParams, type Generation, type Model } from '../../engine/index.js';
import type { FormatGenerateParams } from '../../engine/chat-format.js';
import { WestfallError, isWestfallError } from '../../errors.js';
import type { GenerationParams, SchedulerStats } from '../schemas.js';
import type { ChatJob, CompletionJob, GenerationEvent, ManagedGeneration, ManagedResult } from './engine.js';

/** What a generation runs on; `target()` throws the reason when the model cannot take work now. */
export interface SchedulerTarget {
  model: Model;
  ctx: Context;
  modelId: string;
}

export interface SchedulerOptions {
  queueLimit: number;
  sampling: { temperature: number; topP: number; topK: number; maxTokens: number };
  /** Sequences of the context (before a context exists: the configured number). */
  capacity: () => number;
  target: () => SchedulerTarget;
  onGeneration?: (e: GenerationEvent) => void;
  /** Called whenever the last running or queued generation ends (keep-alive timers start then). */
  onIdle?: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Job {
  controller: AbortController;
  serverReason: WestfallError | null;
  settled: Promise<unknown>;
}

interface Prepared {
  prompt: string | Int32Array;
  stop: string[];
  format: FormatGenerateParams;
  params: GenerationParams | undefined;
  chatFormat: ChatFormat | null;
  cacheTag?: string;
}

let nextId = 0;

export class Scheduler {
  readonly #o: SchedulerOptions;
  #active = 0;
  #queue: Waiter[] = [];
  #jobs = new Set<Job>();
  #avgSeconds = 2; // running mean of generation wall time, for Retry-After

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  stats(): SchedulerStats {
    return { capacity: this.#o.capacity(), running: this.#active, queued: this.#queue.length, queueLimit: this.#o.queueLimit };
  }

  /** Running or waiting generations (a busy model is never unloaded to make room). */
  get busy(): boolean {
    return this.#active > 0 || this.#queue.length > 0;
  }

  retryAfterSeconds(): number {
    const waves = Math.ceil((this.#queue.length + 1) / Math.max(1, this.#o.capacity()));
    return Math.max(1, Math.min(60, Math.ceil(waves * this.#avgSeconds)));
  }

  /**
   * Renders `messages` with the model's chat template and schedules the generation, constrained the way
   * the model's chat format says (a lazy tool-call grammar, an answer schema after any thinking).
   */
  chat(job: ChatJob): Promise<ManagedGeneration> {
    return this.#schedule('chat', job.signal, (model) => {
      // An answer schema goes through the template, so a thinking model thinks first and then answers
      // in the schema (the format's grammar covers both).
      const schema = job.params?.jsonSchema;
      const format: ChatFormatOptions = { ...job.format, ...(schema && !job.format?.jsonSchema ? { jsonSchema: schema } : {}) };
      // tokenizeChat keeps message text from producing special tokens (no role injection by users).
      const rendered = model.tokenizeChat(job.messages, format);
      const formatParams = job.grammar ? { grammar: job.grammar, preservedTokens: rendered.chatFormat.preservedTokens } : formatGenerateParams(rendered.chatFormat, job.reasoningBudget);
      const params = schema && job.params ? { ...job.params, jsonSchema: undefined } : job.params;
      return { prompt: rendered.tokens, stop: rendered.stop, format: formatParams, params, chatFormat: rendered.chatFormat, ...(job.cacheTag ? { cacheTag: job.cacheTag } : {}) };
    });
  }

  /** Schedules a raw text completion. */
  complete(job: CompletionJob): Promise<ManagedGeneration> {
    return this.#schedule('completion', job.signal, () => ({ prompt: job.prompt, stop: [], format: {}, params: job.params, chatFormat: null }));
  }

  /** Rejects every waiting request with `reason`. */
  rejectWaiting(reason: WestfallError): void {
    for (const w of this.#queue.splice(0)) w.reject(reason);
  }

  /** Ends every running generation with `reason` (without waiting). */
  abortRunning(reason: WestfallError): void {
    for (const job of this.#jobs) {
      job.serverReason ??= reason;
      job.controller.abort(reason);
    }
  }

  /** Ends waiting and running work with `reason` and waits up to `timeoutMs` for it to stop. */
  async stopAll(reason: WestfallError, timeoutMs: number): Promise<void> {
    this.rejectWaiting(reason);
    const settled = this.settled();
    this.abortRunning(reason);
    await settleWithin(settled, timeoutMs);
  }

  /** The running generations' end. */
  settled(): Promise<unknown>[] {
    return [...this.#jobs].map((j) => j.settled);
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.#o.capacity() && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#o.queueLimit) {
      const retryAfter = this.retryAfterSeconds();
      return Promise.reject(
        new WestfallError('queue_full', `all ${this.#o.capacity()} sequences are busy and ${this.#queue.length} requests are waiting; retry in ${retryAfter} s`, {
          details: { retryAfter, running: this.#active, queued: this.#queue.length, queueLimit: this.#o.queueLimit },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        waiter.reject(new WestfallError('aborted', 'the request was cancelled while waiting in the queue'));
        if (!this.busy) this.#o.onIdle?.();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    this.#active--;
    while (this.#active < this.#o.capacity() && this.#queue.length > 0) {
      this.#active++;
      this.#queue.shift()!.resolve();
    }
    if (!this.busy) this.#o.onIdle?.();
  }

  async #schedule(kind: GenerationEvent['kind'], signal: AbortSignal | undefined, prepare: (model: Model) => Prepared): Promise<ManagedGeneration> {
    this.#o.target();
    if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
    const queuedAt = performance.now();
    await this.#acquire(signal);
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        this.#release();
      }
    };
    try {
      const { model, ctx, modelId } = this.#o.target();
      const prepared = prepare(model);
      const controller = new AbortController();
      const combined = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
      const params = this.#engineParams(prepared.params, prepared.stop, prepared.format, combined, prepared.cacheTag);
      const queueMs = performance.now() - queuedAt;
      const gen: Generation = ctx.generate(prepared.prompt, params);
      const startedAt = performance.now();
      const job: Job = { controller, serverReason: null, settled: gen.result.catch(() => {}) };
      this.#jobs.add(job);
      const result = gen.result.then(
        (r): ManagedResult => ({ ...r, timings: { queueMs, ...r.timings } }),
        (err: unknown) => {
          throw job.serverReason ?? err;
        },
      );
      result.catch(() => {});
      void result
        .then(
          (r) => this.#o.onGeneration?.({ kind, model: modelId, stopReason: r.stopReason, usage: r.usage, timings: r.timings }),
          (err: unknown) =>
            this.#o.onGeneration?.({ kind, model: modelId, stopReason: 'error', usage: null, timings: null, errorCode: isWestfallError(err) ? err.code : 'internal_error' }),
        )
        .finally(() => {
          const seconds = (performance.now() - startedAt) / 1000;
          this.#avgSeconds = this.#avgSeconds * 0.8 + seconds * 0.2;
          this.#jobs.delete(job);
          release();
        });
      return {
        id: `gen-${++nextId}`,
        modelId,
        chatFormat: prepared.chatFormat,
        result,
        signal: combined,
        get serverAbortReason() {
          return job.serverReason;
        },
        abort: () => controller.abort(new WestfallError('aborted')),
        [Symbol.asyncIterator]: () => gen[Symbol.asyncIterator](),
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  #engineParams(p: GenerationParams | undefined, templateStop: string[], format: FormatGenerateParams, signal: AbortSignal, cacheTag: string | undefined): GenerateParams {
    const d = this.#o.sampling;
    const stop = [...new Set([...templateStop, ...(p?.stop ?? [])])].slice(0, 16);
    const out: GenerateParams = {
      temperature: p?.temperature ?? d.temperature,
      topP: p?.topP ?? d.topP,
      topK: p?.topK ?? d.topK,
      maxTokens: p?.maxTokens ?? d.maxTokens,
      stop,
      signal,
    };
    if (p?.minP !== undefined) out.minP = p.minP;
    if (p?.seed !== undefined) out.seed = p.seed;
    if (p?.repeatPenalty !== undefined) out.repeatPenalty = p.repeatPenalty;
    if (p?.repeatLastN !== undefined) out.repeatLastN = p.repeatLastN;
    if (p?.presencePenalty !== undefined) out.presencePenalty = p.presencePenalty;
    if (p?.frequencyPenalty !== undefined) out.frequencyPenalty = p.frequencyPenalty;
    if (p?.ignoreEos !== undefined) out.ignoreEos = p.ignoreEos;
    if (p?.cachePrompt !== undefined) out.cachePrompt = p.cachePrompt;
    if (cacheTag) out.cacheTag = cacheTag;
    // The chat format's constraints (tools, an answer schema) win; otherwise the caller's grammar or schema.
    const { grammar, ...rest } = format;
    Object.assign(out, rest);
    if (grammar) out.grammar = grammar;
    else if (p?.grammar) out.grammar = p.grammar;
    else if (p?.jsonSchema) out.jsonSchema = p.jsonSchema;
    return out;
  }
}

/** Waits for the promises to settle, at most `timeoutMs`; true when they all did. */
export async function settleWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  const all = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
