// A running generation: an async iterable of text chunks plus a promise of the final result.
// Chunks arrive from the decode thread in bursts; they are queued here so the consumer can read at its
// own pace without ever blocking decode.
import { WestfallError } from '../errors.js';
import type { NativeGenerationResult } from './native.js';

export interface GenerationChunk {
  text: string;
  tokens: Int32Array;
}

export type StopReason = NativeGenerationResult['stopReason'];

export interface GenerationResult {
  text: string;
  tokens: Int32Array;
  stopReason: StopReason;
  usage: {
    promptTokens: number;
    reusedPromptTokens: number;
    evaluatedPromptTokens: number;
    /** Of the reused tokens: restored from a saved conversation state on disk. */
    restoredPromptTokens: number;
    /** Of the reused tokens: copied from another sequence that shares the prefix (system prompt, tools). */
    copiedPromptTokens: number;
    completionTokens: number;
    totalTokens: number;
  };
  timings: {
    promptMs: number;
    generationMs: number;
    timeToFirstTokenMs: number;
    promptTokensPerSecond: number;
    generationTokensPerSecond: number;
  };
}

type Waiter = { resolve: (r: IteratorResult<GenerationChunk>) => void; reject: (e: unknown) => void };

export class Generation implements AsyncIterable<GenerationChunk> {
  readonly result: Promise<GenerationResult>;
  #resolveResult!: (r: GenerationResult) => void;
  #rejectResult!: (e: unknown) => void;
  #queue: GenerationChunk[] = [];
  #waiters: Waiter[] = [];
  #done = false;
  #error: unknown = undefined;
  #texts: string[] = [];
  #tokens: number[] = [];
  #cancel: () => void;
  #iterating = false;

  /** @internal created by Context.generate */
  constructor(cancel: () => void) {
    this.#cancel = cancel;
    this.result = new Promise<GenerationResult>((resolve, reject) => {
      this.#resolveResult = resolve;
      this.#rejectResult = reject;
    });
    // A caller that only iterates must not see an unhandled rejection from the result promise.
    this.result.catch(() => {});
  }

  /** Stops generating; iteration ends with stopReason 'aborted' and the context stays usable. */
  abort(): void {
    if (!this.#done) this.#cancel();
  }

  get finished(): boolean {
    return this.#done;
  }

  /** @internal */
  push(chunk: GenerationChunk): void {
    if (this.#done) return;
    this.#texts.push(chunk.text);
    for (const t of chunk.tokens) this.#tokens.push(t);
    const w = this.#waiters.shift();
    if (w) w.resolve({ value: chunk, done: false });
    else this.#queue.push(chunk);
  }

  /** @internal */
  finish(native: NativeGenerationResult): void {
    if (this.#done) return;
    this.#done = true;
    const completion = native.generatedTokens;
    const perSecond = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);
    this.#resolveResult({
      text: this.#texts.join(''),
      tokens: Int32Array.from(this.#tokens),
      stopReason: native.stopReason,
      usage: {
        promptTokens: native.promptTokens,
        reusedPromptTokens: native.reusedPromptTokens,
        evaluatedPromptTokens: native.evaluatedPromptTokens,
        restoredPromptTokens: native.restoredPromptTokens ?? 0,
        copiedPromptTokens: native.copiedPromptTokens ?? 0,
        completionTokens: completion,
        totalTokens: native.promptTokens + completion,
      },
      timings: {
        promptMs: native.promptMs,
        generationMs: native.generationMs,
        timeToFirstTokenMs: native.timeToFirstTokenMs,
        promptTokensPerSecond: perSecond(native.evaluatedPromptTokens, native.promptMs),
        // The first token comes with the prompt; the generation phase covers the rest.
        generationTokensPerSecond: perSecond(Math.max(0, completion - 1), native.generationMs),
      },
    });
    for (const w of this.#waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  /** @internal */
  fail(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = err instanceof WestfallError ? err : new WestfallError('native_error', String(err), { cause: err });
    this.#rejectResult(this.#error);
    for (const w of this.#waiters.splice(0)) w.reject(this.#error);
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerationChunk> {
    if (this.#iterating) throw new WestfallError('invalid_params', 'a generation can be iterated only once');
    this.#iterating = true;
    return {
      next: () => {
        const chunk = this.#queue.shift();
        if (chunk) return Promise.resolve({ value: chunk, done: false });
        if (this.#error !== undefined) return Promise.reject(this.#error);
        if (this.#done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      },
      // Leaving a for-await loop early (break, throw) stops the generation instead of wasting compute.
      return: async () => {
        this.abort();
        await this.result.catch(() => {});
        return { value: undefined, done: true };
      },
    };
  }

  /** Collects the whole reply. */
  async text(): Promise<string> {
    return (await this.result).text;
  }
}
