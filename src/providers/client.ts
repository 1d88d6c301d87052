// HTTP to one provider: GET /models and POST /chat/completions through fetch (undici), with the key
// sent only to the provider's own origin. Redirects are followed by hand and only within that origin
// (fetch would carry the request elsewhere); a timeout covers the wait for the answer's headers and
// every silence between stream chunks; the caller's signal aborts the request at once, which closes the
// connection, so the upstream sees the cancel and stops generating.
import { WestfallError } from '../errors.js';
import { httpError, networkError, type UpstreamContext } from './upstream-errors.js';

export interface ClientConfig {
  /** The provider's name (for messages) and id. */
  name: string;
  baseUrl: string;
  apiKey: string | null;
  timeoutMs: number;
}

const MAX_REDIRECTS = 3;

/** A deadline that can be pushed back (each received chunk) and that aborts its signal when it passes. */
class Deadline {
  readonly controller = new AbortController();
  timedOut = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #ms: number;

  constructor(ms: number) {
    this.#ms = ms;
    this.reset();
  }

  reset(): void {
    if (this.#timer) this.#timer.refresh();
    else
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new Error('the provider did not answer in time'));
      }, this.#ms);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

export interface UpstreamStream {
  readonly response: Response;
  /** Raw SSE events ("data: {...}"), without the blank line; ends at the end of the body. */
  events(): AsyncGenerator<string>;
  /** Raw body bytes as they arrive (for pass-through). */
  bytes(): AsyncGenerator<Uint8Array>;
  /** Stops reading and closes the connection. */
  cancel(): void;
}

export class UpstreamClient {
  readonly config: ClientConfig;
  readonly ctx: UpstreamContext;
  readonly #origin: string;

  constructor(config: ClientConfig) {
    this.config = config;
    this.#origin = new URL(config.baseUrl).origin;
    this.ctx = { provider: config.name, host: new URL(config.baseUrl).host, apiKey: config.apiKey };
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: json ? 'application/json' : 'text/event-stream', 'content-type': 'application/json' };
    if (this.config.apiKey) h.authorization = `Bearer ${this.config.apiKey}`;
    return h;
  }

  /** fetch, following redirects only within the provider's origin. */
  async #fetch(url: string, init: RequestInit, deadline: Deadline, signal: AbortSignal | undefined): Promise<Response> {
    const combined = signal ? AbortSignal.any([signal, deadline.controller.signal]) : deadline.controller.signal;
    let target = url;
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await fetch(target, { ...init, redirect: 'manual', signal: combined });
      } catch (err) {
        if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
        throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get('location');
      const next = location ? new URL(location, target) : null;
      if (!next || next.origin !== this.#origin) {
        throw new WestfallError('upstream_redirect', `${this.ctx.provider} (${this.ctx.host}) redirected to ${next ? next.host : 'nowhere'}; only redirects within ${this.ctx.host} are followed`, {
          details: { provider: this.ctx.provider, host: this.ctx.host, location: next ? next.origin : null },
        });
      }
      if (hop >= MAX_REDIRECTS) throw new WestfallError('upstream_redirect', `${this.ctx.provider} redirected more than ${MAX_REDIRECTS} times`);
      target = next.href;
      // 303 (and, as browsers do, 301/302 on POST) turn into GET, which no chat endpoint takes: refuse.
      if (init.method === 'POST' && res.status !== 307 && res.status !== 308) {
        throw new WestfallError('upstream_redirect', `${this.ctx.provider} answered a POST with HTTP ${res.status}; only 307/308 keep the request`);
      }
    }
  }

  /** Model ids the server lists. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const deadline = new Deadline(this.config.timeoutMs);
    try {
      const res = await this.#fetch(`${this.config.baseUrl}/models`, { method: 'GET', headers: this.#headers(true) }, deadline, signal);
      const text = await res.text();
      if (!res.ok) throw httpError(this.ctx, res.status, text, res.headers, 'models');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered /models with something other than JSON: is it an OpenAI-compatible server?`);
      }
      const data = (body as { data?: unknown })?.data;
      if (!Array.isArray(data)) throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered /models without a "data" list`);
      return data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string');
    } catch (err) {
      if (err instanceof WestfallError) throw err;
      throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
    } finally {
      deadline.clear();
    }
  }

  /** POST /chat/completions without streaming: the parsed JSON answer. */
  async chatJson(body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const deadline = new Deadline(this.config.timeoutMs);
    try {
      const res = await this.#fetch(`${this.config.baseUrl}/chat/completions`, { method: 'POST', headers: this.#headers(true), body: JSON.stringify(body) }, deadline, signal);
      const text = await res.text();
      if (!res.ok) throw httpError(this.ctx, res.status, text, res.headers, 'chat', String(body.model));
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered with something other than JSON`);
      }
    } catch (err) {
      if (err instanceof WestfallError) throw err;
      if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
      throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
    } finally {
      deadline.clear();
    }
  }

  /** POST /chat/completions with stream: true; resolves once the headers say the stream has begun. */
  async chatStream(body: Record<string, unknown>, signal?: AbortSignal): Promise<UpstreamStream> {
    const deadline = new Deadline(this.config.timeoutMs);
    let res: Response;
    try {
      res = await this.#fetch(`${this.config.baseUrl}/chat/completions`, { method: 'POST', headers: this.#headers(false), body: JSON.stringify({ ...body, stream: true }) }, deadline, signal);
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw httpError(this.ctx, res.status, text, res.headers, 'chat', String(body.model));
      }
      if (!res.body) throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) sent no body`);
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        const text = await res.text().catch(() => '');
        throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered a streaming request with ${type || 'no content type'}: ${text.slice(0, 200)}`);
      }
    } catch (err) {
      deadline.clear();
      throw err;
    }
    const reader = res.body.getReader();
    const ctx = this.ctx;
    const timeoutMs = this.config.timeoutMs;
    let cancelled = false;
    async function* bytes(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await reader.read();
          } catch (err) {
            if (signal?.aborted || cancelled) throw new WestfallError('aborted', 'the request was cancelled');
            const e = networkError(ctx, err, deadline.timedOut, timeoutMs);
            throw new WestfallError(e.code === 'upstream_unreachable' && !deadline.timedOut ? 'upstream_error' : e.code, `the stream from ${ctx.provider} (${ctx.host}) was cut off: ${e.message}`, { details: e.details });
          }
          if (r.done) return;
          deadline.reset();
          yield r.value;
        }
      } finally {
        deadline.clear();
        reader.releaseLock();
      }
    }
    async function* events(): AsyncGenerator<string> {
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of bytes()) {
        buf += decoder.decode(chunk, { stream: true });
        if (buf.includes('\r')) buf = buf.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (ev.length > 0) yield ev;
        }
      }
      if (buf.trim().length > 0) yield buf;
    }
    return {
      response: res,
      events,
      bytes,
      cancel: () => {
        cancelled = true;
        deadline.clear();
        // Cancelling the body closes the connection: the upstream sees the client leave.
        void reader.cancel().catch(() => res.body?.cancel().catch(() => {}));
      },
    };
  }
}

/** The JSON of an SSE event's data lines; null for [DONE], comments and events without data. */
export function eventData(ev: string): string | null {
  let data = '';
  for (const line of ev.split('\n')) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line.charAt(5) === ' ' ? 6 : 5);
  }
  return data === '' || data === '[DONE]' ? null : data;
}
