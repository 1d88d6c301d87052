// The backend's types. Everything src/server/schemas.ts defines is imported from there (type-only, so no
// zod in the bundle): both sides agree on one definition. The model manager's shapes (src/models, which
// imports Node modules) are mirrored here structurally.
export type {
  ChatMessage,
  ErrorBody,
  GenerationParams,
  HealthResponse,
  ModelState,
  ModelStatus,
  ModelSummary,
  SchedulerStats,
  StopReason,
  SystemResponse,
  Timings,
  Tool,
  Usage,
  WsCancelMessage,
  WsChatMessage,
  WsClientMessage,
  WsDoneMessage,
  WsErrorMessage,
  WsServerMessage,
  WsTokenMessage,
} from '../../../src/server/schemas.js';

import type { ModelStatus } from '../../../src/server/schemas.js';

/** The WebSocket subprotocols (mirrors WS_SUBPROTOCOL and WS_TOKEN_PROTOCOL_PREFIX of schemas.ts). */
export const WS_SUBPROTOCOL = 'westfall.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';

// ---------------------------------------------------------------------------------------------------
// /api/models (src/server/routes/models.ts, src/models/store.ts)

export interface InstalledModel {
  fileName: string;
  path: string;
  sizeBytes: number;
  modifiedAt: string;
  valid: boolean;
  architecture?: string;
  name?: string;
  parameterCount?: number;
  contextLength?: number;
  quantization?: string;
  catalogId?: string;
  error?: string;
  loaded: boolean;
}

export interface PartialDownload {
  fileName: string;
  partPath: string;
  bytes: number;
}

export interface ModelsResponse {
  modelsDir: string;
  models: InstalledModel[];
  partial: PartialDownload[];
  loaded: ModelStatus | null;
  firstRun: boolean;
  defaultModel?: string;
}

export interface CatalogModel {
  id: string;
  name: string;
  family: string;
  parameters: string;
  quantization: string;
  fileName: string;
  url: string;
  sizeBytes: number;
  license: string;
  licenseUrl?: string;
  contextLength: number;
  sha256?: string;
  hashSource: 'catalog' | 'x-linked-etag';
  description: string;
  default?: boolean;
  installed: boolean;
}

export interface CatalogResponse {
  default: string | null;
  models: CatalogModel[];
}

export type DownloadState = 'downloading' | 'verified' | 'error' | 'cancelled';

export interface DownloadProgress {
  bytesDownloaded: number;
  totalBytes: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface DownloadSnapshot {
  id: string;
  fileName: string;
  url: string;
  catalogId?: string;
  state: DownloadState;
  progress: DownloadProgress;
  startedAt: string;
  finishedAt?: string;
  sha256?: string;
  hashSource?: 'option' | 'x-linked-etag';
  resumed?: boolean;
  error?: { code: string; message: string; details?: unknown };
}

export type DownloadRequest = { catalogId: string } | { url: string; fileName?: string; sha256?: string };

export interface LoadRequest {
  fileName: string;
  contextSize?: number;
  gpuLayers?: number | 'auto';
}
