// ModelManager: owns the loaded model and its one context (config.parallel sequences), loads and unloads,
// and schedules generations. At most `sequences` generations run at once (the context decodes them
// together in one batch per step); more wait in a bounded FIFO queue; beyond it, queue_full (HTTP 429
// with Retry-After). Every generation gets an AbortSignal: a client that leaves, a cancel, an unload or
// shutdown stops it within one token, also during prompt processing.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Config } from '../config/index.js';
import {
  formatGenerateParams,
  loadModel,
  PromptCache,
  type ChatFormat,
  type ChatFormatOptions,
  type ChatTemplateMessage,
  type Context,
  type GenerateParams,
  type Generation,
  type GenerationChunk,
  type GenerationResult,
  type Model,
  type ReasoningBudget,
} from '../engine/index.js';
import type { FormatGenerateParams } from '../engine/chat-format.js';
import { autoModelSettings } from '../engine/memory.js';
import { native } from '../engine/native.js';
import { WestfallError, isWestfallError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { GenerationParams, ModelStatus, ModelSummary, SchedulerStats, Timings } from './schemas.js';

/**
 * Which GPU layers to load with: an explicit number, else the tuning profile's (measured on this machine),
 * else none without a GPU, else 'plan' (the memory planner decides).
 */
export function chooseGpuLayers(requested: number | 'auto', profileLayers: number | undefined, hasGpu: boolean): number | 'plan' {
  if (requested !== 'auto') return requested;
  if (profileLayers !== undefined) return profileLayers;
  return hasGpu ? 'plan' : 0;
}

/** Speed settings measured by `westfall bench` for a model (see src/tuning/profile.ts). */
export interface SpeedProfile {
  threads?: number;
  threadsBatch?: number;
  batchSize?: number;
  ubatchSize?: number;
  flashAttention?: 'on' | 'off' | 'auto';
  /** Only from a sweep that measured GPU offload on this machine. */
  gpuLayers?: number;
}

export interface ModelManagerOptions {
  contextSize: number;
  /** 'auto': as many layers as the GPU's free memory takes at the context size (see #gpuLayersFor). */
  gpuLayers: number | 'auto';
  threads?: number | null;
  /**
   * The tuned speed settings for a model file, if `westfall bench --save-profile` made some. Explicit
   * settings (WESTFALL_THREADS) still win.
   */
  profileFor?: (modelPath: string) => Promise<SpeedProfile | null>;
  /** Sequences of the context = generations decoded together. */
  parallel: number;
  /** Generations that may wait for a sequence; beyond: queue_full. */
  queueLimit: number;
  sampling: { temperature: number; topP: number; topK: number; maxTokens: number };
  /** Conversation states kept on disk (engine/prompt-cache.ts); none: nothing is saved. */
  promptCache?: PromptCache | null;
  logger?: Logger;
}

export interface LoadOptions {
  contextSize?: number;
  /** 'auto': as many as the GPU's free memory takes at the context size (none on the CPU variant). */
  gpuLayers?: number | 'auto';
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: number) => void;
}

export interface ManagedResult extends Omit<GenerationResult, 'timings'> {
  timings: Timings;
}

/** A scheduled generation: iterate it for chunks, await `result` for usage and timings. */
export interface ManagedGeneration extends AsyncIterable<GenerationChunk> {
  readonly id: string;
  readonly modelId: string;
  /** The chat format the reply is in (null for raw completions): read it with ChatOutputParser. */
  readonly chatFormat: ChatFormat | null;
  readonly result: Promise<ManagedResult>;
  /** Aborted when the client's signal aborts or the server ends the generation. */
  readonly signal: AbortSignal;
  /** Set when the server (not the client) ended it: shutting_down or model_unloaded. */
  readonly serverAbortReason: WestfallError | null;
  abort(): void;
}

export interface ChatJob {
  messages: ChatTemplateMessage[];
  params?: GenerationParams;
  /** How the template renders tools, thinking and an answer schema (engine/chat-format.ts). */
  format?: ChatFormatOptions;
  /** Caps thinking (for formats with thinking tags); 0 turns it off where the template cannot. */
  reasoningBudget?: ReasoningBudget | null;
  /**
   * GBNF that replaces the format's own constraints: JSON mode for templates without tool support
   * (tools/tool-format.ts).
   */
  grammar?: string | null;
  /** The conversation this reply belongs to: its saved state goes when the conversation is deleted. */
  cacheTag?: string;
  signal?: AbortSignal;
}

