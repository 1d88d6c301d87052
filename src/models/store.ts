// The models directory: what is installed (read from each GGUF header), deleting a model, and the running
// downloads, tracked by id with progress snapshots and events.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { WestfallError, isWestfallError, type ErrorCode } from '../errors.js';
import {
  getArchitecture,
  getContextLength,
  getMetadataNumber,
  getModelName,
  getParameterCount,
  ggmlTypeName,
  readGgufHeader,
  type GgufHeader,
} from '../gguf/index.js';
import {
  MODEL_CATALOG,
  MODEL_FILE_NAME_RE,
  getCatalogEntry,
  getDefaultCatalogEntry,
  type CatalogEntry,
} from './catalog.js';
import { downloadModel, partPathOf, type DownloadModelOptions } from './downloader.js';
import type { DownloadProgress, DownloadSnapshot, DownloadState, InstalledModel, PartialDownload } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Paths

/**
 * The absolute path of `fileName` inside `modelsDir`. Only a bare `*.gguf` name is accepted (no separators,
 * no `..`, no leading dot), and the resolved path must sit directly in the models directory.
 */
export function resolveModelPath(modelsDir: string, fileName: string): string {
  const bad = (message: string): WestfallError =>
    new WestfallError('invalid_params', `invalid fileName: ${message}`, {
      details: { fields: [{ path: 'fileName', message }] },
    });
  if (typeof fileName !== 'string' || !MODEL_FILE_NAME_RE.test(fileName)) {
    throw bad('must be a bare file name ending in .gguf (letters, digits, dot, dash, underscore)');
  }
  const root = resolve(modelsDir);
  const full = resolve(root, fileName);
  if (dirname(full) !== root || basename(full) !== fileName) throw bad('must stay inside the models directory');
  return full;
}

// ---------------------------------------------------------------------------------------------------------
// Installed models

// llama.h's llama_ftype, as stored in general.file_type.
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0',
  37: 'TQ2_0', 38: 'MXFP4_MOE', 39: 'NVFP4', 40: 'Q1_0', 41: 'Q2_0',
};

/** The quantization named by general.file_type, else the tensor type holding the most bytes. */
export function quantizationOf(header: GgufHeader): string | undefined {
  let ft: number | undefined;
  try {
    ft = getMetadataNumber(header, 'general.file_type');
  } catch {
    ft = undefined;
  }
  if (ft !== undefined && FILE_TYPES[ft] !== undefined) return FILE_TYPES[ft];
  const bytes = new Map<number, number>();
  for (const t of header.tensors) bytes.set(t.type, (bytes.get(t.type) ?? 0) + t.nBytes);
  let best: number | undefined;
  for (const [type, n] of bytes) if (best === undefined || n > (bytes.get(best) ?? 0)) best = type;
  return best === undefined ? undefined : ggmlTypeName(best);
}

const isModelFile = (name: string): boolean => name.toLowerCase().endsWith('.gguf');

