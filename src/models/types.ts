// The model store's shapes as the API sends them. This file imports nothing from Node, so the renderer
// imports these types (type-only) instead of keeping copies that could drift.
import type { ErrorCode } from '../errors.js';
import type { ModelStatus } from '../server/schemas.js';
import type { CatalogEntry } from './catalog-schema.js';

export interface InstalledModel {
  fileName: string;
  path: string;
  sizeBytes: number;
  modifiedAt: string;
  /** False when the GGUF header could not be read; `error` says why. */
  valid: boolean;
  architecture?: string;
  name?: string;
  parameterCount?: number;
  contextLength?: number;
  quantization?: string;
  /** The catalog entry with this file name, if any. */
  catalogId?: string;
  error?: string;
}

export interface PartialDownload {
  fileName: string;
  partPath: string;
  bytes: number;
}

export interface DownloadProgress {
  bytesDownloaded: number;
  /** null while the size is unknown (no Content-Length). */
  totalBytes: number | null;
  /** Exponentially smoothed transfer rate of this run (resumed bytes are not counted as speed). */
  bytesPerSecond: number;
  /** null when the total or the rate is unknown. */
  etaSeconds: number | null;
}

export type DownloadState = 'downloading' | 'verified' | 'error' | 'cancelled';

export interface DownloadSnapshot {
  id: string;
  fileName: string;
  url: string;
  catalogId?: string;
  state: DownloadState;
  progress: DownloadProgress;
  startedAt: string;
  finishedAt?: string;
  /** Set once verified. */
  sha256?: string;
  /** Where the expected SHA-256 came from; 'none': none was known, so the file was downloaded unverified. */
  hashSource?: 'option' | 'x-linked-etag' | 'none';
  resumed?: boolean;
  /** Automatic retries (after cut connections or server errors) in the current run. */
  retries?: number;
  /** True when a cancelled or failed download can be resumed (POST /api/models/downloads/:id/resume). */
  resumable?: boolean;
  error?: { code: ErrorCode | 'internal_error'; message: string; details?: unknown };
}

/** GET /api/models */
export interface ModelsListing {
  modelsDir: string;
  models: (InstalledModel & { loaded: boolean })[];
  partial: PartialDownload[];
  loaded: ModelStatus | null;
  firstRun: boolean;
  defaultModel?: string;
}

/** GET /api/models/catalog */
export interface CatalogListing {
  /** The catalog's fixed first-run entry. */
  default: string | null;
  /** The most capable entry that fits this computer (src/models/fit.ts); the smallest when none fits. */
  recommended: string | null;
  /** The context (tokens) the entries' memoryBytes are for. */
  memoryContext: number;
  machine: {
    totalMemoryBytes: number;
    gpuMemoryBytes: number | null;
    /** What a model may use here; an entry fits when its memoryBytes is at most this. */
    budgetBytes: number;
  };
  models: (CatalogEntry & { installed: boolean; fits: boolean; recommended: boolean })[];
}

/** One GGUF file of a hub repository (src/models/hub.ts). */
export interface HubFile {
  path: string;
  fileName: string;
  /** null when the hub does not say. */
  sizeBytes: number | null;
  /** The file's published SHA-256 (its LFS object id), when listed. */
  sha256?: string;
  quantization?: string;
  url: string;
  /** False when the name is not one the models folder accepts (letters, digits, dot, dash, underscore). */
  downloadable: boolean;
  /** Estimated memory at an 8k context, and whether that fits this computer's budget (with a size only). */
  memoryBytes?: number;
  fits?: boolean;
}

export interface HubModel {
  repo: string;
  downloads?: number;
  likes?: number;
  files: HubFile[];
  /** Files of split models (name-00001-of-0000N.gguf), which cannot be downloaded as one model. */
  skippedSplit: number;
  /** Why the file list could not be read. */
  error?: string;
}

/** GET /api/models/hub/search */
export interface HubSearchResult {
  query: string;
  hubUrl: string;
  /** What a model may use on this computer (see fit.ts). */
  budgetBytes: number;
  models: HubModel[];
}
