// The models directory: what is installed (read from each GGUF header), deleting a model, and the running
// downloads, tracked by id with progress snapshots and events.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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

export type DownloadEventType = 'progress' | 'verified' | 'error';

export interface DownloadEvent {
  id: string;
  type: DownloadEventType;
  download: DownloadSnapshot;
}

export type DownloadRequest =
  | { catalogId: string }
  | { url: string; fileName: string; sha256?: string; expectedSize?: number };

export type DownloadDefaults = Pick<
  DownloadModelOptions,
  | 'fetchImpl'
  | 'statfsImpl'
  | 'diskMarginBytes'
  | 'retries'
  | 'retryDelayMs'
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
}

interface Job {
  snapshot: DownloadSnapshot;
  controller: AbortController;
  done: Promise<DownloadSnapshot>;
}

const TERMINAL: ReadonlySet<DownloadState> = new Set(['verified', 'error', 'cancelled']);
export const isTerminal = (s: DownloadState): boolean => TERMINAL.has(s);

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
  private readonly jobs = new Map<string, Job>();

  constructor(opts: ModelStoreOptions) {
    super();
    this.setMaxListeners(0);
    this.modelsDir = resolve(opts.modelsDir);
    this.catalog = opts.catalog ?? MODEL_CATALOG;
    this.defaults = opts.download ?? {};
    this.keepFinished = opts.keepFinished ?? 50;
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
    let url: string;
    let fileName: string;
    let sha256: string | undefined;
    let expectedSize: number | undefined;
    let catalogId: string | undefined;
    if ('catalogId' in req) {
      const e = getCatalogEntry(req.catalogId, this.catalog);
      ({ url, fileName, sha256, sizeBytes: expectedSize } = e);
      catalogId = e.id;
    } else {
      ({ url, fileName, sha256, expectedSize } = req);
    }
    const dest = this.pathOf(fileName);
    try {
      await stat(dest);
      throw new WestfallError('model_exists', `${fileName} is already installed`, { details: { fileName } });
    } catch (err) {
      if (isWestfallError(err)) throw err;
    }
    // No await from here to jobs.set: two concurrent requests cannot both pass this check.
    for (const j of this.jobs.values()) {
      if (j.snapshot.fileName === fileName && j.snapshot.state === 'downloading') {
        throw new WestfallError('download_in_progress', `${fileName} is already being downloaded (${j.snapshot.id})`, {
          details: { fileName, id: j.snapshot.id },
        });
      }
    }

    const id = randomUUID();
    const controller = new AbortController();
    const snapshot: DownloadSnapshot = {
      id,
      fileName,
      url,
      state: 'downloading',
      progress: { bytesDownloaded: 0, totalBytes: expectedSize ?? null, bytesPerSecond: 0, etaSeconds: null },
      startedAt: new Date().toISOString(),
    };
    if (catalogId !== undefined) snapshot.catalogId = catalogId;

    const done = downloadModel({
      ...this.defaults,
      url,
      dest,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(expectedSize !== undefined ? { expectedSize } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        if (snapshot.state !== 'downloading') return;
        snapshot.progress = p;
        this.publish(id, 'progress');
      },
    }).then(
      (r) => {
        snapshot.state = 'verified';
        snapshot.sha256 = r.sha256;
        snapshot.hashSource = r.hashSource;
        snapshot.resumed = r.resumed;
        snapshot.progress = { bytesDownloaded: r.bytes, totalBytes: r.bytes, bytesPerSecond: snapshot.progress.bytesPerSecond, etaSeconds: 0 };
        snapshot.finishedAt = new Date().toISOString();
        this.publish(id, 'verified');
        this.prune();
        return { ...snapshot };
      },
      (err: unknown) => {
        snapshot.state = isWestfallError(err, 'aborted') ? 'cancelled' : 'error';
        snapshot.error = isWestfallError(err)
          ? { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) }
          : { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
        snapshot.finishedAt = new Date().toISOString();
        this.publish(id, 'error');
        this.prune();
        return { ...snapshot };
      },
    );
    this.jobs.set(id, { snapshot, controller, done });
    return { ...snapshot };
  }

  getDownload(id: string): DownloadSnapshot {
    return { ...this.job(id).snapshot };
  }

  listDownloads(): DownloadSnapshot[] {
    return [...this.jobs.values()].map((j) => ({ ...j.snapshot }));
  }

  /** Cancels a running download (its `.part` is kept so a later download resumes) and waits for it to stop. */
  async cancelDownload(id: string, opts: { discardPartial?: boolean } = {}): Promise<DownloadSnapshot> {
    const job = this.job(id);
    if (job.snapshot.state === 'downloading') job.controller.abort(new Error('cancelled'));
    const snap = await job.done;
    if (opts.discardPartial && snap.state !== 'verified') {
      await unlink(partPathOf(this.pathOf(snap.fileName))).catch(() => {});
    }
    return snap;
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

  /** Cancels every running download and waits for them to stop. */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.snapshot.state === 'downloading');
    for (const j of running) j.controller.abort(new Error('shutting down'));
    await Promise.all(running.map((j) => j.done));
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