export interface CompletionJob {
  prompt: string;
  params?: GenerationParams;
  signal?: AbortSignal;
}

export interface GenerationEvent {
  kind: 'chat' | 'completion';
  stopReason: GenerationResult['stopReason'] | 'error';
  usage: GenerationResult['usage'] | null;
  timings: Timings | null;
  errorCode?: string;
}

export interface ModelManagerEvents {
  /** Load state changed (none → loading → ready | error → none ...). */
  state: [ModelStatus];
  /** Load progress 0..1. */
  progress: [number];
  /** A generation finished (any reason); metrics listen to this. */
  generation: [GenerationEvent];
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

let nextId = 0;

export class ModelManager extends EventEmitter<ModelManagerEvents> {
  readonly options: ModelManagerOptions;
  #log: Logger | undefined;
  #model: Model | null = null;
  #ctx: Context | null = null;
  #state: ModelStatus['state'] = 'none';
  #path: string | null = null;
  #summary: ModelSummary | null = null;
  #progress: number | null = null;
  #error: { code: string; message: string; details?: unknown } | null = null;
  #loadedAt: Date | null = null;
  #loadSeq = 0;
  #loadAbort: AbortController | null = null;
  #loading: Promise<unknown> | null = null;
  #active = 0;
  #queue: Waiter[] = [];
  #jobs = new Set<Job>();
  #shuttingDown = false;
  #avgSeconds = 2; // running mean of generation wall time, for Retry-After

  constructor(options: ModelManagerOptions) {
    super();
    this.options = options;
    this.#log = options.logger;
  }

  static optionsFromConfig(config: Config, logger?: Logger): ModelManagerOptions {
    return {
      contextSize: config.contextSize,
      gpuLayers: config.gpuLayers,
      threads: config.threads,
      parallel: config.parallel,
      queueLimit: config.queueLimit,
      sampling: config.sampling,
      promptCache: new PromptCache({
        dir: path.join(config.dataDir, 'prompt-cache'),
        maxBytes: config.promptCacheMaxBytes,
        onProblem: (message, err) => logger?.warn({ err }, message),
      }),
      ...(logger ? { logger } : {}),
    };
  }

  /** Conversation states on disk, if kept. */
  get promptCache(): PromptCache | null {
    return this.options.promptCache ?? null;
  }

  static fromConfig(config: Config, logger?: Logger): ModelManager {
    return new ModelManager(ModelManager.optionsFromConfig(config, logger));
  }

  /** The loaded model (ready state), or null. */
  get model(): Model | null {
    return this.#state === 'ready' ? this.#model : null;
  }

  get context(): Context | null {
    return this.#state === 'ready' ? this.#ctx : null;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The id clients use for the loaded model (file name without .gguf), or null. */
  get modelId(): string | null {
    return this.#state === 'ready' ? (this.#summary?.id ?? null) : null;
  }

  status(): ModelStatus {
    const ctx = this.#state === 'ready' ? this.#ctx : null;
    return {
      state: this.#state,
      model: this.#summary,
      path: this.#path,
      progress: this.#state === 'loading' ? this.#progress : null,
      error: this.#error,
      context: ctx
        ? {
            contextSize: ctx.info.contextSize,
            contextSizePerSequence: ctx.info.contextSizePerSequence,
            sequences: ctx.info.sequences,
            threads: ctx.info.threads,
          }
        : null,
      loadedAt: this.#loadedAt?.toISOString() ?? null,
    };
  }

  stats(): SchedulerStats {
    return { capacity: this.#capacity(), running: this.#active, queued: this.#queue.length, queueLimit: this.options.queueLimit };
  }

  #capacity(): number {
    return this.#ctx?.info.sequences ?? this.options.parallel;
  }

  #setState(state: ModelStatus['state']): void {
    this.#state = state;
    this.emit('state', this.status());
  }

  // -------------------------------------------------------------------------------------------------
  // Loading

