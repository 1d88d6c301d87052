// Loads the westfall_llama addon and describes its raw surface. Which build variant is loaded (cpu, cuda,
// vulkan, metal; local builds first, then prebuilds/) is decided by variants.ts on first use.
// Only this folder talks to the addon; everything above goes through Model and Context.
import { createRequire } from 'node:module';
import path from 'node:path';
import { WestfallError, type ErrorCode, ERROR_CODES } from '../errors.js';
import {
  describeAttempts,
  isBackend,
  packageRoot,
  selectVariant,
  selectVariantSync,
  type BackendRequest,
  type SelectedVariant,
  type SelectionOptions,
  type VariantReport,
} from './variants.js';

export type { Backend, BackendRequest, SelectedVariant, VariantAttempt, VariantReport } from './variants.js';

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

/** common_chat_templates_apply's result (see native/src/objects/chat_parser.h). */
export interface NativeChatFormat {
  prompt: string;
  format: string;
  formatId: number;
  grammar: string;
  grammarLazy: boolean;
  grammarTriggers: { type: string; value: string }[];
  preservedTokens: string[];
  additionalStops: string[];
  generationPrompt: string;
  supportsThinking: boolean;
  thinkingStartTag: string;
  thinkingEndTags: string[];
  parser: string;
}

export interface NativeChatParser {
  parse(
    text: string,
    isPartial: boolean,
  ): { message: { content: string; reasoning: string; toolCalls: { id: string; name: string; arguments: string }[] }; error?: string };
}

export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  tokenBytes(tokens: Int32Array): { bytes: Buffer; ends: Uint32Array };
  isEndOfGeneration(token: number): boolean;
  applyChat(requestJson: string): NativeChatFormat;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeGenerationResult {
  stopReason: 'eos' | 'stop_sequence' | 'max_tokens' | 'context_full' | 'aborted';
  promptTokens: number;
  reusedPromptTokens: number;
  evaluatedPromptTokens: number;
  /** Of the reused tokens: restored from a saved state on disk, or copied from another sequence. */
  restoredPromptTokens: number;
  copiedPromptTokens: number;
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
  /** The sequence's tokens and KV state; null while it generates or when it holds nothing. */
  stateData(sequence: number): Promise<{ tokens: Int32Array; data: Buffer } | null>;
  clearSequence(sequence: number): Promise<void>;
  /** Makes the buffer saved states are restored through this large now (pages touched). */
  reserveRestore(bytes: number): void;
  cacheState(): Promise<{ tokens: number; resident: boolean; parkedBytes: number }[]>;
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
    options: { gpuLayers?: number; vocabOnly?: boolean; useMmap?: boolean; hugePages?: boolean; devices?: string[]; tensorSplit?: number[] },
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
  /** Starts ggml's RPC server on its own thread (for `westfall worker`); returns the devices served. */
  rpcServe(options: { endpoint: string; threads: number; devices: string[]; memoryBytes: number; cacheDir?: string }): {
    name: string;
    description: string;
    memoryFree: number;
    memoryTotal: number;
  }[];
  /** Registers a worker's devices with ggml's client. Aborts the process if the worker does not answer: probe first. */
  rpcAddServer(endpoint: string): { name: string; description: string; memoryFree: number; memoryTotal: number }[];
  createChatParser(options: {
    formatId: number;
    parser: string;
    generationPrompt: string;
    reasoningFormat: string;
    reasoningInContent: boolean;
    parseToolCalls: boolean;
  }): NativeChatParser;
}

export interface NativeSelectionOptions extends Omit<SelectionOptions, 'backend'> {
  /** auto | cuda | vulkan | metal | cpu; default WESTFALL_BACKEND, then auto. */
  backend?: BackendRequest;
  /**
   * Where to report a GPU variant that was found but failed its probe or could not be loaded (the
   * engine then runs on the CPU). Default: one line on stderr. null: silent (the report keeps it).
   */
  log?: ((message: string) => void) | null;
}

