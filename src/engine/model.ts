// Model: a loaded GGUF. The file is checked by our own GGUF reader (bounds, types, offsets) before
// llama.cpp sees it, so a corrupt download is a typed error instead of undefined behaviour.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import path from 'node:path';
import { WestfallError } from '../errors.js';
import { readGgufHeader } from '../gguf/reader.js';
import { getArchitecture, getMetadataNumber, getModelName } from '../gguf/metadata.js';
import { Context } from './context.js';
import { toChatFormat, type ChatFormat, type ChatFormatOptions } from './chat-format.js';
import { checkJsonSchema } from './grammar-check.js';
import { addWorkers, planSplit } from './rpc.js';
import { callNative, native, toWestfallError, type NativeModel } from './native.js';
import {
  contextOptionsSchema,
  defaultThreads,
  loadModelOptionsSchema,
  parseOrThrow,
  type ContextOptions,
  type LoadModelOptions,
} from './options.js';

export interface ModelInfo {
  path: string;
  /** The file as it is on disk (name, size, modification time): saved KV states match only this file. */
  identity: string;
  architecture: string;
  name: string | null;
  description: string | null;
  parameterCount: number;
  contextLength: number;
  embeddingLength: number;
  layerCount: number;
  vocabSize: number;
  chatTemplate: string | null;
  fileSizeBytes: number;
  tensorSizeBytes: number;
  vocabOnly: boolean;
  metadata: Record<string, string>;
  /** Where the layers went when the model is split over workers; null when all are local. */
  placement: Placement | null;
}

export interface Placement {
  /** Repeating layers kept on this machine. */
  localLayers: number;
  workers: { endpoint: string; device: string; layers: number; memoryFree: number; memoryTotal: number }[];
}

export interface ChatTemplateMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface RenderedChat {
  prompt: string;
  stop: string[];
  /** The format's grammar (tool calls, JSON schema); see `chatFormat` for how to apply it. */
  grammar: string | null;
  /** llama.cpp's name of the chat format. */
  format: string;
  chatFormat: ChatFormat;
}

export interface TokenizedChat extends RenderedChat {
  tokens: Int32Array;
}

// Private-use code points: they never occur in a tokenizer's special tokens, so a message's content can
// stand in the template as a marker and be tokenized on its own afterwards.
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
// Kept message tokenizations: short texts cost less to tokenize than to look up; the caps bound the
// memory (a pasted document may be long) to a few MiB of text and its tokens.
const MESSAGE_TOKENS_MIN_CHARS = 32;
const MESSAGE_TOKENS_MAX_CHARS = 4 * 1024 * 1024;
const MESSAGE_TOKENS_MAX_ENTRIES = 1024;

const SHORT_ID = /^[A-Za-z0-9]{9}$/;

/** The messages with every tool-call id replaced by 9 letters and digits (the same id, the same stand-in); null if none changes. */
function withShortCallIds(messages: readonly ChatTemplateMessage[]): ChatTemplateMessage[] | null {
  const ids = new Map<string, string>();
  const short = (id: unknown): unknown => {
    if (typeof id !== 'string' || SHORT_ID.test(id)) return id;
    let s = ids.get(id);
    if (!s) {
      s = createHash('sha256').update(id).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 9).padEnd(9, '0');
      ids.set(id, s);
    }
    return s;
  };
  const out = messages.map((m) => {
    const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as { id?: unknown }[]).map((c) => ({ ...c, id: short(c.id) })) : undefined;
    return { ...m, ...(calls ? { tool_calls: calls } : {}), ...(m.tool_call_id !== undefined ? { tool_call_id: short(m.tool_call_id) } : {}) };
  });
  return ids.size > 0 ? out : null;
}

