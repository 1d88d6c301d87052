// ModelManager: the backend's one handle on models. It holds the router (models/router.ts) with this
// process's local engine (models/local-engine.ts: several models loaded on demand, keep-alive, least
// recently used unloaded when memory is short) and any remote engines registered later. It keeps the API
// of the single-model days: `load(path)` makes a model the default (the one requests without a `model`
// get) and replaces the previous default; `status()`, `model`, `context` and the state/progress events are
// the default model's. Loading one model is models/loader.ts; queueing its generations models/scheduler.ts.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { PromptCache, type Context, type Model } from '../engine/index.js';
import { WestfallError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { ModelStatus, SchedulerStats } from './schemas.js';
import type { ChatJob, CompletionJob, EmbedResult, GenerationEvent, ManagedGeneration, ModelEntry } from './models/engine.js';
import { LocalEngine, type UnloadReason } from './models/local-engine.js';
import { modelIdOf, type LoaderDefaults, type LocalModel, type ModelSettings } from './models/loader.js';
import { ModelRouter, type Route } from './models/router.js';
import type { WorkerHostEngine } from './models/worker-host.js';

export { chooseGpuLayers, type SpeedProfile, type ModelSettings } from './models/loader.js';
export type { ChatEngine, ChatJob, CompletionJob, EmbedJob, EmbedResult, EngineStatus, GenerationEvent, ManagedGeneration, ManagedResult, ModelEntry } from './models/engine.js';
export { ModelRouter } from './models/router.js';
export { LocalEngine } from './models/local-engine.js';

export interface ModelManagerOptions extends LoaderDefaults {
  /** Installed models (requests may name any of them); none: only models loaded by path. */
  modelsDir?: string | null;
  /** Seconds a model loaded by a request stays loaded after its last request; -1: until unloaded. Default 300. */
  keepAliveSeconds?: number;
  /** Bytes all local models may take together; null/absent: the machine's free memory decides. */
  memoryLimitBytes?: number | null;
  /** Where each model's own settings (context size, GPU layers) are kept. */
  settingsFile?: string | null;
}

export interface LoadOptions {
  contextSize?: number;
  /** 'auto': as many as the GPU's free memory takes at the context size (none on the CPU variant). */
  gpuLayers?: number | 'auto';
  threads?: number;
  /** Seconds to keep it after its last request; default: until unloaded (a loaded default stays). */
  keepAlive?: number;
  signal?: AbortSignal;
  onProgress?: (progress: number) => void;
}

export interface ModelManagerEvents {
  /** The default model's load state changed (none → loading → ready | error → none ...). */
  state: [ModelStatus];
  /** The default model's load progress 0..1. */
  progress: [number];
  /** A generation finished (any reason, any model); metrics listen to this. */
  generation: [GenerationEvent];
  /** A model's state changed, or engines came or went: GET /api/models/loaded changed. */
  models: [];
  /** A local model finished loading (ok) or failed to. */
  load: [{ id: string; ok: boolean; code?: string; ms: number }];
  unload: [{ id: string; reason: UnloadReason }];
}

const NO_MODEL: ModelStatus = { state: 'none', model: null, path: null, progress: null, error: null, context: null, loadedAt: null };

export class ModelManager extends EventEmitter<ModelManagerEvents> {
  readonly options: ModelManagerOptions;
  readonly local: LocalEngine;
  readonly router: ModelRouter;
  /** The default model (its path), or null. */
  #default: string | null = null;
  #shuttingDown = false;
  #onProgress: ((p: number) => void) | null = null;
  /** Models split over workers run in a child process (models/worker-host.ts); null: no workers. */
  #workers: WorkerHostEngine | null = null;

  constructor(options: ModelManagerOptions) {
    super();
    this.options = options;
    this.local = new LocalEngine({
      ...options,
      keepAliveSeconds: options.keepAliveSeconds ?? 300,
      memoryLimitBytes: options.memoryLimitBytes ?? null,
      modelsDir: options.modelsDir ?? null,
      settingsFile: options.settingsFile ?? null,
    });
    this.router = new ModelRouter({ defaultModel: () => this.#defaultModel()?.id ?? null });
    this.router.addEngine(this.local);
    this.router.onChange(() => this.emit('models'));
    this.local.on('change', (s) => {
      if (this.#isDefault(s.id)) this.emit('state', this.status());
      this.emit('models');
    });
    this.local.on('progress', ({ id, progress }) => {
      if (!this.#isDefault(id)) return;
      this.emit('progress', progress);
      this.#onProgress?.(progress);
    });
    this.local.on('generation', (e) => this.emit('generation', e));
    this.local.on('load', (e) => this.emit('load', e));
    this.local.on('unload', (e) => {
      if (this.#isDefault(e.id) && e.reason !== 'replaced') this.#default = null;
      this.emit('unload', e);
    });
  }

  /**
   * Splits models over workers while the host is active: it goes first in the router, and loads (the
   * default model's too) go to it instead of this process.
   */
  attachWorkerHost(host: WorkerHostEngine): void {
    if (this.#workers) throw new WestfallError('invalid_params', 'a worker host is already attached');
    this.#workers = host;
    this.router.addEngine(host, { first: true });
    host.on('change', () => {
      this.emit('models');
      if (this.#default && this.#onWorkers(this.#default)) this.emit('state', this.status());
    });
    host.on('generation', (e) => this.emit('generation', e));
  }

  get workerHost(): WorkerHostEngine | null {
    return this.#workers;
  }

  /** Whether `file` is (being) loaded over workers. */
  #onWorkers(file: string): boolean {
    return this.#workers !== null && this.#workers.current().model === modelIdOf(file);
  }

  static optionsFromConfig(config: Config, logger?: Logger): ModelManagerOptions {
    return {
      contextSize: config.contextSize,
      gpuLayers: config.gpuLayers,
      threads: config.threads,
      parallel: config.parallel,
      queueLimit: config.queueLimit,
      sampling: config.sampling,
      modelsDir: config.modelsDir,
      keepAliveSeconds: config.keepAliveSeconds,
      memoryLimitBytes: config.modelMemoryLimitBytes,
      settingsFile: path.join(config.stateDir, 'model-settings.json'),
      promptCache: new PromptCache({
        dir: path.join(config.dataDir, 'prompt-cache'),
        maxBytes: config.promptCacheMaxBytes,
        onProblem: (message, err) => logger?.warn({ err }, message),
      }),
      ...(logger ? { logger } : {}),
    };
  }

  static fromConfig(config: Config, logger?: Logger): ModelManager {
    return new ModelManager(ModelManager.optionsFromConfig(config, logger));
  }

  /** Conversation states on disk, if kept (one folder for every model: states are keyed by the model file). */
  get promptCache(): PromptCache | null {
    return this.options.promptCache ?? null;
  }

  #defaultModel(): LocalModel | null {
    return this.#default ? this.local.get(modelIdOf(this.#default)) : null;
  }

  #isDefault(id: string): boolean {
    return this.#default !== null && modelIdOf(this.#default) === id;
  }

  /** The default model (ready state), or null. */
  get model(): Model | null {
    return this.#defaultModel()?.model ?? null;
  }

  get context(): Context | null {
    return this.#defaultModel()?.context ?? null;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The id clients use for the default model (file name without .gguf) when it is ready, or null. */
  get modelId(): string | null {
    const m = this.#defaultModel();
    return m?.state === 'ready' ? m.id : null;
  }

  /** The default model's status. */
  status(): ModelStatus {
    if (this.#default && this.#onWorkers(this.#default)) return this.#workers!.modelStatus();
    const m = this.#defaultModel();
    if (!m) return { ...NO_MODEL };
    const s = m.status();
    // A failed load keeps saying which file failed.
    return s.state === 'error' ? { ...s, path: m.path } : s;
  }

  /** Every model requests may name (local installed, loaded, and remote), with where it runs. */
  models(): ModelEntry[] {
    return this.router.models();
  }

  /** Running and waiting generations over every local model (capacity: their sequences together). */
  stats(): SchedulerStats {
    const loaded = this.local.loaded().filter((m) => m.state === 'ready');
    if (loaded.length === 0) return { capacity: this.options.parallel, running: 0, queued: 0, queueLimit: this.options.queueLimit };
    const all = loaded.map((m) => m.scheduler.stats());
    return {
      capacity: all.reduce((n, s) => n + s.capacity, 0),
      running: all.reduce((n, s) => n + s.running, 0),
      queued: all.reduce((n, s) => n + s.queued, 0),
      queueLimit: this.options.queueLimit,
    };
  }

  retryAfterSeconds(): number {
    return this.#defaultModel()?.scheduler.retryAfterSeconds() ?? 1;
  }

  // -------------------------------------------------------------------------------------------------
  // Loading

  /**
   * Loads a GGUF model (beside the others that fit) and makes it the default, unloading the previous
   * default. Explicit settings become the model's own and reload it if it was loaded with others.
   */
  async load(modelPath: string, opts: LoadOptions = {}): Promise<ModelStatus> {
    if (this.#shuttingDown) throw new WestfallError('shutting_down', 'the service is shutting down; models cannot be loaded');
    const file = path.resolve(modelPath);
    const id = modelIdOf(file);
    const settings: ModelSettings = {};
    if (opts.contextSize !== undefined) settings.contextSize = opts.contextSize;
    if (opts.gpuLayers !== undefined) settings.gpuLayers = opts.gpuLayers;
    if (opts.threads !== undefined) settings.threads = opts.threads;
    const previous = this.#default;
    this.#default = file;
    this.#onProgress = opts.onProgress ?? null;
    if (this.#workers?.active) {
      // Over the workers, in their child process; a model this process held as the default goes.
      if (previous && this.local.get(modelIdOf(previous))) await this.local.unload(modelIdOf(previous), 'replaced', new WestfallError('model_unloaded', 'another model is being loaded'));
      try {
        await this.#workers.load(file);
      } finally {
        this.#onProgress = null;
      }
      return this.status();
    }
    if (previous && previous !== file) {
      await this.local.unload(modelIdOf(previous), 'replaced', new WestfallError('model_unloaded', 'another model is being loaded'));
    }
    const current = this.local.get(id);
    if (current && current.path !== file) await this.local.unload(id, 'replaced', new WestfallError('model_unloaded', 'another model is being loaded'));
    else if (current && Object.keys(settings).length > 0) {
      const was = current.plan;
      const changed =
        (settings.contextSize !== undefined && settings.contextSize !== was?.contextSize) ||
        (settings.gpuLayers !== undefined && settings.gpuLayers !== 'auto' && settings.gpuLayers !== was?.gpuLayers) ||
        settings.threads !== undefined;
      if (changed) await this.local.unload(id, 'replaced', new WestfallError('model_unloaded', 'the model is being reloaded with other settings'));
    }
    if (this.#default !== file) throw new WestfallError('aborted', 'superseded by a newer load');
    try {
      const m = await this.local.load(file, { keepAlive: opts.keepAlive ?? -1, settings, ...(opts.signal ? { signal: opts.signal } : {}) });
      return m.status();
    } catch (err) {
      // A refused load (too large) leaves no model object behind; the default still reports the failure.
      if (this.#default === file && !this.local.get(id)) this.#default = null;
      throw err;
    } finally {
      if (this.#default === file) this.#onProgress = null;
    }
  }

  /** Loads a model by name (installed in the models folder) without making it the default. */
  async loadModel(name: string, opts: { keepAlive?: number; settings?: ModelSettings; signal?: AbortSignal } = {}): Promise<ModelEntry> {
    const entry = this.local.models().find((m) => m.id === name || m.id === modelIdOf(name));
    if (!entry?.path) throw new WestfallError('model_not_found', `no model named "${name}" is installed`, { details: { model: name } });
    await this.local.load(entry.path, opts);
    return this.local.models().find((m) => m.id === entry.id)!;
  }

  /** Unloads one local model by id, or (no id) the default model. Running generations end with model_unloaded. */
  async unload(id?: string): Promise<void> {
    const target = id ?? (this.#default ? modelIdOf(this.#default) : null);
    if (!target) return;
    if (this.#workers?.current().model === target) {
      if (this.#isDefault(target)) this.#default = null;
      await this.#workers.unload();
      if (id === undefined) this.emit('state', this.status());
      return;
    }
    if (this.#isDefault(target)) this.#default = null;
    await this.local.unload(target, 'request');
    if (id === undefined) this.emit('state', this.status());
  }

  // -------------------------------------------------------------------------------------------------
  // Requests

  /** A request without a model while the default failed to load says so (as before several models). */
  #checkDefault(name: string | undefined): void {
    if (name && this.router.models().some((m) => m.id === name)) return;
    const d = this.#defaultModel();
    if (d?.state === 'error') d.target();
  }

  #assertOpen(): void {
    if (this.#shuttingDown) throw new WestfallError('shutting_down');
  }

  /** The engine a request for `name` goes to, with the local model loaded and ready when it is local. */
  async prepare(name: string | undefined, opts: { keepAlive?: number | undefined; signal?: AbortSignal } = {}): Promise<{ route: Route; model: Model | null }> {
    this.#assertOpen();
    this.#checkDefault(name);
    const route = this.router.resolve(name);
    if (route.engine === this.#workers) {
      // Loaded (or failing to) before the request starts; the routes render and count with the template model.
      await this.#workers.load(route.model);
      return { route, model: await this.#workers.templateModel(route.model) };
    }
    if (route.engine !== this.local) return { route, model: null };
    const m = await this.local.ready(route.model, opts.keepAlive, opts.signal);
    return { route, model: m.target().model };
  }

  /** The model and context a request for `name` runs on, loaded if local (nulls for a remote model). */
  async target(name: string | undefined, keepAlive?: number): Promise<{ model: Model | null; context: Context | null }> {
    const { route } = await this.prepare(name, { keepAlive });
    if (route.engine !== this.local) return { model: null, context: null };
    const m = this.local.get(route.model);
    return { model: m?.model ?? null, context: m?.context ?? null };
  }

  /**
   * Renders `messages` with the model's chat template and schedules the generation on the model the job
   * names (or the default), constrained the way the model's chat format says.
   */
  async chat(job: ChatJob): Promise<ManagedGeneration> {
    this.#assertOpen();
    this.#checkDefault(job.model);
    return this.router.chat(job);
  }

  /** Schedules a raw text completion. */
  async complete(job: CompletionJob): Promise<ManagedGeneration> {
    this.#assertOpen();
    this.#checkDefault(job.model);
    return this.router.complete(job);
  }

  /** Mean-pooled, L2-normalized embeddings of each text (by `model`, else the default model). */
  async embed(texts: string[], opts: { model?: string | undefined; keepAlive?: number | undefined } = {}): Promise<EmbedResult> {
    this.#assertOpen();
    this.#checkDefault(opts.model);
    return this.router.embed({ texts, model: opts.model, keepAlive: opts.keepAlive });
  }

  // -------------------------------------------------------------------------------------------------
  // Shutdown

  /** Refuses new work and ends every queued and running generation with shutting_down. */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.local.beginShutdown(new WestfallError('shutting_down'));
  }

  /** beginShutdown(), waits up to `timeoutMs` for generations to stop, then frees every model. */
  async close(timeoutMs = 3000): Promise<void> {
    this.beginShutdown();
    const hadDefault = this.#default !== null;
    await Promise.allSettled(this.router.engines().map((e) => (e === this.local ? this.local.close(timeoutMs) : e.close?.())));
    this.#default = null;
    if (hadDefault) this.emit('state', this.status());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