let addon: NativeAddon | undefined;
let report: VariantReport | null = null;
let selection: NativeSelectionOptions = {};
let pending: Promise<VariantReport> | null = null;

/**
 * Settings for the variant choice; call before the first native() (later calls only affect a reset).
 * The backend setting of the config (if any) belongs here; WESTFALL_BACKEND is read when it is absent.
 */
export function configureNative(options: NativeSelectionOptions): void {
  selection = { ...options };
}

function adopt(result: { addon: NativeAddon | null; report: VariantReport }): NativeAddon {
  report = result.report;
  const log = selection.log === undefined ? (m: string) => process.stderr.write(`[westfall] ${m}\n`) : selection.log;
  if (log) {
    for (const a of result.report.attempts) {
      if (a.outcome === 'failed') log(`${a.backend} variant (${a.label ?? a.file ?? '?'}) not used: ${a.reason}`);
    }
    if (result.addon && result.report.attempts.some((a) => a.outcome === 'failed')) {
      log(`using the ${result.report.selected?.backend} variant (${result.report.selected?.label})`);
    }
  }
  if (result.addon) return result.addon;
  const tried = describeAttempts(result.report).join('; ');
  if (result.report.attempts.some((a) => a.file)) {
    // Variants exist but none runs: do not let node-gyp-build load an unprobed GPU build in-process.
    throw new WestfallError('native_error', `no build variant of the native addon runs here: ${tried}`, {
      details: { attempts: result.report.attempts },
    });
  }
  // No variant found by name: node-gyp-build's own lookup (build/Release, then prebuilds/) as before.
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as ((dir: string) => NativeAddon) & { resolve(dir: string): string };
  try {
    const file = load.resolve(packageRoot);
    const a = load(packageRoot);
    report.selected = { backend: 'cpu', file, label: path.relative(packageRoot, file) || file, source: 'node-gyp-build', dynamicCpu: false };
    try {
      report.systemInfo = a.systemInfo();
      if (isBackend(report.systemInfo.backend)) report.selected.backend = report.systemInfo.backend;
    } catch {
      // keep what we know
    }
    return a;
  } catch (err) {
    throw new WestfallError(
      'native_error',
      `the native addon could not be loaded; run \`npm run build:native\` (${(err as Error).message.split('\n')[0]}${tried ? `; ${tried}` : ''})`,
      { cause: err, details: { attempts: result.report.attempts } },
    );
  }
}

function options(): SelectionOptions {
  const { log: _log, ...rest } = selection;
  return rest;
}

/** The addon: on first use, the best variant for this machine is chosen (see variants.ts). */
export function native(): NativeAddon {
  if (!addon) {
    let result;
    try {
      result = selectVariantSync(options());
    } catch (err) {
      if (err instanceof RangeError) throw new WestfallError('invalid_params', err.message, { cause: err });
      throw err;
    }
    addon = adopt(result);
  }
  return addon;
}

/**
 * Chooses the variant without blocking the event loop while GPU variants are probed (a server or CLI
 * calls this at startup; native() then returns the chosen addon). Resolves with the report.
 */
export function initNative(opts?: NativeSelectionOptions): Promise<VariantReport> {
  if (opts) configureNative(opts);
  if (addon && report) return Promise.resolve(report);
  pending ??= (async () => {
    try {
      let result;
      try {
        result = await selectVariant(options());
      } catch (err) {
        if (err instanceof RangeError) throw new WestfallError('invalid_params', err.message, { cause: err });
        throw err;
      }
      if (!addon) addon = adopt(result);
      return report!;
    } finally {
      pending = null;
    }
  })();
  return pending;
}

/** The variant in use, or null before the addon was loaded. */
export function selectedVariant(): SelectedVariant | null {
  return report?.selected ?? null;
}

/** What was tried and why (null before the addon was loaded). */
export function variantReport(): VariantReport | null {
  return report;
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
