// Models split over workers (`westfall worker` on other machines, docs/rpc.md) run in a child process of
// the backend, never in the backend itself: ggml's RPC client aborts its process when a worker it uses
// stops answering (ggml-rpc.cpp: RPC_STATUS_ASSERT → GGML_ABORT), and keeps its connection to a worker for
// as long as the process holds a model there. In a child, a lost worker costs that model's generations
// (rpc_worker_lost, naming the worker) and nothing else; the next request loads the model again, and a
// worker that is still gone is then named by the load's own probe (rpc_worker_unreachable).
//
// The engine serves every installed model while workers are enabled, one at a time (a request for
// another model replaces the child), and is first in the router, so requests go through the workers.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, type ChatFormat, type GenerationChunk, type Model, type Placement } from '../../engine/index.js';
import type { ModelStatus } from '../schemas.js';
import { probeWorker } from '../../engine/rpc.js';
import { ERROR_CATALOG, WestfallError, isWestfallError, type ErrorCode } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import type { ChatEngine, ChatJob, CompletionJob, EmbedJob, EmbedResult, EngineStatus, GenerationEvent, ManagedGeneration, ManagedResult, ModelEntry } from './engine.js';
import { modelIdOf, type LoaderDefaults, type ModelSettings } from './loader.js';
import type { FromChild, HostConfig, ToChild, WireError } from './worker-host-protocol.js';

export interface WorkerHostOptions {
  /** The workers (host:port) models are split over; empty or disabled: this engine serves nothing. */
  workers: () => readonly string[];
  enabled: () => boolean;
  /** Weights (this machine first, then each worker); absent: by free memory. */
  split?: () => readonly number[] | undefined;
  modelsDir: string | null;
  defaults: LoaderDefaults;
  settingsOf?: (id: string) => ModelSettings;
  logger?: Logger;
  /** How long a model load may take before it is given up (the workers receive the weights over the network). */
  loadTimeoutMs?: number;
}

export interface WorkerHostEvents {
  change: [];
  generation: [GenerationEvent];
}

type HostState = 'none' | 'loading' | 'ready' | 'error';

interface Pending {
  onStarted?: (m: Extract<FromChild, { type: 'started' }>) => void;
  onChunk?: (c: GenerationChunk) => void;
  onResult?: (r: ManagedResult) => void;
  onEmbedded?: (r: EmbedResult) => void;
  onFailed: (e: WestfallError) => void;
}

function fromWire(e: WireError): WestfallError {
  const code = (e.code in ERROR_CATALOG ? e.code : 'internal_error') as ErrorCode;
  return new WestfallError(code, e.message, e.details !== undefined ? { details: e.details } : undefined);
}

/** A generation whose tokens come from the child. */
class HostGeneration implements ManagedGeneration {
  readonly id: string;
  readonly modelId: string;
  readonly chatFormat: ChatFormat | null;
  readonly result: Promise<ManagedResult>;
  readonly signal: AbortSignal;
  serverAbortReason: WestfallError | null = null;
  #queue: GenerationChunk[] = [];
  #done = false;
  #error: WestfallError | null = null;
  #wake: (() => void) | null = null;
  #resolve!: (r: ManagedResult) => void;
  #reject!: (e: WestfallError) => void;
  readonly #ac = new AbortController();

  constructor(started: Extract<FromChild, { type: 'started' }>, private readonly sendAbort: () => void, clientSignal: AbortSignal | undefined) {
    this.id = started.genId;
    this.modelId = started.modelId;
    this.chatFormat = started.chatFormat;
    this.signal = this.#ac.signal;
    this.result = new Promise<ManagedResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.result.catch(() => {});
    if (clientSignal) {
      if (clientSignal.aborted) this.abort();
      else clientSignal.addEventListener('abort', () => this.abort(), { once: true });
    }
  }

