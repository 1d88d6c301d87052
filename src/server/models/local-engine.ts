// The engine of this computer's models: every GGUF file in the models folder (and any file loaded by path)
// can be named in a request. A model is loaded on first use and kept for its keep-alive time after its
// last request (like Ollama's keep_alive); when a load would not fit — in the configured memory limit, or
// in the machine's free memory by the planner's estimate — the least recently used idle models are
// unloaded first, and a load that cannot fit even then is refused before it starts.
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { WestfallError } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import { fmt } from '../../engine/memory.js';
import type { ModelStatus } from '../schemas.js';
import type { ChatEngine, ChatJob, CompletionJob, EmbedJob, EmbedResult, EngineStatus, GenerationEvent, ManagedGeneration, ModelEntry } from './engine.js';
import { LocalModel, modelIdOf, type LoaderDefaults, type LoadPlan, type ModelSettings } from './loader.js';

export interface LocalEngineOptions extends LoaderDefaults {
  /** Installed models are the *.gguf files here. */
  modelsDir?: string | null;
  /** Seconds a model loaded on demand stays loaded after its last request; -1: until unloaded. */
  keepAliveSeconds: number;
  /** Bytes all loaded models may take together (the planner's estimate); null: the machine's free memory. */
  memoryLimitBytes?: number | null;
  /** A JSON file keeping each model's own settings (context size, GPU layers) across restarts. */
  settingsFile?: string | null;
}

export type UnloadReason = 'request' | 'idle' | 'lru' | 'replaced' | 'shutdown' | 'failed';

export interface LocalEngineEvents {
  /** Any model's state changed (loading, ready, error, none). */
  change: [ModelStatus & { id: string }];
  progress: [{ id: string; progress: number }];
  generation: [GenerationEvent];
  /** A load finished: ok or failed (with the error code). */
  load: [{ id: string; ok: boolean; code?: string; ms: number }];
  unload: [{ id: string; reason: UnloadReason }];
}

interface Slot {
  model: LocalModel;
  /** Seconds to keep after the last request; -1: until unloaded. */
  keepAlive: number;
  timer: NodeJS.Timeout | null;
  expiresAt: number | null;
  /** The admission and load in progress (requests for the model while it loads wait on it). */
  pending: Promise<unknown> | null;
}

