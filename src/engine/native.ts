// Loads the westfall_llama addon (prebuilds/ first, then build/) and describes its raw surface.
// Only this folder talks to it; everything above goes through Model and Context.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WestfallError, type ErrorCode, ERROR_CODES } from '../errors.js';

export interface NativeModelInfo {
  vocabOnly: boolean;
  vocabSize: number;
  bosToken: number;
  eosToken: number;
  eotToken: number;
  addBos: boolean;
  description?: string;
  parameterCount?: number;
  sizeBytes?: number;
  contextLength?: number;
  embeddingLength?: number;
  layerCount?: number;
  headCount?: number;
  headCountKv?: number;
  hasEncoder?: boolean;
  isRecurrent?: boolean;
  chatTemplate: string | null;
  metadata: Record<string, string>;
}

export interface NativeChatTemplateResult {
  prompt: string;
  additionalStops: string[];
  grammar: string;
  grammarLazy: boolean;
  format: string;
}

export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  isEndOfGeneration(token: number): boolean;
  applyChatTemplate(messagesJson: string, options: { tools?: string; jsonSchema?: string; addGenerationPrompt?: boolean }): NativeChatTemplateResult;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeGenerationResult {
  stopReason: 'eos' | 'stop_sequence' | 'max_tokens' | 'context_full' | 'aborted';
  promptTokens: number;
  reusedPromptTokens: number;
  evaluatedPromptTokens: number;
  generatedTokens: number;
  promptMs: number;
  generationMs: number;
  timeToFirstTokenMs: number;
}

export type NativeEvent =
  | { kind: 'chunk'; payload: { text: string; tokens: Int32Array } }
  | { kind: 'done'; payload: NativeGenerationResult }
  | { kind: 'error'; payload: Error & { code?: string } };

export interface NativeContext {
  generate(sequence: number, tokens: Int32Array, params: Record<string, unknown>): number;
  cancel(jobId: number): void;
  embed(tokens: Int32Array): Promise<Float32Array>;
  saveState(sequence: number, path: string): Promise<number>;
  loadState(sequence: number, path: string): Promise<Int32Array>;
  clearSequence(sequence: number): Promise<void>;
  info(): {
    contextSize: number;
    contextSizePerSequence: number;
    batchSize: number;
    ubatchSize: number;
    sequences: number;
    threads: number;
    threadsBatch: number;
  };
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeSystemInfo {
  backend: string;
  llamaCppVersion: string;
  cpuFeatures: string;
  gpuOffload: boolean;
  mmap: boolean;
  devices: { name: string; description: string; type: string; memoryFree: number; memoryTotal: number }[];
}

export interface NativeAddon {
  loadModel(
    path: string,
    options: { gpuLayers?: number; vocabOnly?: boolean; useMmap?: boolean },
    onProgress?: (progress: number) => void,
  ): { promise: Promise<NativeModel>; cancel(): void };
  createContext(
    model: NativeModel,
    options: Record<string, unknown>,
    onEvent: (jobId: number, kind: NativeEvent['kind'], payload: unknown) => void,
  ): Promise<NativeContext>;
  setLogCallback(fn: ((level: string, message: string) => void) | null, minLevel: string): void;
  systemInfo(): NativeSystemInfo;
  jsonSchemaToGrammar(schemaJson: string): string;
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    try {
      addon = load(packageRoot);
    } catch (err) {
      throw new WestfallError('native_error', `the native addon could not be loaded; run \`npm run build:native\` (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  return addon;
}

// Native errors carry a string `code` from the catalog; anything else is reported as native_error.
export function toWestfallError(err: unknown): WestfallError {
  if (err instanceof WestfallError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && e.code in ERROR_CODES ? (e.code as ErrorCode) : 'native_error';
  return new WestfallError(code, typeof e?.message === 'string' ? e.message : String(err), { cause: err });
}

export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toWestfallError(err);
  }
}
