// Context: a window of tokens the model attends to, split into sequences that generate concurrently
// (one batch per decode step on the native thread). Prefix reuse is per sequence: a follow-up prompt
// that starts with what the sequence already holds evaluates only the new tokens.
import { WestfallError } from '../errors.js';
import { ChatSession } from './chat.js';
import { Generation } from './generation.js';
import { callNative, native, toWestfallError, type NativeContext, type NativeGenerationResult } from './native.js';
import { createHash } from 'node:crypto';
import {
  chatSessionOptionsSchema,
  type ContextOptions,
  generateParamsSchema,
  parseOrThrow,
  type ChatSessionOptions,
  type GenerateParams,
} from './options.js';
import type { Model } from './model.js';
import type { PromptCache, PromptCacheEntry } from './prompt-cache.js';
import { commonPrefix, spliceHeld } from './token-align.js';

export interface SequenceCacheState {
  /** Tokens the sequence holds for prefix reuse. */
  tokens: number;
  /** Whether they are in the KV cache now; false when parked in host memory (or empty). */
  resident: boolean;
  /** Host memory its parked cache takes; 0 when resident or empty. */
  parkedBytes: number;
}

export interface ContextInfo {
  contextSize: number;
  contextSizePerSequence: number;
  batchSize: number;
  ubatchSize: number;
  sequences: number;
  threads: number;
  threadsBatch: number;
}

export type PromptInput = string | Int32Array | readonly number[];

interface SequenceState {
  busy: boolean;
  reserved: boolean;
  // What we believe the native cache holds: used only to route a prompt to the sequence that can reuse
  // the most; the native side keeps the authoritative copy.
  tokens: Int32Array;
  /** How many of `tokens` were the last prompt (the rest is the reply). */
  promptLength: number;
  /** When its last generation ended (a counter): among equal prefixes the latest wins, since the native
   * side keeps the latest idle sequence in the KV cache and parks the others. */
  lastUsed: number;
}

export class Context implements AsyncDisposable {
  readonly model: Model;
  readonly info: ContextInfo;
  #native: NativeContext | null;
  #jobs = new Map<number, { gen: Generation; seq: number; prompt: Int32Array; generated: Int32Array[]; cache: boolean; tag: string | undefined; loaded: boolean }>();
  #sequences: SequenceState[];
  #useClock = 0;
  #waiting: { prompt: Int32Array; start: (seq: number) => void; gen: Generation }[] = [];
  #onDispose: (ctx: Context) => void;
  #options: ContextOptions;
  #promptCache: { cache: PromptCache; scope: string; saveDelayMs: number } | null = null;
  #pendingSaves = new Set<Promise<void>>();
  #saveTimers = new Map<number, { timer: NodeJS.Timeout; tag: string | undefined }>();

  /** @internal use model.createContext() */
  constructor(model: Model, nativeContext: NativeContext, options: ContextOptions, onDispose: (ctx: Context) => void) {
    this.model = model;
    this.#native = nativeContext;
    this.#options = options;
    this.info = nativeContext.info();
    this.#sequences = Array.from({ length: this.info.sequences }, () => ({ busy: false, reserved: false, tokens: new Int32Array(), promptLength: 0, lastUsed: 0 }));
    this.#onDispose = onDispose;
  }

  /** @internal the addon's event sink for this context */
  static dispatcher(getContext: () => Context | undefined) {
    return (jobId: number, kind: string, payload: unknown) => {
      const ctx = getContext();
      if (ctx) ctx.#onEvent(jobId, kind, payload);
    };
  }

  get disposed(): boolean {
    return this.#native === null;
  }

  #nativeOrThrow(): NativeContext {
    if (!this.#native) throw new WestfallError('disposed', 'the context was disposed');
    return this.#native;
  }

