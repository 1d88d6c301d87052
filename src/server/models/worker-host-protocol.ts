// Messages between the backend and the child process that holds a model split over workers
// (worker-host.ts ⇄ worker-host-child.ts), over Node's IPC channel with 'advanced' serialization, so typed
// arrays (tokens) and plain objects cross as they are. Nothing here is a network protocol.
import type { GenerationChunk } from '../../engine/index.js';
import type { ChatFormat, Placement } from '../../engine/index.js';
import type { ChatJob, CompletionJob, EmbedResult, GenerationEvent, ManagedResult } from './engine.js';
import type { ModelStatus } from '../schemas.js';
import type { LoaderDefaults, ModelSettings } from './loader.js';

export interface HostConfig {
  modelPath: string;
  modelId: string;
  workers: string[];
  split?: number[];
  settings: ModelSettings;
  /** The loader defaults that cross a process boundary (no functions, no caches). */
  defaults: Omit<LoaderDefaults, 'profileFor' | 'promptCache' | 'logger'>;
}

export interface WireError {
  code: string;
  message: string;
  details?: unknown;
}

export type ToChild =
  | { type: 'chat'; id: number; job: Omit<ChatJob, 'signal'> & { model: string } }
  | { type: 'complete'; id: number; job: Omit<CompletionJob, 'signal'> & { model: string } }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export type FromChild =
  | { type: 'progress'; progress: number }
  | { type: 'ready'; placement: Placement | null; status: ModelStatus; gpuLayers: number | null; memoryBytes: number | null }
  | { type: 'load-failed'; error: WireError }
  | { type: 'started'; id: number; genId: string; modelId: string; chatFormat: ChatFormat | null }
  | { type: 'chunk'; id: number; chunk: GenerationChunk }
  | { type: 'result'; id: number; result: ManagedResult }
  | { type: 'embedded'; id: number; result: EmbedResult }
  | { type: 'failed'; id: number; error: WireError; serverAbort?: boolean }
  | { type: 'generation'; event: GenerationEvent };