export class LocalEngine extends EventEmitter<LocalEngineEvents> implements ChatEngine {
  readonly id = 'local';
  readonly kind = 'local' as const;
  readonly options: LocalEngineOptions;
  #log: Logger | undefined;
  /** Models with an object (loaded, loading, failed), by id. */
  #slots = new Map<string, Slot>();
  #settings: Record<string, ModelSettings> = {};
  /** Serializes the memory decision of loads, so two loads never count the same free memory. */
  #admission: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: LocalEngineOptions) {
    super();
    this.options = options;
    this.#log = options.logger;
    if (options.settingsFile) {
      try {
        this.#settings = JSON.parse(readFileSync(options.settingsFile, 'utf8')) as Record<string, ModelSettings>;
      } catch {
        this.#settings = {};
      }
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  // -------------------------------------------------------------------------------------------------
  // What is installed and loaded

  /** Installed model files by id (the models folder), plus files loaded from elsewhere. */
  #installed(): Map<string, string> {
    const out = new Map<string, string>();
    const dir = this.options.modelsDir;
    if (dir) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        names = [];
      }
      for (const name of names.sort()) {
        if (!/\.gguf$/i.test(name)) continue;
        out.set(modelIdOf(name), path.join(dir, name));
      }
    }
    for (const [id, s] of this.#slots) out.set(id, s.model.path);
    return out;
  }

  /** The LocalModel of `id`, or null. */
  get(id: string): LocalModel | null {
    return this.#slots.get(id)?.model ?? null;
  }

  loaded(): LocalModel[] {
    return [...this.#slots.values()].map((s) => s.model);
  }

  models(): ModelEntry[] {
    const out: ModelEntry[] = [];
    for (const [id, file] of this.#installed()) {
      const slot = this.#slots.get(id);
      const m = slot?.model;
      const st = m?.status();
      let size: number | undefined;
      try {
        size = statSync(file).size;
      } catch {
        size = undefined;
      }
      const settings = this.settingsOf(id);
      out.push({
        id,
        engine: this.id,
        kind: 'local',
        location: 'this computer',
        state: st?.state ?? 'none',
        progress: st?.progress ?? null,
        path: file,
        ...(size !== undefined ? { fileSizeBytes: size } : {}),
        memoryBytes: m?.plan?.memoryBytes ?? null,
        contextSize: st?.context?.contextSize ?? settings.contextSize ?? this.options.contextSize,
        gpuLayers: m?.plan?.gpuLayers ?? (typeof settings.gpuLayers === 'number' ? settings.gpuLayers : null),
        loadedAt: st?.loadedAt ?? null,
        lastUsedAt: m && st?.state === 'ready' ? new Date(m.lastUsed).toISOString() : null,
        expiresAt: slot?.expiresAt ? new Date(slot.expiresAt).toISOString() : null,
        error: st?.error ? { code: st.error.code, message: st.error.message } : null,
      });
    }
    return out;
  }

  status(): EngineStatus {
    const ready = this.loaded().filter((m) => m.state === 'ready').length;
    return { id: this.id, kind: this.kind, ok: !this.#closed, message: `${ready} loaded` };
  }

  /** Bytes the loaded and loading models take by the planner's estimate. */
  memoryInUse(except?: LocalModel): number {
    let n = 0;
    for (const s of this.#slots.values()) {
      if (s.model === except) continue;
      if (s.model.state === 'ready' || s.model.state === 'loading') n += s.model.plan?.memoryBytes ?? 0;
    }
    return n;
  }

  // -------------------------------------------------------------------------------------------------
  // Per-model settings

  settingsOf(id: string): ModelSettings {
    return { ...this.#settings[id] };
  }

  /** Sets a model's own context size / GPU layers (used from its next load). */
  setSettings(id: string, settings: ModelSettings): ModelSettings {
    const next = { ...this.#settings[id], ...settings };
    for (const k of Object.keys(next) as (keyof ModelSettings)[]) if (next[k] === undefined) delete next[k];
    this.#settings[id] = next;
    const slot = this.#slots.get(id);
    if (slot) slot.model.settings = { ...next };
    const file = this.options.settingsFile;
    if (file) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(this.#settings, null, 2)}\n`);
        renameSync(tmp, file);
      } catch (err) {
        this.#log?.warn({ err }, 'the model settings could not be saved');
      }
    }
    return next;
  }

  // -------------------------------------------------------------------------------------------------
  // Loading and unloading

  #slotFor(file: string): Slot {
    const id = modelIdOf(file);
    const existing = this.#slots.get(id);
    if (existing && existing.model.path === path.resolve(file)) return existing;
    if (existing) throw new WestfallError('model_in_use', `another file with the name ${id} is loaded (${existing.model.path})`, { details: { id } });
    const model = new LocalModel(file, this.options, this.settingsOf(id));
    const slot: Slot = { model, keepAlive: this.options.keepAliveSeconds, timer: null, expiresAt: null, pending: null };
    model.on('state', (s) => this.emit('change', { ...s, id }));
    model.on('progress', (p) => this.emit('progress', { id, progress: p }));
    model.on('generation', (e) => this.emit('generation', e));
    model.on('idle', () => this.#arm(slot));
    this.#slots.set(id, slot);
    return slot;
  }

  /** Starts (or restarts) the keep-alive timer of an idle model. */
  #arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.expiresAt = null;
    if (slot.keepAlive < 0 || slot.model.scheduler.busy || slot.model.state !== 'ready') return;
    const ms = slot.keepAlive * 1000;
    slot.expiresAt = Date.now() + ms;
    slot.timer = setTimeout(() => {
      slot.timer = null;
      slot.expiresAt = null;
      if (slot.model.scheduler.busy || this.#slots.get(slot.model.id) !== slot) return;
      void this.unload(slot.model.id, 'idle').catch((err: unknown) => this.#log?.warn({ err }, 'idle unload failed'));
    }, ms);
    slot.timer.unref();
  }

  #touch(slot: Slot, keepAlive: number | undefined): void {
    slot.model.lastUsed = Date.now();
    if (keepAlive !== undefined) slot.keepAlive = keepAlive;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.expiresAt = null;
  }

  /**
   * Loads a model file (if not loaded yet) after making room for it, and returns it ready. `keepAlive`
   * sets how long it stays after its last request (-1: until unloaded); `settings` apply to this load.
   * Rejects with model_too_large when it cannot fit even alone, memory_busy when the models that would
   * have to go are working.
   */
  async load(file: string, opts: { keepAlive?: number; settings?: ModelSettings; signal?: AbortSignal } = {}): Promise<LocalModel> {
    if (this.#closed) throw new WestfallError('shutting_down', 'the service is shutting down; models cannot be loaded');
    const id = modelIdOf(file);
    const slot = this.#slotFor(file);
    this.#touch(slot, opts.keepAlive);
    const m = slot.model;
    // The model's saved settings, with this load's own on top (not saved: setSettings saves).
    if (m.state !== 'ready' && !slot.pending) m.settings = { ...this.settingsOf(id), ...opts.settings };
    if (m.state === 'ready') {
      this.#arm(slot);
      return m;
    }
    if (!slot.pending) {
      const started = performance.now();
      m.setRequested(true);
      // The memory decision and the start of the load happen together, one load at a time.
      const admitted = this.#admission.then(() => this.#admit(m));
      this.#admission = admitted.catch(() => {});
      const load = admitted.then((plan) => m.load(plan, opts.signal));
      slot.pending = load;
      void load.catch(() => {}).finally(() => {
        if (slot.pending === load) slot.pending = null;
      });
      load.then(
        () => this.emit('load', { id, ok: true, ms: performance.now() - started }),
        (err: unknown) => {
          const code = (err as WestfallError)?.code ?? 'internal_error';
          if (code !== 'aborted') this.emit('load', { id, ok: false, code, ms: performance.now() - started });
        },
      );
      try {
        await load;
      } catch (err) {
        m.setRequested(false);
        // A model refused before loading leaves nothing behind; a failed load stays listed with its error.
        if (m.state === 'none' && this.#slots.get(id) === slot) this.#slots.delete(id);
        throw err;
      }
    } else {
      await slot.pending;
    }
    this.#arm(slot);
    return m;
  }

  /** Decides whether `m` fits, unloading least recently used idle models until it does. */
  async #admit(m: LocalModel): Promise<LoadPlan> {
    const limit = this.options.memoryLimitBytes ?? null;
    for (;;) {
      const others = this.memoryInUse(m);
      // Loads in progress have not taken their memory yet: count it as taken.
      const reserved = this.loaded()
        .filter((x) => x !== m && x.state === 'loading')
        .reduce((n, x) => n + (x.plan?.memoryBytes ?? 0), 0);
      const plan = await m.planLoad(reserved);
      const need = plan.memoryBytes;
      const fits = need === null ? true : limit !== null ? others + need <= limit : plan.fitsFreeMemory;
      if (fits) return plan;
      if (limit !== null && need !== null && need > limit) {
        throw new WestfallError('model_too_large', `${m.id} needs about ${fmt(need)} at context ${plan.contextSize}, more than the ${fmt(limit)} allowed for models (WESTFALL_MODEL_MEMORY_MB)`, {
          details: { model: m.id, needBytes: need, limitBytes: limit, contextSize: plan.contextSize, gpuLayers: plan.gpuLayers },
        });
      }
      const victim = this.#lruVictim(m);
      if (!victim) {
        const busy = this.loaded().filter((x) => x !== m && x.state === 'ready');
        if (busy.length === 0) {
          throw new WestfallError('model_too_large', `${m.id} does not fit in this computer's free memory: ${plan.reason}`, {
            details: { model: m.id, needBytes: need, contextSize: plan.contextSize, gpuLayers: plan.gpuLayers, reason: plan.reason },
          });
        }
        throw new WestfallError('memory_busy', `${m.id} needs about ${fmt(need ?? 0)}; the loaded models that would have to be unloaded (${busy.map((x) => x.id).join(', ')}) are answering requests`, {
          details: { model: m.id, needBytes: need, busy: busy.map((x) => x.id), retryAfter: 5 },
        });
      }
      this.#log?.info({ model: victim.id, for: m.id }, 'unloading the least recently used model to make room');
      await this.unload(victim.id, 'lru');
    }
  }

  /** The least recently used ready model that is not working and not `except`. */
  #lruVictim(except: LocalModel): LocalModel | null {
    let best: LocalModel | null = null;
    for (const s of this.#slots.values()) {
      const x = s.model;
      if (x === except || x.state !== 'ready' || x.scheduler.busy) continue;
      if (!best || x.lastUsed < best.lastUsed) best = x;
    }
    return best;
  }

  async unload(id: string, reason: UnloadReason = 'request', error?: WestfallError, timeoutMs = 2000): Promise<boolean> {
    const slot = this.#slots.get(id);
    if (!slot) return false;
    if (slot.timer) clearTimeout(slot.timer);
    this.#slots.delete(id);
    const wasLoaded = slot.model.state === 'ready' || slot.model.state === 'loading';
    const why = error ?? new WestfallError('model_unloaded', reason === 'lru' ? `${id} was unloaded to make room for another model` : undefined);
    await slot.model.unload(why, timeoutMs);
    if (wasLoaded) this.emit('unload', { id, reason });
    return true;
  }

  /** The ready model for a request naming `name` (an id or a file in the models folder), loading it if needed. */
  async ready(name: string, keepAlive: number | undefined, signal?: AbortSignal): Promise<LocalModel> {
    const file = this.#installed().get(name) ?? this.#installed().get(modelIdOf(name));
    if (!file) throw new WestfallError('model_not_found', `no model named "${name}" is installed`, { details: { model: name } });
    // The request's signal does not cancel the load: other requests may be waiting for it, and the next
    // request for the model would start it again.
    const m = await this.load(file, keepAlive !== undefined ? { keepAlive } : {});
    if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled while its model loaded');
    return m;
  }

  // -------------------------------------------------------------------------------------------------
  // ChatEngine

  async chat(job: ChatJob & { model: string }): Promise<ManagedGeneration> {
    const m = await this.ready(job.model, job.keepAlive, job.signal);
    return m.scheduler.chat(job);
  }

  async complete(job: CompletionJob & { model: string }): Promise<ManagedGeneration> {
    const m = await this.ready(job.model, job.keepAlive, job.signal);
    return m.scheduler.complete(job);
  }

  async embed(job: EmbedJob & { model: string }): Promise<EmbedResult> {
    const m = await this.ready(job.model, job.keepAlive, job.signal);
    const slot = this.#slots.get(m.id);
    // Embeddings do not go through the scheduler: count them as use so the model is not unloaded under them.
    if (slot) this.#touch(slot, job.keepAlive);
    try {
      return await m.embed(job.texts);
    } finally {
      if (slot) this.#arm(slot);
    }
  }

  /** Refuses new work and ends every queued and running generation with `reason`, without waiting. */
  beginShutdown(reason: WestfallError): void {
    this.#closed = true;
    for (const s of this.#slots.values()) {
      s.model.scheduler.rejectWaiting(reason);
      s.model.scheduler.abortRunning(reason);
    }
  }

  async close(timeoutMs = 3000): Promise<void> {
    const reason = new WestfallError('shutting_down');
    this.beginShutdown(reason);
    await Promise.allSettled([...this.#slots.keys()].map((id) => this.unload(id, 'shutdown', reason, timeoutMs)));
  }
}