  #onEvent(jobId: number, kind: string, payload: unknown): void {
    const job = this.#jobs.get(jobId);
    if (!job) return;
    if (kind === 'chunk') {
      const chunk = payload as { text: string; tokens: Int32Array };
      job.generated.push(chunk.tokens);
      job.gen.push(chunk);
      return;
    }
    this.#jobs.delete(jobId);
    const seq = this.#sequences[job.seq];
    if (kind === 'done') {
      const result = payload as NativeGenerationResult;
      // The reply too, as generated: the next turn's prompt is matched against it (token-align.ts). The
      // native side may lack the last token (sampled, never decoded) and evaluates it then.
      if (seq) {
        seq.tokens = concatTokens(job.prompt, job.generated);
        seq.promptLength = job.prompt.length;
      }
      this.#afterReply(job, result);
      job.gen.finish(result);
    } else {
      job.gen.fail(toWestfallError(payload));
    }
    this.#release(job.seq);
  }

  #release(index: number): void {
    const seq = this.#sequences[index];
    if (!seq) return;
    seq.busy = false;
    seq.lastUsed = ++this.#useClock;
    this.#startWaiting();
  }

  #startWaiting(): void {
    while (this.#waiting.length > 0) {
      const waiter = this.#waiting[0]!;
      const seq = this.#pickSequence(waiter.prompt);
      if (seq === undefined) return;
      this.#waiting.shift();
      waiter.start(seq);
    }
  }

  // A sequence whose whole cache the prompt continues (the next turn of its conversation) loses nothing;
  // otherwise an empty one, else the one used longest ago, so that other conversations' caches survive
  // as long as possible. The native side then copies the longest shared prefix (the system prompt and
  // tools of a new chat) from whichever sequence holds it.
  #pickSequence(prompt: Int32Array): number | undefined {
    let best: number | undefined;
    let bestRank = -1;
    let bestKey = -Infinity;
    this.#sequences.forEach((s, i) => {
      if (s.busy || s.reserved) return;
      const n = commonPrefix(s.tokens, prompt);
      // Continuing its last prompt is continuing its conversation (a regenerated reply leaves only the reply).
      const rank = s.tokens.length > 0 && n >= s.promptLength ? 2 : s.tokens.length === 0 ? 1 : 0;
      const key = rank === 2 ? n * 1e9 + s.lastUsed : -s.lastUsed;
      if (rank > bestRank || (rank === bestRank && key > bestKey)) {
        best = i;
        bestRank = rank;
        bestKey = key;
      }
    });
    return best;
  }

  /**
   * Keeps conversation states on disk (prompt-cache.ts): saved after each reply, loaded when a prompt
   * continues a saved state further than any sequence in memory does. Null detaches.
   */
  attachPromptCache(cache: PromptCache | null, { saveDelayMs = 2000 }: { saveDelayMs?: number } = {}): void {
    if (!cache) {
      for (const seq of [...this.#saveTimers.keys()]) this.#cancelSave(seq);
      this.#promptCache = null;
      return;
    }
    const o = this.#options;
    // A state only fits the same model file and the same cache layout.
    const scope = createHash('sha256')
      .update(JSON.stringify([this.model.info.identity, this.info.contextSizePerSequence, o.typeK ?? 'f16', o.typeV ?? 'f16', o.flashAttention ?? 'auto']))
      .digest('hex');
    this.#promptCache = { cache, scope, saveDelayMs };
    // The first conversation resumed after a start would otherwise wait for fresh buffers' page faults
    // (about 200 ms of its 750 ms for a 36 MB state on a 2-core VM); here they are paid before anyone asks.
    const largest = cache.largestBytes(scope);
    if (largest > 0) {
      cache.warm(largest);
      this.#native?.reserveRestore(largest);
    }
  }

  get promptCache(): PromptCache | null {
    return this.#promptCache?.cache ?? null;
  }

  #afterReply(job: { seq: number; prompt: Int32Array; cache: boolean; tag: string | undefined; loaded: boolean }, result: NativeGenerationResult): void {
    const pc = this.#promptCache;
    if (!pc || !job.cache) return;
    if (job.loaded) {
      if (result.restoredPromptTokens > 0) pc.cache.recordHit(result.restoredPromptTokens);
      else pc.cache.recordMiss();
    }
    if (job.prompt.length + result.generatedTokens < pc.cache.minTokens) return;
    // Written once the conversation has been quiet for a moment, not at once: copying and checksumming
    // tens of megabytes takes CPU from the next turn's prompt (on two cores, turn 20 of a chat went from
    // 556 to 936 ms to first token when a client answered at once). A person reads the reply first; a
    // shutdown, a model switch, or another conversation taking the sequence writes it at once.
    this.#cancelSave(job.seq);
    const timer = setTimeout(() => this.#saveNow(job.seq), pc.saveDelayMs);
    timer.unref();
    this.#saveTimers.set(job.seq, { timer, tag: job.tag });
  }

  #cancelSave(seq: number): { tag: string | undefined } | undefined {
    const pending = this.#saveTimers.get(seq);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#saveTimers.delete(seq);
    return pending;
  }

  // Queues the copy of the sequence's state now: the decode thread runs tasks before admitting jobs, so a
  // generation submitted after this call cannot change what is saved.
  #saveNow(seq: number): void {
    const pending = this.#cancelSave(seq);
    const pc = this.#promptCache;
    const native = this.#native;
    if (!pending || !pc || !native) return;
    const saving = native
      .stateData(seq)
      .then((state) => (state ? pc.cache.save(pc.scope, state.tokens, state.data, pending.tag ?? null) : undefined))
      .catch(() => {}) // disposed meanwhile, or a write failure the cache already reported
      .finally(() => this.#pendingSaves.delete(saving));
    this.#pendingSaves.add(saving);
  }

  /**
   * Waits until the states of the replies that ended so far are on disk: call it before disposing, or
   * the last reply before a shutdown or a model switch is not saved (its copy is taken on the decode thread).
   */
  async flushPromptCache(): Promise<void> {
    for (const seq of [...this.#saveTimers.keys()]) this.#saveNow(seq);
    while (this.#pendingSaves.size > 0) await Promise.all([...this.#pendingSaves]);
    await this.#promptCache?.cache.flush();
  }

  // The saved state worth loading for `prompt`: it must cover clearly more than any sequence holds.
  #diskCandidate(prompt: Int32Array): PromptCacheEntry | null {
    const pc = this.#promptCache;
    if (!pc) return null;
    const found = pc.cache.best(pc.scope, prompt);
    if (!found) return null;
    let inMemory = 0;
    for (const s of this.#sequences) {
      const n = commonPrefix(s.tokens, prompt);
      inMemory = Math.max(inMemory, n);
    }
    return found.shared > inMemory + 32 ? found.entry : null;
  }

  // The prompt spelled with the tokens a sequence or a saved state already holds, where they spell the same
  // text (a previous reply that does not tokenize back the same way); the most reused wins.
  #reuseHeld(prompt: Int32Array): Int32Array {
    const held: Int32Array[] = this.#sequences.map((s) => s.tokens).filter((t) => t.length > 0);
    const pc = this.#promptCache;
    if (pc) held.push(...pc.cache.tokensOf(pc.scope));
    const scored = held.map((tokens) => ({ tokens, shared: commonPrefix(tokens, prompt) }));
    let best = { tokens: prompt, reused: scored.reduce((n, c) => Math.max(n, c.shared), 0) };
    const candidates = scored
      .filter((c) => c.shared > 0 && c.shared < c.tokens.length && c.shared < prompt.length)
      .sort((x, y) => y.shared - x.shared)
      .slice(0, 4);
    const bytesOf = (t: Int32Array) => this.model.tokenBytes(t);
    for (const c of candidates) {
      const spliced = spliceHeld(prompt, c.tokens, bytesOf);
      if (spliced && spliced.reused > best.reused && spliced.tokens.length < this.info.contextSizePerSequence) best = spliced;
    }
    return best.tokens;
  }

  /** Tokenizes a string prompt (special tokens in the text are parsed) or passes token ids through. */
  toTokens(input: PromptInput): Int32Array {
    if (typeof input === 'string') return this.model.tokenizePrompt(input);
    return input instanceof Int32Array ? input : Int32Array.from(input);
  }

  /**
   * Streams a completion of `input`. Iterate it for chunks; `await gen.result` for text, usage and timings.
   * Without `sequence`, the free sequence that can reuse the most of its cache is used, or the call waits
   * for one.
   */
  generate(input: PromptInput, params: GenerateParams = {}): Generation {
    const ctx = this.#nativeOrThrow();
    const p = parseOrThrow(generateParamsSchema, params, 'generation parameters');
    let prompt = this.toTokens(input);
    if (prompt.length === 0) throw new WestfallError('invalid_params', 'the prompt is empty');
    if (p.cachePrompt) prompt = this.#reuseHeld(prompt);
    if (prompt.length >= this.info.contextSizePerSequence) {
      throw new WestfallError(
        'context_overflow',
        `the prompt has ${prompt.length} tokens; each sequence of this context holds ${this.info.contextSizePerSequence}`,
        { details: { promptTokens: prompt.length, contextSize: this.info.contextSizePerSequence } },
      );
    }
    if (p.sequence !== undefined) {
      const s = this.#sequences[p.sequence];
      if (!s) throw new WestfallError('invalid_params', `sequence must be below ${this.info.sequences}`);
      if (s.busy) throw new WestfallError('invalid_params', `sequence ${p.sequence} is already generating`);
    }
    const grammar = p.jsonSchema ? callNative(() => native().jsonSchemaToGrammar(JSON.stringify(p.jsonSchema))) : p.grammar;
    const nativeParams: Record<string, unknown> = {
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      minP: p.minP,
      repeatPenalty: p.repeatPenalty,
      repeatLastN: p.repeatLastN,
      presencePenalty: p.presencePenalty,
      frequencyPenalty: p.frequencyPenalty,
      seed: p.seed,
      grammar,
      maxTokens: p.maxTokens,
      stop: p.stop,
      ignoreEos: p.ignoreEos,
      renderSpecial: p.renderSpecial,
      grammarLazy: p.grammarLazy,
      grammarTriggers: p.grammarTriggers,
      grammarPrefill: p.grammarPrefill,
      preservedTokens: p.preservedTokens,
      generationPrompt: p.generationPrompt,
      reasoningBudget: p.reasoningBudget,
      cachePrompt: p.cachePrompt,
    };

    let jobId: number | undefined;
    let aborted = false;
    const gen = new Generation(() => {
      aborted = true;
      if (jobId !== undefined) this.#native?.cancel(jobId);
      else finishAborted();
    });
    const finishAborted = () => {
      this.#waiting = this.#waiting.filter((w) => w.start !== start);
      gen.finish({
        stopReason: 'aborted',
        promptTokens: prompt.length,
        reusedPromptTokens: 0,
        evaluatedPromptTokens: 0,
        restoredPromptTokens: 0,
        copiedPromptTokens: 0,
        generatedTokens: 0,
        promptMs: 0,
        generationMs: 0,
        timeToFirstTokenMs: -1,
      });
    };
    // Started at once, a rejected request (a grammar that does not parse, say) throws from generate();
    // started later from the wait queue, it fails the generation instead.
    const useCache = p.cachePrompt;
    const submit = (seq: number, restore: { tokens: Int32Array; data: Buffer; release?: () => void } | null, loaded: boolean, throwErrors: boolean) => {
      const s = this.#sequences[seq]!;
      if (aborted || !this.#native) {
        s.busy = false;
        if (!this.#native) gen.fail(new WestfallError('disposed', 'the context was disposed before the generation started'));
        else finishAborted();
        this.#startWaiting();
        return;
      }
      try {
        jobId = ctx.generate(seq, prompt, restore ? { ...nativeParams, restore: { tokens: restore.tokens, data: restore.data } } : nativeParams);
        restore?.release?.(); // copied by now
      } catch (err) {
        s.busy = false;
        if (throwErrors) throw toWestfallError(err);
        gen.fail(toWestfallError(err));
        this.#startWaiting();
        return;
      }
      this.#jobs.set(jobId, { gen, seq, prompt, generated: [], cache: useCache, tag: p.cacheTag, loaded });
    };
    // Started at once, a rejected request (a grammar that does not parse, say) throws from generate();
    // started later from the wait queue, or after reading a saved state, it fails the generation instead.
    const start = (seq: number, throwErrors = false) => {
      if (aborted) return finishAborted();
      const s = this.#sequences[seq]!;
      // Another conversation takes this sequence: the one it holds is written before it is overwritten.
      // The next turn of the same conversation saves after it ends instead.
      if (this.#saveTimers.has(seq)) {
        const n = commonPrefix(s.tokens, prompt);
        // Only a prompt that leaves the previous one is another conversation: one that leaves only the
        // reply is a regenerated answer of the same.
        if (n < s.promptLength) this.#saveNow(seq);
        else this.#cancelSave(seq);
      }
      s.busy = true;
      const entry = useCache ? this.#diskCandidate(prompt) : null;
      if (!entry) return submit(seq, null, false, throwErrors);
      // The file is read off the decode thread; the sequence stays reserved meanwhile.
      void this.#promptCache!.cache.load(entry).then(
        (state) => submit(seq, state, true, false),
        () => submit(seq, null, true, false),
      );
    };

    if (p.signal) {
      if (p.signal.aborted) {
        aborted = true;
        finishAborted();
        return gen;
      }
      const signal = p.signal;
      const onAbort = () => gen.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      gen.result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    }

    if (p.sequence === undefined && this.#sequences.every((s) => s.reserved)) {
      throw new WestfallError('invalid_params', 'every sequence of this context is reserved by a chat session; create the context with more sequences');
    }
    const seq = p.sequence ?? this.#pickSequence(prompt);
    if (seq === undefined) this.#waiting.push({ prompt, start, gen });
    else start(seq, true);
    return gen;
  }

  /** Reserves a sequence for exclusive use (a chat session); automatic routing will not pick it. */
  reserveSequence(): number {
    const i = this.#sequences.findIndex((s) => !s.reserved && !s.busy);
    if (i < 0) throw new WestfallError('invalid_params', `all ${this.info.sequences} sequences of this context are in use`);
    this.#sequences[i]!.reserved = true;
    return i;
  }

  releaseSequence(index: number): void {
    const s = this.#sequences[index];
    if (s) s.reserved = false;
    this.#startWaiting();
  }

  createChatSession(options: ChatSessionOptions = {}): ChatSession {
    const o = parseOrThrow(chatSessionOptionsSchema, options, 'chat session options');
    return new ChatSession(this, this.reserveSequence(), o);
  }

  /** Saves the KV cache of a sequence (and the tokens it holds) to a file. */
  async saveState(path: string, { sequence = 0 }: { sequence?: number } = {}): Promise<number> {
    const ctx = this.#nativeOrThrow();
    try {
      return await ctx.saveState(sequence, path);
    } catch (err) {
      throw toWestfallError(err);
    }
  }

  /** Restores a sequence saved by saveState(); returns the tokens it now holds. */
  async loadState(path: string, { sequence = 0 }: { sequence?: number } = {}): Promise<Int32Array> {
    const ctx = this.#nativeOrThrow();
    try {
      const tokens = await ctx.loadState(sequence, path);
      const s = this.#sequences[sequence];
      if (s) {
        s.tokens = tokens;
        s.promptLength = tokens.length;
      }
      return tokens;
    } catch (err) {
      throw toWestfallError(err);
    }
  }

  async clearSequence(sequence: number): Promise<void> {
    const ctx = this.#nativeOrThrow();
    try {
      await ctx.clearSequence(sequence);
      const s = this.#sequences[sequence];
      if (s) {
        s.tokens = new Int32Array();
        s.promptLength = 0;
      }
    } catch (err) {
      throw toWestfallError(err);
    }
  }

  /**
   * Where each sequence's cached tokens are. Idle sequences' caches move to host memory ("parked") so
   * that the KV cache holds only what is generating (when idle, all but the latest used one); a later
   * prompt on a parked sequence brings its cache back instead of evaluating the shared prefix again.
   */
  async cacheState(): Promise<SequenceCacheState[]> {
    const ctx = this.#nativeOrThrow();
    try {
      return await ctx.cacheState();
    } catch (err) {
      throw toWestfallError(err);
    }
  }

  /** @internal used by Model.embed */
  async embedTokens(tokens: Int32Array): Promise<Float32Array> {
    const ctx = this.#nativeOrThrow();
    try {
      return await ctx.embed(tokens);
    } catch (err) {
      throw toWestfallError(err);
    }
  }

  /** Frees the native context. Running generations end with a `disposed` error. Safe to call twice. */
  dispose(): void {
    const ctx = this.#native;
    if (!ctx) return;
    this.#native = null;
    for (const seq of [...this.#saveTimers.keys()]) this.#cancelSave(seq);
    for (const w of this.#waiting.splice(0)) w.gen.fail(new WestfallError('disposed', 'the context was disposed before the generation started'));
    ctx.dispose();
    this.#onDispose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}

function concatTokens(head: Int32Array, rest: readonly Int32Array[]): Int32Array {
  if (rest.length === 0) return head;
  const out = new Int32Array(head.length + rest.reduce((n, t) => n + t.length, 0));
  out.set(head);
  let at = head.length;
  for (const t of rest) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
