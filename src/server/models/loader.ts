// One local model: loads a GGUF file with its context (GPU layers from the memory planner or a tuning
// profile, speed settings from `westfall bench`), attaches the conversation-state cache, reports its state,
// and unloads it. Scheduling its generations is scheduler.ts's job; which models are loaded is
// local-engine.ts's.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { loadModel, type Context, type Model, type PromptCache } from '../../engine/index.js';
import { gpuMemory, hostMemory, modelGeometry, planMemory, usageAt } from '../../engine/memory.js';
import { native } from '../../engine/native.js';
import { readGgufHeader } from '../../gguf/reader.js';
import { WestfallError, isWestfallError } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import type { ModelStatus, ModelSummary } from '../schemas.js';
import { Scheduler, settleWithin, type SchedulerTarget } from './scheduler.js';
import type { GenerationEvent } from './engine.js';

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

/** Settings shared by every local model (from the configuration). */
export interface LoaderDefaults {
  contextSize: number;
  /** 'auto': as many layers as the GPU's free memory takes at the context size. */
  gpuLayers: number | 'auto';
  threads?: number | null;
  /** Sequences of each context = generations decoded together. */
  parallel: number;
  queueLimit: number;
  sampling: { temperature: number; topP: number; topK: number; maxTokens: number };
  profileFor?: (modelPath: string) => Promise<SpeedProfile | null>;
  promptCache?: PromptCache | null;
  logger?: Logger;
  /** Workers (host:port) to split each model over: only in the child process of worker-host.ts. */
  workers?: string[];
  split?: number[];
}

/** A model's own settings (Models page, POST /api/models/load): they win over the defaults. */
export interface ModelSettings {
  contextSize?: number;
  gpuLayers?: number | 'auto';
  threads?: number;
}

/** What a load will use, and the memory it will take (estimated from the file's header). */
export interface LoadPlan {
  contextSize: number;
  gpuLayers: number;
  profile: SpeedProfile;
  /** Host + GPU bytes of weights, KV cache and compute buffers; null when the header cannot be read. */
  memoryBytes: number | null;
  /** Whether it fits the machine's free memory now (the planner's margins); true when unknown. */
  fitsFreeMemory: boolean;
  reason: string;
}

export interface LocalModelEvents {
  state: [ModelStatus];
  progress: [number];
  generation: [GenerationEvent];
  idle: [];
}

/** The id clients use for a model file: its name without .gguf. */
export function modelIdOf(file: string): string {
  return path.basename(file).replace(/\.gguf$/i, '');
}

export class LocalModel extends EventEmitter<LocalModelEvents> {
  readonly path: string;
  readonly id: string;
  readonly scheduler: Scheduler;
  settings: ModelSettings;
  /** The load plan in use (set when a load starts). */
  plan: LoadPlan | null = null;
  lastUsed = Date.now();
  readonly #d: LoaderDefaults;
  #log: Logger | undefined;
  #model: Model | null = null;
  #ctx: Context | null = null;
  #state: ModelStatus['state'] = 'none';
  #summary: ModelSummary | null = null;
  #progress: number | null = null;
  #error: { code: string; message: string; details?: unknown } | null = null;
  #loadedAt: Date | null = null;
  #loadAbort: AbortController | null = null;
  #loading: Promise<ModelStatus> | null = null;
  // A load asked for and waiting for its memory decision (LocalEngine's admission, which reads the header
  // and the tuning profile first): reported as loading at 0 so that nobody watching sees "no model" after
  // asking for one. The state itself stays 'none' until the load really starts.
  #requested = false;

  constructor(modelPath: string, defaults: LoaderDefaults, settings: ModelSettings = {}) {
    super();
    this.path = path.resolve(modelPath);
    this.id = modelIdOf(this.path);
    this.#d = defaults;
    this.settings = settings;
    this.#log = defaults.logger;
    this.scheduler = new Scheduler({
      queueLimit: defaults.queueLimit,
      sampling: defaults.sampling,
      capacity: () => this.#ctx?.info.sequences ?? defaults.parallel,
      target: () => this.target(),
      onGeneration: (e) => this.emit('generation', e),
      onIdle: () => this.emit('idle'),
    });
  }

  get state(): ModelStatus['state'] {
    return this.#state;
  }

  /** The loaded model (ready state), or null. */
  get model(): Model | null {
    return this.#state === 'ready' ? this.#model : null;
  }

  get context(): Context | null {
    return this.#state === 'ready' ? this.#ctx : null;
  }

  /** The load in progress, if any. */
  get loading(): Promise<ModelStatus> | null {
    return this.#loading;
  }

