// The backend's types, imported type-only (so no zod in the bundle) from src/server/schemas.ts and from
// src/models/types.ts (the model store's Node-free shapes): both sides agree on one definition.
export type {
  ChatMessage,
  ChatResponse,
  ErrorBody,
  GenerationParams,
  HealthResponse,
  ModelState,
  ModelStatus,
  ModelSummary,
  SchedulerStats,
  StopReason,
  SystemResponse,
  ThinkingOptions,
  Timings,
  Tool,
  Usage,
  WsCancelMessage,
  WsChatMessage,
  WsClientMessage,
  WsDoneMessage,
  WsErrorMessage,
  WsReasoningMessage,
  WsServerMessage,
  WsTokenMessage,
} from '../../../src/server/schemas.js';


/** The WebSocket subprotocols (mirrors WS_SUBPROTOCOL and WS_TOKEN_PROTOCOL_PREFIX of schemas.ts). */
export const WS_SUBPROTOCOL = 'westfall.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';

// ---------------------------------------------------------------------------------------------------
// /api/models (src/server/routes/models.ts, src/models/store.ts)

export type { DownloadProgress, DownloadSnapshot, DownloadState, PartialDownload } from '../../../src/models/types.js';
import type { CatalogListing, ModelsListing } from '../../../src/models/types.js';

/** GET /api/models: installed models, each with whether it is the loaded one. */
export type ModelsResponse = ModelsListing;
export type InstalledModel = ModelsListing['models'][number];
/** GET /api/models/catalog */
export type CatalogResponse = CatalogListing;
export type CatalogModel = CatalogListing['models'][number];

export type DownloadRequest = { catalogId: string } | { url: string; fileName?: string; sha256?: string; expectedSize?: number };
/** GET /api/models/hub/search */
export type { HubFile, HubModel, HubSearchResult } from '../../../src/models/types.js';

export interface LoadRequest {
  fileName: string;
  contextSize?: number;
  gpuLayers?: number | 'auto';
}

// ---------------------------------------------------------------------------------------------------
// /api/conversations (src/server/routes/conversations.ts). Mirrored rather than imported: the stored
// shapes live in src/storage/conversations.ts, which is Node code (better-sqlite3).

export interface StoredToolCallView {
  id: string;
  name: string;
  arguments: unknown;
}

/** A saved message as GET /api/conversations/:id returns it. */
export interface StoredMessageView {
  id: number;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Assistant: its thinking, kept apart from the answer. */
  reasoning?: string;
  /** Assistant: how long it thought (ms). */
  thinkingMs?: number;
  toolCalls?: StoredToolCallView[];
  toolCallId?: string;
  name?: string;
}

/** A message as POST /api/conversations(/:id/messages) takes it. */
export type NewStoredMessage = Omit<StoredMessageView, 'id'>;