  abort(): void {
    if (this.#done) return;
    this.#ac.abort();
    this.sendAbort();
  }

  /** @internal */
  push(c: GenerationChunk): void {
    this.#queue.push(c);
    this.#wake?.();
  }

  /** @internal */
  finish(r: ManagedResult): void {
    this.#done = true;
    this.#resolve(r);
    this.#wake?.();
  }

  /** @internal */
  fail(e: WestfallError, byServer: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = e;
    if (byServer) {
      this.serverAbortReason = e;
      this.#ac.abort();
    }
    this.#reject(e);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GenerationChunk> {
    for (;;) {
      const c = this.#queue.shift();
      if (c) {
        yield c;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = null;
    }
  }
}

/** The child's file: the compiled .js beside this one, or the .ts source under tsx/vitest. */
function childEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  return { file: path.join(path.dirname(self), `worker-host-child.${ts ? 'ts' : 'js'}`), execArgv: ts ? ['--import', 'tsx'] : [] };
}

export class WorkerHostEngine extends EventEmitter<WorkerHostEvents> implements ChatEngine {
  readonly id = 'workers';
  readonly kind = 'local' as const;
  readonly #o: WorkerHostOptions;
  #child: ChildProcess | null = null;
  #modelId: string | null = null;
  #state: HostState = 'none';
  #progress: number | null = null;
  #error: WestfallError | null = null;
  #ready: Promise<void> | null = null;
  #placement: Placement | null = null;
  #info: { contextSize: number | null; gpuLayers: number | null; memoryBytes: number | null } = { contextSize: null, gpuLayers: null, memoryBytes: null };
  #loadedAt: Date | null = null;
  #lastUsed: Date | null = null;
  #file: string | null = null;
  #status: ModelStatus | null = null;
  #template: { file: string; model: Promise<Model> } | null = null;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closed = false;

  constructor(options: WorkerHostOptions) {
    super();
    this.#o = options;
  }

  get active(): boolean {
    return this.#o.enabled() && this.#o.workers().length > 0;
  }

  /** The model the child holds (or is loading), its state, and where its layers went. */
  current(): { model: string | null; state: HostState; placement: Placement | null; error: { code: string; message: string } | null } {
    return { model: this.#modelId, state: this.#state, placement: this.#placement, error: this.#error ? { code: this.#error.code, message: this.#error.message } : null };
  }

  #installed(): Map<string, { file: string; size: number }> {
    const out = new Map<string, { file: string; size: number }>();
    const dir = this.#o.modelsDir;
    if (!dir) return out;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return out;
    }
    for (const name of names.sort()) {
      if (!/\.gguf$/i.test(name)) continue;
      const file = path.join(dir, name);
      let size = 0;
      try {
        size = statSync(file).size;
      } catch {
        continue;
      }
      out.set(modelIdOf(name), { file, size });
    }
    return out;
  }