  /** Marks a load as asked for (or no longer) before it starts; see #requested. */
  setRequested(on: boolean): void {
    if (this.#requested === on) return;
    this.#requested = on;
    if (this.#state === 'none') this.emit('state', this.status());
  }

  status(): ModelStatus {
    const ctx = this.#state === 'ready' ? this.#ctx : null;
    const waiting = this.#state === 'none' && this.#requested;
    const state = waiting ? 'loading' : this.#state;
    return {
      state,
      model: this.#summary,
      path: state === 'none' ? null : this.path,
      progress: waiting ? 0 : this.#state === 'loading' ? this.#progress : null,
      error: this.#error,
      context: ctx
        ? { contextSize: ctx.info.contextSize, contextSizePerSequence: ctx.info.contextSizePerSequence, sequences: ctx.info.sequences, threads: ctx.info.threads }
        : null,
      loadedAt: this.#loadedAt?.toISOString() ?? null,
    };
  }

  #setState(state: ModelStatus['state']): void {
    this.#state = state;
    this.emit('state', this.status());
  }

  /** What the generation runs on, or the reason this model cannot take work now. */
  target(): SchedulerTarget {
    if (this.#state === 'ready' && this.#model && this.#ctx) return { model: this.#model, ctx: this.#ctx, modelId: this.id };
    if (this.#state === 'loading' || (this.#state === 'none' && this.#requested)) {
      throw new WestfallError('model_loading', `the model ${path.basename(this.path)} is still loading`, { details: { progress: this.#progress } });
    }
    if (this.#state === 'error') {
      throw new WestfallError('model_load_failed', `the model failed to load: ${this.#error?.message ?? 'unknown error'}`, { details: { error: this.#error } });
    }
    throw new WestfallError('model_not_loaded', 'no model is loaded; load one first');
  }

  /**
   * The settings a load would use and the memory they take: the context size, the GPU layers (explicit,
   * the tuning profile's, or the planner's most that fit), host + GPU bytes from the header's geometry.
   * `reservedBytes` is memory that other loads in progress will take (not yet visible as used).
   */
  async planLoad(reservedBytes = 0): Promise<LoadPlan> {
    const profile =
      (await this.#d.profileFor?.(this.path).catch((err: unknown) => {
        this.#log?.warn({ err }, 'the tuning profile could not be read; using defaults');
        return null;
      })) ?? {};
    const contextSize = this.settings.contextSize ?? this.#d.contextSize;
    const requested = this.settings.gpuLayers ?? this.#d.gpuLayers;
    const info = native().systemInfo();
    const device = info.gpuOffload ? gpuMemory(info.devices) : null;
    const choice = chooseGpuLayers(requested, profile.gpuLayers, device !== null);
    const planOpts = {
      sequences: this.#d.parallel,
      ...(profile.flashAttention ? { flashAttention: profile.flashAttention } : {}),
      ...(profile.ubatchSize ? { ubatch: profile.ubatchSize } : {}),
    };
    let geometry;
    try {
      geometry = modelGeometry(await readGgufHeader(this.path));
    } catch {
      // An unreadable file fails the load itself with a clear error (model_not_found, invalid_model).
      return { contextSize, gpuLayers: choice === 'plan' ? 0 : choice, profile, memoryBytes: null, fitsFreeMemory: true, reason: 'the header could not be read' };
    }
    const host = hostMemory();
    const hostAfter = { free: Math.max(0, host.free - reservedBytes), total: host.total };
    const auto = choice === 'plan' ? planMemory(geometry, { ...planOpts, device, host: hostAfter, contextSize }) : null;
    if (auto) this.#log?.info({ gpuLayers: auto.gpuLayers, of: auto.nLayer + 1, contextSize, reason: auto.reason }, 'automatic GPU layers');
    const gpuLayers = auto ? auto.gpuLayers : (choice as number);
    // Without a GPU llama.cpp keeps every layer on the CPU, whatever was asked.
    const layers = device === null ? 0 : gpuLayers < 0 ? geometry.nLayer + 1 : gpuLayers;
    const fixed = planMemory(geometry, { ...planOpts, device, host: hostAfter, contextSize, gpuLayers: layers });
    const use = usageAt(geometry, layers, contextSize, planOpts);
    return {
      contextSize,
      gpuLayers,
      profile,
      memoryBytes: use.host.total + (layers > 0 ? use.device.total : 0),
      fitsFreeMemory: fixed.fits,
      reason: fixed.reason,
    };
  }

  /**
   * Loads the model with `plan` and creates its context. A second call while loading joins the first.
   * Rejects with the load's WestfallError (model_not_found, invalid_model, aborted...).
   */
  load(plan: LoadPlan, signal?: AbortSignal): Promise<ModelStatus> {
    if (this.#state === 'ready') return Promise.resolve(this.status());
    if (this.#loading) return this.#loading;
    const controller = new AbortController();
    this.#loadAbort = controller;
    const onOuterAbort = () => controller.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    const run = this.#doLoad(plan, controller.signal).finally(() => {
      signal?.removeEventListener('abort', onOuterAbort);
      if (this.#loading === run) this.#loading = null;
      if (this.#loadAbort === controller) this.#loadAbort = null;
    });
    this.#loading = run;
    return run;
  }

  async #doLoad(plan: LoadPlan, signal: AbortSignal): Promise<ModelStatus> {
    this.plan = plan;
    this.#summary = null;
    this.#error = null;
    this.#progress = 0;
    this.#loadedAt = null;
    // Already announced as loading when it was asked for: one 'loading' event per load.
    const announced = this.#requested;
    this.#requested = false;
    if (announced) this.#state = 'loading';
    else this.#setState('loading');
    const started = performance.now();
    let model: Model | null = null;
    const { profile, contextSize, gpuLayers } = plan;
    try {
      model = await loadModel({
        path: this.path,
        gpuLayers,
        ...(this.#d.workers?.length ? { workers: this.#d.workers, ...(this.#d.split ? { split: this.#d.split } : {}) } : {}),
        signal,
        onProgress: (p) => {
          if (signal.aborted) return;
          this.#progress = p;
          this.emit('progress', p);
        },
      });
      if (signal.aborted) throw new WestfallError('aborted', 'model loading was aborted');
      const explicitThreads = this.settings.threads ?? this.#d.threads ?? undefined;
      const threads = explicitThreads ?? profile.threads;
      const ctx = await model.createContext({
        contextSize,
        sequences: this.#d.parallel,
        ...(threads ? { threads } : {}),
        ...(explicitThreads === undefined && profile.threadsBatch ? { threadsBatch: profile.threadsBatch } : {}),
        ...(profile.batchSize ? { batchSize: profile.batchSize } : {}),
        ...(profile.ubatchSize ? { ubatchSize: profile.ubatchSize } : {}),
        ...(profile.flashAttention ? { flashAttention: profile.flashAttention } : {}),
      });
      if (Object.keys(profile).length > 0) this.#log?.info({ profile }, 'applied the tuning profile');
      // The cache is keyed by the model file, so every loaded model shares the folder without mixing states.
      const cache = this.#d.promptCache;
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
      this.lastUsed = Date.now();
      this.#setState('ready');
      this.#log?.info({ model: this.id, path: this.path, ms: Math.round(performance.now() - started), gpuLayers, context: ctx.info }, 'model loaded');
      return this.status();
    } catch (err) {
      model?.dispose();
      const e = isWestfallError(err) ? err : new WestfallError('model_load_failed', String((err as Error)?.message ?? err), { cause: err });
      this.#progress = null;
      if (e.code === 'aborted') {
        this.#setState('none');
      } else {
        this.#error = { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) };
        this.#setState('error');
        this.#log?.error({ err: e, path: this.path }, 'model failed to load');
      }
      throw e;
    }
  }

  /**
   * Unloads the model: an unfinished load is cancelled, waiting requests get `reason`, running generations
   * end with it (given `timeoutMs` to stop), the last replies' states are written, and memory is freed.
   */
  async unload(reason: WestfallError = new WestfallError('model_unloaded'), timeoutMs = 2000): Promise<void> {
    this.#loadAbort?.abort();
    await this.#loading?.catch(() => {});
    const model = this.#model;
    const ctx = this.#ctx;
    this.#model = null;
    this.#ctx = null;
    this.#loadedAt = null;
    this.#summary = null;
    this.#error = null;
    this.#progress = null;
    if (this.#state !== 'none') this.#setState('none');
    await this.scheduler.stopAll(reason, timeoutMs);
    // The last replies' states go to disk first: the next load or start resumes from them.
    if (ctx) await settleWithin([ctx.flushPromptCache()], Math.max(timeoutMs, 5000));
    ctx?.dispose();
    model?.dispose();
    if (model) this.#log?.info({ model: this.id }, reason.code === 'shutting_down' ? 'model freed' : 'model unloaded');
  }

  /** Mean-pooled, L2-normalized embeddings of each text, with the token count of all inputs. */
  async embed(texts: string[]): Promise<{ embeddings: Float32Array[]; promptTokens: number; modelId: string }> {
    const { model } = this.target();
    const embeddings: Float32Array[] = [];
    let promptTokens = 0;
    for (const text of texts) {
      promptTokens += model.tokenize(text, { addSpecial: true }).length;
      embeddings.push(await model.embed(text));
    }
    return { embeddings, promptTokens, modelId: this.id };
  }
}

function summarize(model: Model): ModelSummary {
  const info = model.info;
  return {
    id: modelIdOf(info.path),
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