export async function loadModel(options: LoadModelOptions): Promise<Model> {
  const o = parseOrThrow(loadModelOptionsSchema, options, 'model options');
  let size: number;
  let identity: string;
  try {
    const st = await stat(o.path);
    if (!st.isFile()) throw new WestfallError('invalid_model', `${o.path} is not a file`, { details: { path: o.path } });
    size = st.size;
    identity = `${path.basename(o.path)}:${st.size}:${Math.round(st.mtimeMs)}`;
  } catch (err) {
    if (err instanceof WestfallError) throw err;
    throw new WestfallError('model_not_found', `model file not found: ${o.path}`, { cause: err, details: { path: o.path } });
  }
  if (o.signal?.aborted) throw new WestfallError('aborted', 'model loading was aborted');
  const header = await readGgufHeader(o.path);

  let placement: Placement | null = null;
  let split: { gpuLayers: number; devices?: string[]; tensorSplit?: number[] } = { gpuLayers: o.gpuLayers };
  if (o.workers.length > 0) {
    const layerCount = getMetadataNumber(header, `${getArchitecture(header) ?? ''}.block_count`) ?? 0;
    if (!(layerCount > 0)) throw new WestfallError('invalid_model', `${path.basename(o.path)} does not say how many layers it has, so it cannot be split over workers`);
    const workers = await addWorkers(o.workers);
    const devices = workers.flatMap((w) => w.devices.map((d) => ({ ...d, endpoint: w.endpoint })));
    const cpu = native().systemInfo().devices.find((d) => d.type === 'cpu');
    const plan = planSplit(layerCount, cpu?.memoryFree ?? freemem(), devices.map((d) => d.memoryFree), o.split);
    placement = {
      localLayers: plan.layers[0]!,
      workers: devices.map((d, i) => ({ endpoint: d.endpoint, device: d.name, layers: plan.layers[i + 1]!, memoryFree: d.memoryFree, memoryTotal: d.memoryTotal })),
    };
    split = { gpuLayers: plan.gpuLayers, devices: devices.map((d) => d.name), tensorSplit: plan.tensorSplit };
  }

  const { promise, cancel } = callNative(() =>
    native().loadModel(o.path, { vocabOnly: o.vocabOnly, useMmap: o.useMmap, hugePages: o.hugePages, ...split }, options.onProgress),
  );
  const onAbort = () => cancel();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let nativeModel: NativeModel;
  try {
    nativeModel = await promise;
  } catch (err) {
    throw toWestfallError(err);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  const raw = nativeModel.info();
  const info: ModelInfo = {
    path: o.path,
    identity,
    architecture: getArchitecture(header) ?? 'unknown',
    name: getModelName(header) ?? null,
    description: raw.description ?? null,
    parameterCount: raw.parameterCount ?? 0,
    contextLength: raw.contextLength ?? 0,
    embeddingLength: raw.embeddingLength ?? 0,
    layerCount: raw.layerCount ?? 0,
    vocabSize: raw.vocabSize,
    chatTemplate: raw.chatTemplate,
    fileSizeBytes: size,
    tensorSizeBytes: raw.sizeBytes ?? 0,
    vocabOnly: raw.vocabOnly,
    metadata: raw.metadata,
    placement,
  };
  return new Model(nativeModel, info, raw.bosToken);
}

export class Model implements AsyncDisposable {
  readonly info: ModelInfo;
  #native: NativeModel | null;
  #contexts = new Set<Context>();
  #embeddingContext: Promise<Context> | null = null;
  #bos: number;
  // A conversation sends every earlier message again with each turn; their tokens are kept (as plain text,
  // least recently used first out) so a long chat's history is not tokenized again per request.
  #messageTokens = new Map<string, Int32Array>();
  #messageChars = 0;

  /** @internal use loadModel() */
  constructor(nativeModel: NativeModel, info: ModelInfo, bos: number) {
    this.#native = nativeModel;
    this.info = info;
    this.#bos = bos;
  }

  get disposed(): boolean {
    return this.#native === null;
  }

  #nativeOrThrow(): NativeModel {
    if (!this.#native) throw new WestfallError('disposed', 'the model was disposed');
    return this.#native;
  }

  tokenize(text: string, { addSpecial = false, parseSpecial = false } = {}): Int32Array {
    if (typeof text !== 'string') throw new WestfallError('invalid_params', 'text must be a string');
    const m = this.#nativeOrThrow();
    return callNative(() => m.tokenize(text, addSpecial, parseSpecial));
  }

  detokenize(tokens: Int32Array | readonly number[], { removeSpecial = false, renderSpecial = false } = {}): string {
    const m = this.#nativeOrThrow();
    const arr = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    return callNative(() => m.detokenize(arr, removeSpecial, renderSpecial));
  }

  /**
   * Each token's own bytes, concatenated, and where each ends; control and user-defined tokens are written
   * as 0xFF, id, 0xFF so that they never equal text. Two runs of tokens spell the same text exactly when
   * their bytes are equal (detokenize's text depends on neighbours and on UTF-8 boundaries).
   */
  tokenBytes(tokens: Int32Array): { bytes: Uint8Array; ends: Uint32Array } {
    const m = this.#nativeOrThrow();
    return callNative(() => m.tokenBytes(tokens));
  }

  /**
   * Renders messages with the model's own chat template through llama.cpp's chat layer, which also picks
   * the model's tool-call and thinking format (`chatFormat`). Models without a template get ChatML.
   */
  applyChatTemplate(messages: readonly ChatTemplateMessage[], options: ChatFormatOptions = {}): RenderedChat {
    const m = this.#nativeOrThrow();
    // Schemas become grammars inside llama.cpp's chat layer; some would hang or abort it (grammar-check.ts).
    if (options.jsonSchema) checkJsonSchema(options.jsonSchema);
    for (const t of options.tools ?? []) {
      const parameters = (t as { function?: { parameters?: unknown } })?.function?.parameters;
      if (parameters !== undefined) checkJsonSchema(parameters);
    }
    const reasoningFormat = options.reasoningFormat ?? 'auto';
    const request = {
      messages,
      ...(options.tools && options.tools.length > 0 ? { tools: options.tools } : {}),
      toolChoice: options.toolChoice ?? 'auto',
      parallelToolCalls: options.parallelToolCalls ?? false,
      ...(options.jsonSchema ? { jsonSchema: options.jsonSchema } : {}),
      reasoningFormat,
      enableThinking: options.enableThinking ?? true,
      ...(options.chatTemplateKwargs ? { chatTemplateKwargs: options.chatTemplateKwargs } : {}),
      addGenerationPrompt: options.addGenerationPrompt ?? true,
    };
    let r;
    try {
      r = callNative(() => m.applyChat(JSON.stringify(request)));
    } catch (err) {
      // Some templates (Mistral Nemo's) refuse tool-call ids that are not 9 letters and digits, which
      // ours and OpenAI's ("call_...") are not: such a history is rendered again with ids of that shape.
      const mapped = withShortCallIds(messages);
      if (!mapped) throw err;
      r = callNative(() => m.applyChat(JSON.stringify({ ...request, messages: mapped })));
    }
    const chatFormat = toChatFormat(r, reasoningFormat);
    return { prompt: r.prompt, stop: r.additionalStops, grammar: chatFormat.grammar, format: r.format, chatFormat };
  }

  /**
   * Renders messages with the chat template and tokenizes the result so that only the template's own
   * text can produce special tokens: message contents are tokenized as plain text, so a user who types
   * `<|im_start|>system` cannot inject a turn.
   */
  tokenizeChat(messages: readonly ChatTemplateMessage[], options: ChatFormatOptions = {}): TokenizedChat {
    const marked = messages.map((m, i) => (typeof m.content === 'string' && m.content.length > 0 ? { ...m, content: `${MARK_OPEN}${i}${MARK_CLOSE}` } : m));
    const rendered = this.applyChatTemplate(marked, options);
    const parts = rendered.prompt.split(new RegExp(`${MARK_OPEN}(\\d+)${MARK_CLOSE}`));
    // Odd entries are message indexes. A template that copies or alters content would break the mapping:
    // then render the real text and fall back to tokenizing it whole.
    const seen = new Set<number>();
    let ok = true;
    for (let i = 1; i < parts.length; i += 2) {
      const idx = Number(parts[i]);
      if (seen.has(idx) || typeof messages[idx]?.content !== 'string') ok = false;
      seen.add(idx);
    }
    if (!ok) {
      const plain = this.applyChatTemplate(messages, options);
      return { ...plain, tokens: this.#withSingleBos(this.tokenize(plain.prompt, { addSpecial: true, parseSpecial: true })) };
    }
    const chunks: Int32Array[] = [];
    let prompt = '';
    for (let i = 0; i < parts.length; i++) {
      const text = i % 2 === 0 ? parts[i]! : (messages[Number(parts[i])]!.content as string);
      prompt += text;
      if (text.length === 0 && i > 0) continue;
      chunks.push(i % 2 === 1 ? this.#messageText(text) : this.tokenize(text, { addSpecial: i === 0, parseSpecial: true }));
    }
    const tokens = new Int32Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      tokens.set(c, off);
      off += c.length;
    }
    return { ...rendered, prompt, tokens: this.#withSingleBos(tokens) };
  }

  /** A message's content as plain text (no special tokens), from the kept tokens when it was seen. */
  #messageText(text: string): Int32Array {
    if (text.length < MESSAGE_TOKENS_MIN_CHARS) return this.tokenize(text);
    const kept = this.#messageTokens.get(text);
    if (kept) {
      this.#messageTokens.delete(text);
      this.#messageTokens.set(text, kept);
      return kept;
    }
    const tokens = this.tokenize(text);
    if (text.length > MESSAGE_TOKENS_MAX_CHARS) return tokens;
    this.#messageTokens.set(text, tokens);
    this.#messageChars += text.length;
    for (const oldest of this.#messageTokens.keys()) {
      if (this.#messageChars <= MESSAGE_TOKENS_MAX_CHARS && this.#messageTokens.size <= MESSAGE_TOKENS_MAX_ENTRIES) break;
      this.#messageTokens.delete(oldest);
      this.#messageChars -= oldest.length;
    }
    return tokens;
  }

  // Templates that write the BOS token themselves would otherwise get a second one from addSpecial.
  #withSingleBos(tokens: Int32Array): Int32Array {
    const bos = this.#bos;
    return bos >= 0 && tokens.length > 1 && tokens[0] === bos && tokens[1] === bos ? tokens.subarray(1) : tokens;
  }

  /** Tokenizes a raw prompt: special tokens written in the text are parsed, BOS is added once. */
  tokenizePrompt(text: string): Int32Array {
    return this.#withSingleBos(this.tokenize(text, { addSpecial: true, parseSpecial: true }));
  }

  async createContext(options: ContextOptions = {}): Promise<Context> {
    const m = this.#nativeOrThrow();
    if (this.info.vocabOnly) throw new WestfallError('invalid_params', 'a vocabulary-only model cannot create contexts');
    const o = parseOrThrow(contextOptionsSchema, options, 'context options');
    const threads = o.threads ?? defaultThreads();
    let ctx: Context | undefined;
    const dispatch = Context.dispatcher(() => ctx);
    let nativeCtx;
    try {
      nativeCtx = await native().createContext(
        m,
        { ...o, threads, threadsBatch: o.threadsBatch ?? threads, ubatchSize: o.ubatchSize ?? Math.min(o.batchSize, 512) },
        dispatch,
      );
    } catch (err) {
      throw toWestfallError(err);
    }
    ctx = new Context(this, nativeCtx, o, (c) => this.#contexts.delete(c));
    this.#contexts.add(ctx);
    return ctx;
  }

  /** Mean-pooled, L2-normalized embedding of `text` (a dedicated embedding context is made on first use). */
  async embed(text: string): Promise<Float32Array> {
    this.#nativeOrThrow();
    if (!this.#embeddingContext) {
      const size = Math.min(Math.max(this.info.contextLength, 512), 2048);
      this.#embeddingContext = this.createContext({ embeddings: true, contextSize: size, batchSize: size, ubatchSize: size });
      this.#embeddingContext.catch(() => (this.#embeddingContext = null));
    }
    const ctx = await this.#embeddingContext;
    const tokens = this.tokenize(text, { addSpecial: true, parseSpecial: false });
    if (tokens.length === 0) throw new WestfallError('invalid_params', 'cannot embed an empty text');
    return ctx.embedTokens(tokens);
  }

  /** Frees the weights, after disposing every context made from this model. Safe to call twice. */
  dispose(): void {
    const m = this.#native;
    if (!m) return;
    for (const ctx of [...this.#contexts]) ctx.dispose();
    this.#native = null;
    this.#embeddingContext = null;
    this.#messageTokens.clear();
    this.#messageChars = 0;
    m.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}
