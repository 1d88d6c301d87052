// The contract between the model router and whatever runs models: this process's own llama.cpp models
// (local-engine.ts) or a remote OpenAI-compatible server (src/providers). The router only sees this file's
// types, so an engine can be added or removed at run time (ModelRouter.addEngine / removeEngine).
import type { ChatFormat, ChatFormatOptions, ChatTemplateMessage, GenerationChunk, GenerationResult, ReasoningBudget } from '../../engine/index.js';
import type { WestfallError } from '../../errors.js';
import type { GenerationParams, Timings } from '../schemas.js';

export interface ManagedResult extends Omit<GenerationResult, 'timings'> {
  timings: Timings;
}

/** A scheduled generation: iterate it for chunks, await `result` for usage and timings. */
export interface ManagedGeneration extends AsyncIterable<GenerationChunk> {
  readonly id: string;
  /** The model that answers (the name clients see in `model`). */
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
  /** The model to answer (a name from GET /v1/models); absent: the default model. */
  model?: string | undefined;
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
  /** Seconds to keep a local model loaded after this request (-1: until unloaded; 0: unload when idle). */
  keepAlive?: number | undefined;
  signal?: AbortSignal;
}

export interface CompletionJob {
  model?: string | undefined;
  prompt: string;
  params?: GenerationParams;
  keepAlive?: number | undefined;
  signal?: AbortSignal;
}

export interface EmbedJob {
  model?: string | undefined;
  texts: string[];
  keepAlive?: number | undefined;
  signal?: AbortSignal;
}

export interface EmbedResult {
  embeddings: Float32Array[];
  promptTokens: number;
  modelId: string;
}

export interface GenerationEvent {
  kind: 'chat' | 'completion';
  /** The model that generated (absent from engines that do not say). */
  model?: string;
  stopReason: GenerationResult['stopReason'] | 'error';
  usage: GenerationResult['usage'] | null;
  timings: Timings | null;
  errorCode?: string;
}

/** Where a model runs and whether it is ready, as GET /v1/models and the model picker show it. */
export interface ModelEntry {
  /** The name requests use in `model`. Unique across engines: the first engine that lists a name serves it. */
  id: string;
  /** The engine's id ('local' for this process's models; a provider's id for a remote server). */
  engine: string;
  kind: 'local' | 'remote';
  /** Where it runs, for people: 'this computer', or the remote host (never a URL with credentials). */
  location: string;
  /** Local: none | loading | ready | error. Remote engines report 'ready' when reachable. */
  state: 'none' | 'loading' | 'ready' | 'error';
  /** Load progress 0..1 while loading. */
  progress?: number | null;
  /** Whether the router sends requests that name no model here. */
  default?: boolean;
  /** Local models: the file, its size, and the memory its loaded form takes (estimated by the planner). */
  path?: string;
  fileSizeBytes?: number;
  memoryBytes?: number | null;
  /** Local models: context size and GPU layers it loads (or loaded) with. */
  contextSize?: number | null;
  gpuLayers?: number | null;
  /** When it was loaded / last used (ISO), and when it will be unloaded if still idle (null: kept). */
  loadedAt?: string | null;
  lastUsedAt?: string | null;
  expiresAt?: string | null;
  error?: { code: string; message: string } | null;
}

/** What an engine reports about itself (GET /api/models/engines, Settings). */
export interface EngineStatus {
  id: string;
  kind: 'local' | 'remote';
  /** Healthy and able to take requests. */
  ok: boolean;
  /** Why not, or a short note ("3 models"). */
  message?: string;
}

/**
 * An engine: something that serves named models. The router calls `models()` to know which names it
 * serves, then sends each request to the engine of its model. `chat` resolves once the generation is
 * scheduled (after any load or connection), and rejects with a WestfallError (a catalog code) when it
 * cannot be (model_not_found, model_too_large, queue_full, an upstream error...).
 *
 * A remote engine's generation yields the reply's text in the model's own words as `GenerationChunk`s and
 * sets `chatFormat` to null; tool calls and reasoning that arrive as structured fields are the engine's to
 * turn into that text or into the reply reader's deltas (see src/providers).
 */
export interface ChatEngine {
  readonly id: string;
  readonly kind: 'local' | 'remote';
  /** Every model this engine can serve now (cheap: called on every routed request). */
  models(): ModelEntry[];
  chat(job: ChatJob & { model: string }): Promise<ManagedGeneration>;
  /** Raw text completion; engines without it make /v1/completions answer not_supported. */
  complete?(job: CompletionJob & { model: string }): Promise<ManagedGeneration>;
  embed?(job: EmbedJob & { model: string }): Promise<EmbedResult>;
  status(): EngineStatus;
  /** Ends running work and frees resources (the router calls it on removeEngine and at shutdown). */
  close?(): Promise<void>;
}