  /**
   * Loads a GGUF model and creates its context, replacing the current model (generations running on it
   * end with model_unloaded). A newer load() aborts an unfinished one, which rejects with `aborted`.
   */
  async load(modelPath: string, opts: LoadOptions = {}): Promise<ModelStatus> {
    if (this.#shuttingDown) throw new WestfallError('shutting_down', 'the service is shutting down; models cannot be loaded');
    const seq = ++this.#loadSeq;
    this.#loadAbort?.abort();
    const controller = new AbortController();
    this.#loadAbort = controller;
    const onOuterAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const previous = this.#loading;
    const run = (async () => {
      await previous?.catch(() => {});
      if (seq !== this.#loadSeq) throw new WestfallError('aborted', 'superseded by a newer load');
      await this.#unloadCurrent(new WestfallError('model_unloaded', 'another model is being loaded'));
      return this.#doLoad(seq, path.resolve(modelPath), opts, controller.signal);
    })();
    this.#loading = run;
    try {
      return await run;
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort);
      if (this.#loading === run) this.#loading = null;
      if (this.#loadAbort === controller) this.#loadAbort = null;
    }
  }

  async #doLoad(seq: number, modelPath: string, opts: LoadOptions, signal: AbortSignal): Promise<ModelStatus> {
    this.#path = modelPath;
    this.#summary = null;
    this.#error = null;
    this.#progress = 0;
    this.#loadedAt = null;
    this.#setState('loading');
    const started = performance.now();
    let model: Model | null = null;
    try {
      const profile = (await this.options.profileFor?.(modelPath).catch((err: unknown) => {
        this.#log?.warn({ err }, 'the tuning profile could not be read; using defaults');
        return null;
      })) ?? {};
      const contextSize = opts.contextSize ?? this.options.contextSize;
      const gpuLayers = await this.#gpuLayersFor(modelPath, opts.gpuLayers ?? this.options.gpuLayers, profile, contextSize);
      model = await loadModel({
        path: modelPath,
        gpuLayers,
        signal,
        onProgress: (p) => {
          if (seq !== this.#loadSeq) return;
          this.#progress = p;
          this.emit('progress', p);
          opts.onProgress?.(p);
        },
      });
      if (signal.aborted) throw new WestfallError('aborted', 'model loading was aborted');
      const explicitThreads = opts.threads ?? this.options.threads ?? undefined;
      const threads = explicitThreads ?? profile.threads;
      const ctx = await model.createContext({
        contextSize,
        sequences: this.options.parallel,
        ...(threads ? { threads } : {}),
        ...(explicitThreads === undefined && profile.threadsBatch ? { threadsBatch: profile.threadsBatch } : {}),
        ...(profile.batchSize ? { batchSize: profile.batchSize } : {}),
        ...(profile.ubatchSize ? { ubatchSize: profile.ubatchSize } : {}),
        ...(profile.flashAttention ? { flashAttention: profile.flashAttention } : {}),
      });
      if (Object.keys(profile).length > 0) this.#log?.info({ profile }, 'applied the tuning profile');
      const cache = this.options.promptCache;
      if (cache) {
        await cache.open().then(
          () => ctx.attachPromptCache(cache),
          (err: unknown) => this.#log?.warn({ err, dir: cache.dir }, 'the conversation state folder cannot be used; states will not be saved'),
        );
      }
      if (signal.aborted) {
        ctx.dispose();
        throw new WestfallError('aborted', 'model loading was aborted');
      }
      this.#model = model;
      this.#ctx = ctx;
      this.#summary = summarize(model);
      this.#progress = null;
      this.#loadedAt = new Date();
      this.#setState('ready');
      this.#log?.info(
        { model: this.#summary.id, path: modelPath, ms: Math.round(performance.now() - started), gpuLayers, context: ctx.info },
        'model loaded',
      );
      return this.status();
    } catch (err) {
      model?.dispose();
      const e = isWestfallError(err) ? err : new WestfallError('model_load_failed', String((err as Error)?.message ?? err), { cause: err });
      if (seq === this.#loadSeq) {
        if (e.code === 'aborted') {
          this.#path = null;
          this.#progress = null;
          this.#setState('none');
        } else {
          this.#error = { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) };
          this.#progress = null;
          this.#setState('error');
          this.#log?.error({ err: e, path: modelPath }, 'model failed to load');
        }
      }
      throw e;
    }
  }

  /**
   * Layers to offload: an explicit number wins, then a tuning profile that measured offload on this
   * machine, else ('auto') the memory planner's most layers that fit the GPU's free memory at this
   * context with a margin, so that a GPU is used without configuration and never overfilled.
   */
  async #gpuLayersFor(modelPath: string, requested: number | 'auto', profile: SpeedProfile, contextSize: number): Promise<number> {
    const info = native().systemInfo();
    const choice = chooseGpuLayers(requested, profile.gpuLayers, info.gpuOffload && info.devices.some((d) => d.type !== 'cpu'));
    if (choice !== 'plan') return choice;
    try {
      const plan = await autoModelSettings(modelPath, {
        contextSize,
        sequences: this.options.parallel,
        ...(profile.flashAttention ? { flashAttention: profile.flashAttention } : {}),
        ...(profile.ubatchSize ? { ubatch: profile.ubatchSize } : {}),
      });
      this.#log?.info({ gpuLayers: plan.gpuLayers, of: plan.nLayer + 1, contextSize, reason: plan.reason }, 'automatic GPU layers');
      return plan.gpuLayers;
    } catch (err) {
      // An unreadable header fails the load itself with a clear error; the plan is no place for it.
      this.#log?.debug({ err }, 'no automatic GPU plan; loading on the CPU');
      return 0;
    }
  }

  /** Unloads the model (running generations end with model_unloaded) and cancels an unfinished load. */
  async unload(): Promise<void> {
    this.#loadSeq++;
    this.#loadAbort?.abort();
    await this.#loading?.catch(() => {});
    await this.#unloadCurrent(new WestfallError('model_unloaded'));
    if (this.#state !== 'none') {
      this.#path = null;
      this.#summary = null;
      this.#error = null;
      this.#progress = null;
      this.#setState('none');
    }
  }

  async #unloadCurrent(reason: WestfallError): Promise<void> {
    const model = this.#model;
    if (!model) return;
    const id = this.#summary?.id;
    this.#model = null;
    const ctx = this.#ctx;
    this.#ctx = null;
    this.#loadedAt = null;
    this.#summary = null;
    this.#path = null;
    this.#setState('none');
    this.#rejectWaiting(reason);
    await this.#abortRunning(reason, 2000);
    // The last replies' states go to disk first: the next model or start resumes from them.
    if (ctx) await settleWithin([ctx.flushPromptCache()], 5000);
    ctx?.dispose();
    model.dispose();
    this.#log?.info({ model: id }, 'model unloaded');
  }

  // -------------------------------------------------------------------------------------------------
  // Scheduling

  #assertAccepting(): void {
    if (this.#shuttingDown) throw new WestfallError('shutting_down');
    if (this.#state === 'ready') return;
    if (this.#state === 'loading') {
      throw new WestfallError('model_loading', `the model ${this.#path ? path.basename(this.#path) : ''} is still loading`.replace('  ', ' '), {
        details: { progress: this.#progress },
      });
    }
    if (this.#state === 'error') {
      throw new WestfallError('model_load_failed', `the model failed to load: ${this.#error?.message ?? 'unknown error'}`, {
        details: { error: this.#error },
      });
    }
    throw new WestfallError('model_not_loaded', 'no model is loaded; load one first');
  }

  retryAfterSeconds(): number {
    const waves = Math.ceil((this.#queue.length + 1) / Math.max(1, this.#capacity()));
    return Math.max(1, Math.min(60, Math.ceil(waves * this.#avgSeconds)));
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.#capacity() && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.options.queueLimit) {
      const retryAfter = this.retryAfterSeconds();
      return Promise.reject(
        new WestfallError('queue_full', `all ${this.#capacity()} sequences are busy and ${this.#queue.length} requests are waiting; retry in ${retryAfter} s`, {
          details: { retryAfter, running: this.#active, queued: this.#queue.length, queueLimit: this.options.queueLimit },
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
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    this.#active--;
    while (this.#active < this.#capacity() && this.#queue.length > 0) {
      this.#active++;
      this.#queue.shift()!.resolve();
    }
  }

  #rejectWaiting(reason: WestfallError): void {
    for (const w of this.#queue.splice(0)) w.reject(reason);
  }

  async #abortRunning(reason: WestfallError, timeoutMs: number): Promise<void> {
    const jobs = [...this.#jobs];
    for (const job of jobs) {
      job.serverReason ??= reason;
      job.controller.abort(reason);
    }
    await settleWithin(
      jobs.map((j) => j.settled),
      timeoutMs,
    );
  }

  /**
   * Renders `messages` with the model's chat template and schedules the generation, constrained the way
   * the model's chat format says (a lazy tool-call grammar, an answer schema after any thinking).
   */
  async chat(job: ChatJob): Promise<ManagedGeneration> {
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
  async complete(job: CompletionJob): Promise<ManagedGeneration> {
    return this.#schedule('completion', job.signal, () => ({ prompt: job.prompt, stop: [], format: {}, params: job.params, chatFormat: null }));
  }

  async #schedule(
    kind: GenerationEvent['kind'],
    signal: AbortSignal | undefined,
    prepare: (model: Model) => {
      prompt: string | Int32Array;
      stop: string[];
      format: FormatGenerateParams;
      params: GenerationParams | undefined;
      chatFormat: ChatFormat | null;
      cacheTag?: string;
    },
  ): Promise<ManagedGeneration> {
    this.#assertAccepting();
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
      this.#assertAccepting();
      const model = this.#model!;
      const ctx = this.#ctx!;
      const modelId = this.#summary!.id;
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
          (r) => this.emit('generation', { kind, stopReason: r.stopReason, usage: r.usage, timings: r.timings }),
          (err: unknown) =>
            this.emit('generation', {
              kind,
              stopReason: 'error',
              usage: null,
              timings: null,
              errorCode: isWestfallError(err) ? err.code : 'internal_error',
            }),
        )
        .finally(() => {
          const seconds = (performance.now() - startedAt) / 1000;
          this.#avgSeconds = this.#avgSeconds * 0.8 + seconds * 0.2;
          this.#jobs.delete(job);
          release();
        });
      const id = `gen-${++nextId}`;
      return {
        id,
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
    const d = this.options.sampling;
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

  // -------------------------------------------------------------------------------------------------
  // Embeddings

  /** Mean-pooled, L2-normalized embeddings of each text, with the token count of all inputs. */
  async embed(texts: string[]): Promise<{ embeddings: Float32Array[]; promptTokens: number; modelId: string }> {
    this.#assertAccepting();
    const model = this.#model!;
    const modelId = this.#summary!.id;
    const embeddings: Float32Array[] = [];
    let promptTokens = 0;
    for (const text of texts) {
      promptTokens += model.tokenize(text, { addSpecial: true }).length;
      embeddings.push(await model.embed(text));
    }
    return { embeddings, promptTokens, modelId };
  }

  // -------------------------------------------------------------------------------------------------
  // Shutdown

  /** Refuses new work and ends every queued and running generation with shutting_down. */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    const reason = new WestfallError('shutting_down');
    this.#rejectWaiting(reason);
    for (const job of this.#jobs) {
      job.serverReason ??= reason;
      job.controller.abort(reason);
    }
  }

  /** beginShutdown(), waits up to `timeoutMs` for generations to stop, then frees the model. */
  async close(timeoutMs = 3000): Promise<void> {
    this.beginShutdown();
    this.#loadSeq++;
    this.#loadAbort?.abort();
    await settleWithin([...[...this.#jobs].map((j) => j.settled), this.#loading ?? Promise.resolve()], timeoutMs);
    const ctx = this.#ctx;
    const model = this.#model;
    this.#ctx = null;
    this.#model = null;
    // The last replies' states go to disk first, so that the next start resumes from them.
    if (ctx) await settleWithin([ctx.flushPromptCache()], timeoutMs);
    ctx?.dispose();
    model?.dispose();
    if (model) this.#log?.info({ model: this.#summary?.id }, 'model freed');
    if (this.#state !== 'none') {
      this.#summary = null;
      this.#path = null;
      this.#setState('none');
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function summarize(model: Model): ModelSummary {
  const info = model.info;
  return {
    id: path.basename(info.path).replace(/\.gguf$/i, ''),
    path: info.path,
    name: info.name,
    architecture: info.architecture,
    parameterCount: info.parameterCount,
    fileSizeBytes: info.fileSizeBytes,
    contextLength: info.contextLength,
    embeddingLength: info.embeddingLength,
    hasChatTemplate: info.chatTemplate !== null,
  };
}

async function settleWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<boolean> {
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
