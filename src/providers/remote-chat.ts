// One chat request to a provider, with the retry and fallback rules: a transient failure (unreachable,
// 5xx, 429 with a short Retry-After, a stream cut before anything came) is retried at the same provider,
// and then the provider's fallback (another provider or the local model) is tried; all of it only before
// the first token, since after that the client has text that a second answer would contradict.
// Whatever answered, and after what, goes into the reply's metadata (RemoteReplyInfo).
import { WestfallError, isWestfallError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import { eventData, type UpstreamStream } from './client.js';
import type { ProviderService, RemoteModel } from './service.js';
import type { ProviderRecord, RemoteReplyInfo } from './types.js';
import { allowsFallback, isTransient } from './upstream-errors.js';
import { hostOf } from './url.js';

export interface RetryPolicy {
  /** Tries per provider (default 2: one retry). */
  attempts: number;
  /** Pause before a retry (default 250 ms); a 429's Retry-After replaces it when not longer than maxRetryAfterS. */
  backoffMs: number;
  maxRetryAfterS: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 2, backoffMs: 250, maxRetryAfterS: 5 };

/** A stream that has produced its first token (or ended), with the events read so far. */
export interface OpenedRemote {
  kind: 'remote';
  info: RemoteReplyInfo;
  provider: ProviderRecord;
  /** Events read before and including the first token. */
  head: string[];
  /** The rest of the events (continue the same reader). */
  rest: AsyncIterator<string>;
  /** Or the rest of the body as it arrives, unparsed (pass-through); use one of `rest` and `raw`. */
  raw(): AsyncGenerator<Buffer | string>;
  /** True when the stream already ended (no token at all, e.g. an empty reply). */
  ended: boolean;
  /** Milliseconds from sending the answered request to its first token: the upstream's time. */
  upstreamMs: number;
  cancel(): void;
}

/** The request goes to the local model instead (the provider's fallback). */
export interface LocalFallback {
  kind: 'local';
  info: RemoteReplyInfo;
}

/** A non-streaming answer. */
export interface RemoteJson {
  kind: 'remote';
  info: RemoteReplyInfo;
  body: Record<string, unknown>;
}

/** An event that carries something for the user: text, thinking, a call, or the end of the reply. */
export function isTokenEvent(data: string): boolean {
  let j: { choices?: { delta?: Record<string, unknown>; finish_reason?: unknown; text?: unknown }[]; error?: unknown };
  try {
    j = JSON.parse(data) as typeof j;
  } catch {
    return true; // not ours to judge: pass it on
  }
  if (j.error) return true;
  const c = j.choices?.[0];
  if (!c) return false;
  if (c.finish_reason) return true;
  const d = c.delta ?? {};
  return (typeof d.content === 'string' && d.content !== '') || (typeof d.reasoning_content === 'string' && d.reasoning_content !== '') || (Array.isArray(d.tool_calls) && d.tool_calls.length > 0);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new WestfallError('aborted', 'the request was cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new WestfallError('aborted', 'the request was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

interface Target {
  provider: ProviderRecord;
  upstreamModel: string;
}

export class RemoteChat {
  readonly service: ProviderService;
  readonly retry: RetryPolicy;
  readonly #log: Logger | undefined;
  /** Streams being passed to clients: ended with shutting_down when the app closes. */
  readonly #streams = new Set<(reason: WestfallError) => void>();

  constructor(service: ProviderService, options: { retry?: Partial<RetryPolicy>; logger?: Logger } = {}) {
    this.service = service;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#log = options.logger;
  }

  /**
   * Runs `attempt` against the model's provider with retries, then along the fallback chain. Returns the
   * first success, or 'local' when the chain reaches the local model.
   */
  async #withFallback<T>(
    model: RemoteModel,
    signal: AbortSignal | undefined,
    attempt: (t: Target) => Promise<T>,
  ): Promise<{ value: T; info: RemoteReplyInfo } | { value: null; info: RemoteReplyInfo }> {
    const first: Target = { provider: model.provider, upstreamModel: model.upstreamModel };
    const seen = new Set<string>();
    let target: Target | 'local' = first;
    let attempts = 0;
    let fallback: RemoteReplyInfo['fallback'];
    for (;;) {
      if (target === 'local') {
        return { value: null, info: { provider: 'local', host: 'this computer', model: 'local', attempts, ...(fallback ? { fallback } : {}) } };
      }
      const t: Target = target;
      seen.add(t.provider.id);
      let lastErr: unknown = null;
      for (let i = 0; i < this.retry.attempts; i++) {
        attempts++;
        try {
          const value = await attempt(t);
          this.service.report(t.provider, null);
          return { value, info: { provider: t.provider.name, host: hostOf(t.provider.baseUrl), model: `${t.provider.name}/${t.upstreamModel}`, attempts, ...(fallback ? { fallback } : {}) } };
        } catch (err) {
          if (signal?.aborted || isWestfallError(err, 'aborted')) throw isWestfallError(err, 'aborted') ? err : new WestfallError('aborted', 'the request was cancelled');
          lastErr = err;
          this.#log?.warn({ provider: t.provider.name, host: hostOf(t.provider.baseUrl), code: isWestfallError(err) ? err.code : undefined, attempt: i + 1 }, 'remote provider request failed before the first token');
          if (!isTransient(err) || i + 1 >= this.retry.attempts) break;
          let wait = this.retry.backoffMs * 2 ** i;
          if (isWestfallError(err, 'upstream_rate_limited')) {
            const after = (err.details as { retryAfter?: number } | undefined)?.retryAfter ?? 1;
            if (after > this.retry.maxRetryAfterS) break;
            wait = after * 1000;
          }
          await sleep(wait, signal);
        }
      }
      this.service.report(t.provider, lastErr);
      const next = t.provider.fallback;
      if (!next || !allowsFallback(lastErr)) throw lastErr;
      const reason = isWestfallError(lastErr) ? lastErr.code : 'upstream_error';
      if (next === 'local') {
        fallback = { from: t.provider.name, to: 'local', reason };
        target = 'local';
        continue;
      }
      if (seen.has(next)) throw lastErr;
      let provider: ProviderRecord;
      try {
        provider = this.service.store.get(next);
      } catch {
        throw lastErr;
      }
      if (!provider.enabled) throw lastErr;
      const upstreamModel = await this.service.fallbackModel(provider, t.upstreamModel).catch(() => null);
      if (!upstreamModel) throw lastErr;
      fallback = { from: t.provider.name, to: provider.name, reason };
      target = { provider, upstreamModel };
    }
  }

  /** Registers a running stream's stop function; returns the function that unregisters it. */
  trackStream(stop: (reason: WestfallError) => void): () => void {
    this.#streams.add(stop);
    return () => this.#streams.delete(stop);
  }

  /** Shutdown: every stream still running ends now with shutting_down (and its upstream request with it). */
  closeStreams(): void {
    const reason = new WestfallError('shutting_down');
    for (const stop of [...this.#streams]) stop(reason);
    this.#streams.clear();
  }

  /**
   * Opens a streaming chat and reads until its first token. `body` is an OpenAI request; its model is
   * replaced by the provider's id for it.
   */
  async openStream(model: RemoteModel, body: Record<string, unknown>, signal?: AbortSignal): Promise<OpenedRemote | LocalFallback> {
    const r = await this.#withFallback(model, signal, async (t) => {
      const client = this.service.client(t.provider);
      const sent = performance.now();
      const stream: UpstreamStream = await client.chatStream({ ...body, model: t.upstreamModel }, signal);
      const it = stream.events()[Symbol.asyncIterator]();
      const head: string[] = [];
      try {
        for (;;) {
          const n = await it.next();
          if (n.done) {
            // Ended before any token: a complete (empty) reply ends with [DONE]; anything else was cut.
            if (!head.some((e) => e.includes('[DONE]'))) throw new WestfallError('upstream_error', `the stream from ${t.provider.name} (${client.ctx.host}) ended before the first token`);
            return { head, rest: it, raw: () => stream.rest(), ended: true, upstreamMs: performance.now() - sent, cancel: () => stream.cancel() };
          }
          head.push(n.value);
          const data = eventData(n.value);
          if (data !== null && isTokenEvent(data)) return { head, rest: it, raw: () => stream.rest(), ended: false, upstreamMs: performance.now() - sent, cancel: () => stream.cancel() };
        }
      } catch (err) {
        stream.cancel();
        throw err;
      }
    });
    if (r.value === null) return { kind: 'local', info: r.info };
    return { kind: 'remote', info: r.info, provider: model.provider, ...r.value };
  }

  /** A non-streaming chat. */
  async json(model: RemoteModel, body: Record<string, unknown>, signal?: AbortSignal): Promise<RemoteJson | LocalFallback> {
    const r = await this.#withFallback(model, signal, (t) => this.service.client(t.provider).chatJson({ ...body, model: t.upstreamModel, stream: false }, signal));
    if (r.value === null) return { kind: 'local', info: r.info };
    return { kind: 'remote', info: r.info, body: r.value };
  }
}