  models(): ModelEntry[] {
    if (!this.active || this.#closed) return [];
    const n = this.#o.workers().length;
    const location = `this computer + ${n} worker${n === 1 ? '' : 's'}`;
    return [...this.#installed()].map(([id, f]) => {
      const mine = id === this.#modelId;
      return {
        id,
        engine: this.id,
        kind: 'local' as const,
        location,
        state: mine ? this.#state : 'none',
        progress: mine && this.#state === 'loading' ? this.#progress : null,
        path: f.file,
        fileSizeBytes: f.size,
        memoryBytes: mine ? this.#info.memoryBytes : null,
        contextSize: mine ? this.#info.contextSize : null,
        gpuLayers: mine ? this.#info.gpuLayers : null,
        loadedAt: mine ? (this.#loadedAt?.toISOString() ?? null) : null,
        lastUsedAt: mine ? (this.#lastUsed?.toISOString() ?? null) : null,
        expiresAt: null,
        error: mine && this.#error ? { code: this.#error.code, message: this.#error.message } : null,
      };
    });
  }

  status(): EngineStatus {
    if (!this.active) return { id: this.id, kind: this.kind, ok: false, message: 'no workers enabled' };
    if (this.#error) return { id: this.id, kind: this.kind, ok: false, message: this.#error.message };
    return { id: this.id, kind: this.kind, ok: true, message: this.#modelId ? `${this.#modelId} split over ${this.#o.workers().length} workers` : `${this.#o.workers().length} workers` };
  }

  #fileOf(name: string): string {
    const entry = this.#installed().get(name) ?? this.#installed().get(modelIdOf(name));
    if (entry) return entry.file;
    if (this.#file && modelIdOf(this.#file) === modelIdOf(name)) return this.#file;
    if (path.isAbsolute(name) && /\.gguf$/i.test(name)) return name;
    throw new WestfallError('model_not_found', `no model named "${name}" is installed`, { details: { model: name } });
  }

  /**
   * Loads `name` (an installed model's id, or a GGUF path) in a fresh child, replacing any other model;
   * resolves when it is ready.
   */
  async load(name: string): Promise<void> {
    if (this.#closed) throw new WestfallError('shutting_down');
    if (!this.active) throw new WestfallError('invalid_request', 'no workers are enabled (Settings → Workers)');
    const file = this.#fileOf(name);
    const id = modelIdOf(file);
    if (this.#modelId === id && this.#ready && this.#state !== 'error') return this.#ready;
    await this.unload();
    this.#modelId = id;
    this.#file = file;
    this.#ready = this.#start(file, id);
    this.#ready.catch(() => {});
    return this.#ready;
  }

  /**
   * The model's vocabulary and chat template, loaded in this process without weights: the routes render
   * and count with it while the weights live in the child.
   */
  async templateModel(name: string): Promise<Model> {
    const file = this.#fileOf(name);
    if (this.#template?.file !== file) {
      const old = this.#template;
      this.#template = { file, model: loadModel({ path: file, vocabOnly: true }) };
      this.#template.model.catch(() => {
        if (this.#template?.file === file) this.#template = null;
      });
      if (old) void old.model.then((m) => m.dispose()).catch(() => {});
    }
    return this.#template.model;
  }

  /** The status of the model the child holds, as GET /api/models shows a local one's. */
  modelStatus(): ModelStatus {
    const base: ModelStatus = { state: this.#state, model: null, path: this.#file, progress: null, error: null, context: null, loadedAt: null };
    if (this.#state === 'ready' && this.#status) return this.#status;
    if (this.#state === 'loading') return { ...base, progress: this.#progress };
    if (this.#state === 'error') return { ...base, error: this.#error ? { code: this.#error.code, message: this.#error.message } : null } as ModelStatus;
    return base;
  }

  #start(file: string, id: string): Promise<void> {
    const d = this.#o.defaults;
    const config: HostConfig = {
      modelPath: file,
      modelId: id,
      workers: [...this.#o.workers()],
      ...(this.#o.split?.() ? { split: [...this.#o.split()!] } : {}),
      settings: this.#o.settingsOf?.(id) ?? {},
      defaults: { contextSize: d.contextSize, gpuLayers: d.gpuLayers, threads: d.threads ?? null, parallel: d.parallel, queueLimit: d.queueLimit, sampling: d.sampling },
    };
    const { file: entry, execArgv } = childEntry();
    this.#state = 'loading';
    this.#progress = 0;
    this.#error = null;
    this.#placement = null;
    this.emit('change');
    const child = fork(entry, [], {
      execArgv,
      serialization: 'advanced',
      env: { ...process.env, WESTFALL_WORKER_HOST_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const err = new WestfallError('model_load_failed', `loading ${id} over the workers took longer than ${Math.round((this.#o.loadTimeoutMs ?? 600_000) / 1000)} s`);
        this.#fail(err);
        child.kill('SIGKILL');
        reject(err);
      }, this.#o.loadTimeoutMs ?? 600_000);
      child.on('message', (m: FromChild) => {
        switch (m.type) {
          case 'progress':
            this.#progress = m.progress;
            this.emit('change');
            break;
          case 'ready':
            clearTimeout(timer);
            settled = true;
            this.#state = 'ready';
            this.#placement = m.placement;
            this.#info = { contextSize: m.status.context?.contextSize ?? null, gpuLayers: m.gpuLayers, memoryBytes: m.memoryBytes };
            this.#status = m.status;
            this.#loadedAt = new Date();
            this.#o.logger?.info({ model: id, placement: m.placement }, 'model loaded over workers');
            this.emit('change');
            resolve();
            break;
          case 'load-failed': {
            clearTimeout(timer);
            settled = true;
            const err = fromWire(m.error);
            this.#fail(err);
            reject(err);
            break;
          }
          case 'generation':
            this.emit('generation', m.event);
            break;
          default:
            this.#dispatch(m);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.#child !== child) return;
        this.#child = null;
        void this.#lost(code, signal, stderr).then((err) => {
          if (!settled) {
            settled = true;
            reject(err);
          }
        });
      });
    });
  }

  #fail(err: WestfallError): void {
    this.#state = 'error';
    this.#error = err;
    this.emit('change');
  }

  /** The child is gone: name the worker that caused it and end everything that was running. */
  async #lost(code: number | null, signal: NodeJS.Signals | null, stderr: string): Promise<WestfallError> {
    if (this.#state === 'none' || this.#closed) {
      const err = new WestfallError('model_unloaded', 'the model was unloaded while the request was running');
      this.#failAll(err);
      return err;
    }
    const workers = [...this.#o.workers()];
    const probes = await Promise.all(workers.map((w) => probeWorker(w, { timeoutMs: 3000 }).then(() => null, (e: unknown) => (isWestfallError(e) && e.code !== 'rpc_worker_busy' ? w : null))));
    const lost = probes.filter((w): w is string => w !== null);
    const err = lost.length
      ? new WestfallError('rpc_worker_lost', `the worker${lost.length > 1 ? 's' : ''} ${lost.join(', ')} stopped answering while the model was using ${lost.length > 1 ? 'them' : 'it'}; remove ${lost.length > 1 ? 'them' : 'it'} under Settings → Workers or start ${lost.length > 1 ? 'them' : 'it'} again, then send the message again`, {
          details: { workers: lost },
        })
      : new WestfallError('rpc_worker_lost', `the process holding the split model stopped (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`, { details: { workers: [] } });
    this.#o.logger?.warn({ code, signal, lost }, 'the split model process ended');
    this.#fail(err);
    this.#failAll(err);
    return err;
  }

  #failAll(err: WestfallError): void {
    for (const p of this.#pending.values()) p.onFailed(err);
    this.#pending.clear();
  }

  #dispatch(m: FromChild): void {
    if (!('id' in m)) return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'started':
        p.onStarted?.(m);
        break;
      case 'chunk':
        p.onChunk?.(m.chunk);
        break;
      case 'result':
        this.#pending.delete(m.id);
        p.onResult?.(m.result);
        break;
      case 'embedded':
        this.#pending.delete(m.id);
        p.onEmbedded?.(m.result);
        break;
      case 'failed':
        this.#pending.delete(m.id);
        p.onFailed(fromWire(m.error));
        break;
    }
  }

  #send(m: ToChild): void {
    this.#child?.send(m);
  }

  async #generate(job: (ChatJob | CompletionJob) & { model: string }, kind: 'chat' | 'complete'): Promise<ManagedGeneration> {
    await this.load(job.model);
    this.#lastUsed = new Date();
    const id = this.#nextId++;
    const { signal, ...rest } = job;
    return new Promise<ManagedGeneration>((resolve, reject) => {
      let gen: HostGeneration | null = null;
      this.#pending.set(id, {
        onStarted: (s) => {
          gen = new HostGeneration(s, () => this.#send({ type: 'abort', id }), signal);
          resolve(gen);
        },
        onChunk: (c) => gen?.push(c),
        onResult: (r) => gen?.finish(r),
        onFailed: (e) => {
          if (gen) gen.fail(e, e.code === 'rpc_worker_lost' || e.code === 'model_unloaded' || e.code === 'shutting_down');
          else reject(e);
        },
      });
      if (kind === 'chat') this.#send({ type: 'chat', id, job: rest as Omit<ChatJob, 'signal'> & { model: string } });
      else this.#send({ type: 'complete', id, job: rest as Omit<CompletionJob, 'signal'> & { model: string } });
      if (signal?.aborted) this.#send({ type: 'abort', id });
    });
  }

  chat(job: ChatJob & { model: string }): Promise<ManagedGeneration> {
    return this.#generate(job, 'chat');
  }

  complete(job: CompletionJob & { model: string }): Promise<ManagedGeneration> {
    return this.#generate(job, 'complete');
  }

  async embed(job: EmbedJob & { model: string }): Promise<EmbedResult> {
    await this.load(job.model);
    const id = this.#nextId++;
    return new Promise<EmbedResult>((resolve, reject) => {
      this.#pending.set(id, { onEmbedded: resolve, onFailed: reject });
      this.#send({ type: 'embed', id, texts: job.texts });
    });
  }

  /** Ends the child (its generations end with model_unloaded). */
  async unload(): Promise<void> {
    const child = this.#child;
    this.#state = 'none';
    this.#modelId = null;
    this.#ready = null;
    this.#placement = null;
    this.#error = null;
    this.#status = null;
    this.#child = null;
    this.#failAll(new WestfallError('model_unloaded', 'the model was unloaded while the request was running'));
    this.emit('change');
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      try {
        child.send({ type: 'close' } satisfies ToChild);
      } catch {
        child.kill('SIGKILL');
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.unload();
    const t = this.#template;
    this.#template = null;
    if (t) await t.model.then((m) => m.dispose()).catch(() => {});
  }
}