export async function describeModelFile(
  path: string,
  catalog: readonly CatalogEntry[] = MODEL_CATALOG,
): Promise<InstalledModel> {
  const st = await stat(path);
  const fileName = basename(path);
  const base: InstalledModel = {
    fileName,
    path,
    sizeBytes: st.size,
    modifiedAt: st.mtime.toISOString(),
    valid: false,
  };
  const entry = catalog.find((c) => c.fileName === fileName);
  if (entry) base.catalogId = entry.id;
  try {
    const header = await readGgufHeader(path);
    const out: InstalledModel = { ...base, valid: true, parameterCount: getParameterCount(header) };
    const arch = getArchitecture(header);
    const name = getModelName(header);
    const ctx = getContextLength(header);
    const quant = quantizationOf(header);
    if (arch !== undefined) out.architecture = arch;
    if (name !== undefined) out.name = name;
    if (ctx !== undefined) out.contextLength = ctx;
    if (quant !== undefined) out.quantization = quant;
    return out;
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Installed `*.gguf` files directly in `modelsDir` (not `.part` files), sorted by name. Missing dir → []. */
export async function listInstalledModels(
  modelsDir: string,
  catalog: readonly CatalogEntry[] = MODEL_CATALOG,
): Promise<InstalledModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files = entries.filter((e) => e.isFile() && isModelFile(e.name)).map((e) => e.name);
  files.sort();
  const out: InstalledModel[] = [];
  for (const f of files) {
    try {
      out.push(await describeModelFile(join(modelsDir, f), catalog));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted meanwhile: skip
    }
  }
  return out;
}

/** `.gguf.part` files left by interrupted or cancelled downloads (they resume on the next download). */
export async function listPartialDownloads(modelsDir: string): Promise<PartialDownload[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: PartialDownload[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.toLowerCase().endsWith('.gguf.part')) continue;
    const partPath = join(modelsDir, e.name);
    try {
      out.push({ fileName: e.name.slice(0, -'.part'.length), partPath, bytes: (await stat(partPath)).size });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a.fileName.localeCompare(b.fileName));
}

/** Deletes an installed model. Refuses names that would leave the models directory. */
export async function deleteInstalledModel(modelsDir: string, fileName: string): Promise<void> {
  const path = resolveModelPath(modelsDir, fileName);
  try {
    await unlink(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new WestfallError('model_not_found', `No installed model named ${fileName}`, {
        details: { fileName },
      });
    }
    throw err;
  }
}

export interface FirstRunStatus {
  /** True when no usable model is installed. */
  firstRun: boolean;
  installedCount: number;
  /** The catalog entry to offer when nothing is installed. */
  defaultModel: CatalogEntry;
  message: string;
}

export async function firstRunStatus(
  modelsDir: string,
  catalog: readonly CatalogEntry[] = MODEL_CATALOG,
): Promise<FirstRunStatus> {
  const installed = (await listInstalledModels(modelsDir, catalog)).filter((m) => m.valid);
  const defaultModel = getDefaultCatalogEntry(catalog);
  const firstRun = installed.length === 0;
  return {
    firstRun,
    installedCount: installed.length,
    defaultModel,
    message: firstRun
      ? `No model is installed yet. Download ${defaultModel.name} (${defaultModel.quantization}, about ` +
        `${(defaultModel.sizeBytes / 1e9).toFixed(1)} GB) from the catalog to get started.`
      : `${installed.length} model${installed.length === 1 ? '' : 's'} installed.`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Downloads
//
// Every download is also a small JSON record in `<modelsDir>/.downloads/<id>.json` (what to fetch, how to
// verify it, bytes so far), so that it outlives the process: `recover()` (called once at startup) restarts
// the ones that were running when the backend stopped and lists the ones the user cancelled or that failed
// as resumable. The `.part` file, not the record, says how many bytes are on disk; the record's count is
// only for display before the download runs again. A verified download, or one cancelled with its part
// discarded, loses its record.

export type DownloadEventType = 'progress' | 'verified' | 'error';

export interface DownloadEvent {
  id: string;
  type: DownloadEventType;
  download: DownloadSnapshot;
}

export type DownloadRequest =
  | { catalogId: string }
  | {
      url: string;
      fileName: string;
      sha256?: string;
      expectedSize?: number;
      /** Download even when no SHA-256 is known (the user left it empty and the server publishes none). */
      allowUnverified?: boolean;
    };

export type DownloadDefaults = Pick<
  DownloadModelOptions,
  | 'fetchImpl'
  | 'statfsImpl'
  | 'diskMarginBytes'
  | 'stallLimit'
  | 'retryDelayMs'
  | 'retryMaxDelayMs'
  | 'idleTimeoutMs'
  | 'random'
  | 'progressIntervalMs'
  | 'requireChecksum'
  | 'headers'
>;

export interface ModelStoreOptions {
  modelsDir: string;
  catalog?: readonly CatalogEntry[];
  /** Passed to every downloadModel call (tests inject fetch and statfs here). */
  download?: DownloadDefaults;
  /** Finished downloads kept for GET /downloads/:id. Default 50. */
  keepFinished?: number;
  /** Restart, in recover(), the downloads that were running when the process stopped. Default true. */
  autoResume?: boolean;
  /** Minimum interval between saves of a running download's byte count. Default 2 s. */
  saveIntervalMs?: number;
}

/** What a download needs to run again, as kept on disk. */
export interface DownloadJobRecord {
  version: 1;
  id: string;
  fileName: string;
  url: string;
  sha256?: string;
  expectedSize?: number;
  catalogId?: string;
  allowUnverified?: boolean;
  /** running: was downloading when last saved (a restart resumes it); paused: cancelled; failed: ended in an error. */
  status: 'running' | 'paused' | 'failed';
  bytesDownloaded: number;
  totalBytes: number | null;
  startedAt: string;
  updatedAt: string;
  error?: DownloadSnapshot['error'];
}

interface JobSpec {
  url: string;
  fileName: string;
  sha256?: string;
  expectedSize?: number;
  catalogId?: string;
  allowUnverified?: boolean;
}

interface Job {
  spec: JobSpec;
  snapshot: DownloadSnapshot;
  controller: AbortController;
  done: Promise<DownloadSnapshot>;
  /** Why the running download was stopped, when we stopped it. */
  stop?: 'cancel' | 'shutdown';
  /** False once the record was deleted (verified, discarded): the job can no longer be resumed. */
  persisted: boolean;
  /** Record writes in order: a late progress save must not overwrite the final state. */
  saving: Promise<void>;
  lastSave: number;
}

const TERMINAL: ReadonlySet<DownloadState> = new Set(['verified', 'error', 'cancelled']);
export const isTerminal = (s: DownloadState): boolean => TERMINAL.has(s);

export const DOWNLOAD_RECORDS_DIR = '.downloads';
const ID_RE = /^[A-Za-z0-9-]{1,100}$/;

const recordSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(ID_RE),
  fileName: z.string().regex(MODEL_FILE_NAME_RE),
  url: z.string().min(1),
  sha256: z.string().optional(),
  expectedSize: z.number().int().nonnegative().optional(),
  catalogId: z.string().optional(),
  allowUnverified: z.boolean().optional(),
  status: z.enum(['running', 'paused', 'failed']),
  bytesDownloaded: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().nullable(),
  startedAt: z.string(),
  updatedAt: z.string(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).optional(),
});

/**
 * Emits `download` with a DownloadEvent for every progress step and the final `verified` or `error`
 * (a cancel ends with `error` whose code is `aborted`, state `cancelled`). Listeners for one download can use
 * `subscribe(id, fn)`.
 */
export class ModelStore extends EventEmitter<{ download: [DownloadEvent] }> {
  readonly modelsDir: string;
  readonly catalog: readonly CatalogEntry[];
  private readonly defaults: DownloadDefaults;
  private readonly keepFinished: number;
  private readonly autoResume: boolean;
  private readonly saveIntervalMs: number;
  private readonly jobs = new Map<string, Job>();
  private recovered: Promise<DownloadSnapshot[]> | undefined;

  constructor(opts: ModelStoreOptions) {
    super();
    this.setMaxListeners(0);
    this.modelsDir = resolve(opts.modelsDir);
    this.catalog = opts.catalog ?? MODEL_CATALOG;
    this.defaults = opts.download ?? {};
    this.keepFinished = opts.keepFinished ?? 50;
    this.autoResume = opts.autoResume ?? true;
    this.saveIntervalMs = opts.saveIntervalMs ?? 2000;
  }

  list(): Promise<InstalledModel[]> {
    return listInstalledModels(this.modelsDir, this.catalog);
  }

  listPartial(): Promise<PartialDownload[]> {
    return listPartialDownloads(this.modelsDir);
  }

  pathOf(fileName: string): string {
    return resolveModelPath(this.modelsDir, fileName);
  }

  async delete(fileName: string): Promise<void> {
    await deleteInstalledModel(this.modelsDir, fileName);
  }

  firstRunStatus(): Promise<FirstRunStatus> {
    return firstRunStatus(this.modelsDir, this.catalog);
  }

  /** Starts a download in the background and returns its first snapshot. */
  async startDownload(req: DownloadRequest): Promise<DownloadSnapshot> {
    let spec: JobSpec;
    if ('catalogId' in req) {
      const e = getCatalogEntry(req.catalogId, this.catalog);
      spec = { url: e.url, fileName: e.fileName, catalogId: e.id, expectedSize: e.sizeBytes };
      if (e.sha256 !== undefined) spec.sha256 = e.sha256;
    } else {
      spec = { url: req.url, fileName: req.fileName };
      if (req.sha256 !== undefined) spec.sha256 = req.sha256;
      if (req.expectedSize !== undefined) spec.expectedSize = req.expectedSize;
      if (req.allowUnverified === true && req.sha256 === undefined) spec.allowUnverified = true;
    }
    await this.checkNotInstalled(spec.fileName);
    // No await from here to jobs.set: two concurrent requests cannot both pass this check.
    this.checkNotRunning(spec.fileName);
    // An earlier cancelled or failed download of the same file is superseded (its part is resumed anyway).
    for (const j of [...this.jobs.values()]) {
      if (j.snapshot.fileName === spec.fileName) {
        this.jobs.delete(j.snapshot.id);
        if (j.persisted) this.dropRecord(j);
      }
    }

    const id = randomUUID();
    const snapshot: DownloadSnapshot = {
      id,
      fileName: spec.fileName,
      url: spec.url,
      state: 'downloading',
      progress: { bytesDownloaded: 0, totalBytes: spec.expectedSize ?? null, bytesPerSecond: 0, etaSeconds: null },
      startedAt: new Date().toISOString(),
    };
    if (spec.catalogId !== undefined) snapshot.catalogId = spec.catalogId;
    const job = this.newJob(spec, snapshot);
    this.jobs.set(id, job);
    this.run(job);
    return { ...snapshot };
  }

  /**
   * Runs a cancelled or failed download again under the same id, resuming from its `.part`. Refuses one that
   * is running (download_in_progress), verified or discarded (download_not_resumable), or whose file has been
   * installed meanwhile (model_exists).
   */
  async resumeDownload(id: string): Promise<DownloadSnapshot> {
    const job = this.job(id);
    if (job.snapshot.state === 'downloading') {
      throw new WestfallError('download_in_progress', `${job.snapshot.fileName} is already being downloaded (${id})`, {
        details: { fileName: job.snapshot.fileName, id },
      });
    }
    if (job.snapshot.state === 'verified' || !job.persisted) {
      throw new WestfallError('download_not_resumable', `The download ${id} cannot be resumed (${job.snapshot.state === 'verified' ? 'it is verified' : 'its partial file was discarded'})`, {
        details: { id, state: job.snapshot.state },
      });
    }
    await job.done;
    await this.checkNotInstalled(job.spec.fileName);
    // A concurrent resume may have won while we awaited (TypeScript cannot see the state change).
    if ((job.snapshot.state as DownloadState) === 'downloading') return { ...job.snapshot };
    this.checkNotRunning(job.spec.fileName);
    const snap = job.snapshot;
    snap.state = 'downloading';
    delete snap.error;
    delete snap.finishedAt;
    delete snap.resumable;
    snap.retries = 0;
    snap.progress = { ...snap.progress, bytesPerSecond: 0, etaSeconds: null };
    const fresh = this.newJob(job.spec, snap);
    this.jobs.delete(id);
    this.jobs.set(id, fresh); // re-inserted: finished jobs are pruned oldest first
    fresh.saving = job.saving;
    this.run(fresh);
    return { ...snap };
  }

  /**
   * Picks up the downloads recorded on disk by an earlier process (once per store; later calls return the
   * same result): those that were running start again (unless autoResume is off), the others are listed as
   * resumable. Records of files installed meanwhile are deleted.
   */
  recover(): Promise<DownloadSnapshot[]> {
    this.recovered ??= this.recoverRecords();
    return this.recovered;
  }

  getDownload(id: string): DownloadSnapshot {
    return { ...this.job(id).snapshot };
  }

  listDownloads(): DownloadSnapshot[] {
    return [...this.jobs.values()].map((j) => ({ ...j.snapshot }));
  }

  /**
   * Cancels a running download and waits for it to stop. Its `.part` is kept and the download stays
   * resumable, unless `discardPartial`, which deletes the part and the record (also of a download that
   * already ended).
   */
  async cancelDownload(id: string, opts: { discardPartial?: boolean } = {}): Promise<DownloadSnapshot> {
    const job = this.job(id);
    if (job.snapshot.state === 'downloading') {
      job.stop = 'cancel';
      job.controller.abort(new Error('cancelled'));
    }
    await job.done;
    const current = this.jobs.get(id) ?? job;
    if (opts.discardPartial && current.snapshot.state !== 'verified' && current.snapshot.state !== 'downloading') {
      await unlink(partPathOf(this.pathOf(current.snapshot.fileName))).catch(() => {});
      current.snapshot.resumable = false;
      this.dropRecord(current);
      await current.saving;
    }
    return { ...current.snapshot };
  }

  /** Resolves with the final snapshot when the download ends (verified, error or cancelled). */
  wait(id: string): Promise<DownloadSnapshot> {
    return this.job(id).done;
  }

  /** Calls `fn` for each event of one download; returns the unsubscribe function. */
  subscribe(id: string, fn: (e: DownloadEvent) => void): () => void {
    this.job(id);
    const l = (e: DownloadEvent): void => {
      if (e.id === id) fn(e);
    };
    this.on('download', l);
    return () => this.off('download', l);
  }

  /**
   * Stops every running download and waits for them. Their records stay `running`, so the next process's
   * recover() resumes them.
   */
  async close(): Promise<void> {
    await this.recovered?.catch(() => []);
    const running = [...this.jobs.values()].filter((j) => j.snapshot.state === 'downloading');
    for (const j of running) {
      j.stop = 'shutdown';
      j.controller.abort(new Error('shutting down'));
    }
    await Promise.all(running.map((j) => j.done));
    await Promise.all([...this.jobs.values()].map((j) => j.saving));
  }

  private async checkNotInstalled(fileName: string): Promise<void> {
    const dest = this.pathOf(fileName);
    try {
      await stat(dest);
    } catch {
      return;
    }
    throw new WestfallError('model_exists', `${fileName} is already installed`, { details: { fileName } });
  }

  private checkNotRunning(fileName: string): void {
    for (const j of this.jobs.values()) {
      if (j.snapshot.fileName === fileName && j.snapshot.state === 'downloading') {
        throw new WestfallError('download_in_progress', `${fileName} is already being downloaded (${j.snapshot.id})`, {
          details: { fileName, id: j.snapshot.id },
        });
      }
    }
  }

  private newJob(spec: JobSpec, snapshot: DownloadSnapshot): Job {
    return {
      spec,
      snapshot,
      controller: new AbortController(),
      done: Promise.resolve(snapshot),
      persisted: true,
      saving: Promise.resolve(),
      lastSave: 0,
    };
  }

  /** Starts `job`'s download; `job.done` settles after the final record is saved. */
  private run(job: Job): void {
    const { spec, snapshot } = job;
    const id = snapshot.id;
    this.save(job, 'running');
    const download = downloadModel({
      ...this.defaults,
      url: spec.url,
      dest: this.pathOf(spec.fileName),
      ...(spec.sha256 !== undefined ? { sha256: spec.sha256 } : {}),
      ...(spec.expectedSize !== undefined ? { expectedSize: spec.expectedSize } : {}),
      ...(spec.allowUnverified === true ? { requireChecksum: false } : {}),
      signal: job.controller.signal,
      onProgress: (p) => {
        if (snapshot.state !== 'downloading') return;
        snapshot.progress = p;
        this.publish(id, 'progress');
        if (performance.now() - job.lastSave >= this.saveIntervalMs) this.save(job, 'running');
      },
      onRetry: (r) => {
        snapshot.retries = r.retry;
      },
    });
    job.done = download.then(
      async (r) => {
        snapshot.state = 'verified';
        snapshot.sha256 = r.sha256;
        snapshot.hashSource = r.hashSource;
        snapshot.resumed = r.resumed;
        snapshot.resumable = false;
        snapshot.progress = { bytesDownloaded: r.bytes, totalBytes: r.bytes, bytesPerSecond: snapshot.progress.bytesPerSecond, etaSeconds: 0 };
        snapshot.finishedAt = new Date().toISOString();
        this.dropRecord(job);
        await job.saving;
        this.publish(id, 'verified');
        this.prune();
        return { ...snapshot };
      },
      async (err: unknown) => {
        snapshot.state = isWestfallError(err, 'aborted') ? 'cancelled' : 'error';
        snapshot.error = isWestfallError(err)
          ? { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) }
          : { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
        snapshot.finishedAt = new Date().toISOString();
        snapshot.resumable = true;
        // What is kept on disk, as the downloader counted it when it stopped (a progress event may lag).
        const kept = (snapshot.error.details as { bytesDownloaded?: unknown } | undefined)?.bytesDownloaded;
        if (typeof kept === 'number') snapshot.progress = { ...snapshot.progress, bytesDownloaded: kept };
        snapshot.progress = { ...snapshot.progress, bytesPerSecond: 0, etaSeconds: null };
        // A shutdown is not the user's decision: the record stays `running` for the next process.
        this.save(job, job.stop === 'shutdown' ? 'running' : snapshot.state === 'cancelled' ? 'paused' : 'failed');
        await job.saving;
        this.publish(id, 'error');
        this.prune();
        return { ...snapshot };
      },
    );
  }

  private recordPath(id: string): string {
    return join(this.modelsDir, DOWNLOAD_RECORDS_DIR, `${id}.json`);
  }

  private save(job: Job, status: DownloadJobRecord['status']): void {
    if (!job.persisted) return;
    job.lastSave = performance.now();
    const { spec, snapshot } = job;
    const record: DownloadJobRecord = {
      version: 1,
      id: snapshot.id,
      ...spec,
      status,
      bytesDownloaded: snapshot.progress.bytesDownloaded,
      totalBytes: snapshot.progress.totalBytes,
      startedAt: snapshot.startedAt,
      updatedAt: new Date().toISOString(),
      ...(snapshot.error !== undefined && status !== 'running' ? { error: snapshot.error } : {}),
    };
    const path = this.recordPath(snapshot.id);
    job.saving = job.saving.then(async () => {
      if (!job.persisted) return;
      try {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.tmp`;
        await writeFile(tmp, JSON.stringify(record));
        await rename(tmp, path);
      } catch {
        // A record that cannot be written costs only the resume after a restart; the download goes on.
      }
    });
  }

  private dropRecord(job: Job): void {
    job.persisted = false;
    const path = this.recordPath(job.snapshot.id);
    job.saving = job.saving.then(() => unlink(path).catch(() => {}));
  }

  private async recoverRecords(): Promise<DownloadSnapshot[]> {
    const dir = join(this.modelsDir, DOWNLOAD_RECORDS_DIR);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const records: DownloadJobRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        const parsed = recordSchema.safeParse(JSON.parse(await readFile(join(dir, name), 'utf8')));
        if (parsed.success && `${parsed.data.id}.json` === name) records.push(parsed.data as DownloadJobRecord);
      } catch {
        // unreadable: skipped (a half-written record is only ever a .tmp)
      }
    }
    records.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const out: DownloadSnapshot[] = [];
    for (const r of records) {
      if (this.jobs.has(r.id)) continue;
      const spec: JobSpec = { url: r.url, fileName: r.fileName };
      if (r.sha256 !== undefined) spec.sha256 = r.sha256;
      if (r.expectedSize !== undefined) spec.expectedSize = r.expectedSize;
      if (r.catalogId !== undefined) spec.catalogId = r.catalogId;
      if (r.allowUnverified === true) spec.allowUnverified = true;
      let installed = false;
      try {
        await this.checkNotInstalled(r.fileName);
      } catch {
        installed = true;
      }
      const onDisk = await stat(partPathOf(this.pathOf(r.fileName))).then((s) => s.size, () => 0);
      const snapshot: DownloadSnapshot = {
        id: r.id,
        fileName: r.fileName,
        url: r.url,
        state: r.status === 'paused' ? 'cancelled' : 'error',
        progress: { bytesDownloaded: onDisk, totalBytes: r.totalBytes ?? r.expectedSize ?? null, bytesPerSecond: 0, etaSeconds: null },
        startedAt: r.startedAt,
        finishedAt: r.updatedAt,
        resumable: true,
        error: r.error ?? { code: 'download_interrupted', message: 'The backend stopped during the download; it can be resumed' },
      };
      if (r.catalogId !== undefined) snapshot.catalogId = r.catalogId;
      const job = this.newJob(spec, snapshot);
      const duplicate = [...this.jobs.values()].some((j) => j.snapshot.fileName === r.fileName);
      if (installed || duplicate) {
        this.dropRecord(job);
        await job.saving;
        continue;
      }
      this.jobs.set(r.id, job);
      if (r.status === 'running' && this.autoResume) {
        snapshot.state = 'downloading';
        delete snapshot.error;
        delete snapshot.finishedAt;
        delete snapshot.resumable;
        this.run(job);
      }
      out.push({ ...snapshot });
    }
    return out;
  }

  private job(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw new WestfallError('download_job_not_found', `No download with id ${id}`, { details: { id } });
    return j;
  }

  private publish(id: string, type: DownloadEventType): void {
    const j = this.jobs.get(id);
    const snap = j?.snapshot;
    if (!snap) return;
    this.emit('download', { id, type, download: { ...snap, progress: { ...snap.progress } } });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => isTerminal(j.snapshot.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) {
      this.jobs.delete(j.snapshot.id);
    }
  }
}
