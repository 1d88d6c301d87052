// HTTP to one provider: GET /models and POST /chat/completions over node:http(s) with keep-alive (a
// stream's chunks arrive as Buffers, without the per-chunk promises of fetch's web streams: the router
// stays cheap per token). The key is sent only to the provider's own origin: redirects are followed by
// hand and only within that origin. A timeout covers the wait for the answer's headers and every silence
// between stream chunks; the caller's signal aborts the request at once, which closes the connection, so
// the upstream sees the cancel and stops generating.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { WestfallError } from '../errors.js';
import { httpError, networkError, type UpstreamContext } from './upstream-errors.js';

export interface ClientConfig {
  /** The provider's name (for messages). */
  name: string;
  baseUrl: string;
  apiKey: string | null;
  timeoutMs: number;
}

const MAX_REDIRECTS = 3;
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

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

interface Answer {
  req: http.ClientRequest;
  res: IncomingMessage;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const h = body !== undefined ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers;
    const req = (secure ? https : http).request(url, { method, headers: h, agent: secure ? agents.https : agents.http, signal }, (res) => resolve({ req, res }));
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(body);
  });
}

/** Node's header object as fetch's Headers (for the error mapping). */
function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
  return h;
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface UpstreamStream {
  /** SSE events ("data: {...}", without the blank line), read from the body as it arrives. */
  events(): AsyncGenerator<string>;
  /**
   * The rest of the body as it arrives, for passing through: first the text read but not yet returned
   * as an event, then the raw chunks. Use after (instead of further) events().
   */
  rest(): AsyncGenerator<Buffer | string>;
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

  #headers(stream: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: stream ? 'text/event-stream' : 'application/json', 'content-type': 'application/json' };
    if (this.config.apiKey) h.authorization = `Bearer ${this.config.apiKey}`;
    return h;
  }

  /** One request, following redirects only within the provider's origin. */
  async #request(path: string, method: 'GET' | 'POST', body: string | undefined, stream: boolean, deadline: Deadline, signal: AbortSignal | undefined): Promise<Answer> {
    const combined = signal ? AbortSignal.any([signal, deadline.controller.signal]) : deadline.controller.signal;
    let target = new URL(`${this.config.baseUrl}${path}`);
    for (let hop = 0; ; hop++) {
      let a: Answer;
      try {
        a = await send(target, method, this.#headers(stream), body, combined);
      } catch (err) {
        if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
        throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
      }
      const status = a.res.statusCode ?? 0;
      if (status < 300 || status >= 400 || status === 304) return a;
      a.res.resume();
      const location = a.res.headers.location;
      const next = location ? new URL(location, target) : null;
      if (!next || next.origin !== this.#origin) {
        throw new WestfallError('upstream_redirect', `${this.ctx.provider} (${this.ctx.host}) redirected to ${next ? next.host : 'nowhere'}; only redirects within ${this.ctx.host} are followed`, {
          details: { provider: this.ctx.provider, host: this.ctx.host, location: next ? next.origin : null },
        });
      }
      if (hop >= MAX_REDIRECTS) throw new WestfallError('upstream_redirect', `${this.ctx.provider} redirected more than ${MAX_REDIRECTS} times`);
      // 303 (and, as browsers do, 301/302 on POST) turn into GET, which no chat endpoint takes: refuse.
      if (method === 'POST' && status !== 307 && status !== 308) {
        throw new WestfallError('upstream_redirect', `${this.ctx.provider} answered a POST with HTTP ${status}; only 307/308 keep the request`);
      }
      target = next;
    }
  }

  async #json(path: string, method: 'GET' | 'POST', body: Record<string, unknown> | undefined, what: 'chat' | 'models', signal?: AbortSignal): Promise<unknown> {
    const deadline = new Deadline(this.config.timeoutMs);
    try {
      const { res } = await this.#request(path, method, body ? JSON.stringify(body) : undefined, false, deadline, signal);
      const text = await readText(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw httpError(this.ctx, status, text, headersOf(res), what, body ? String(body.model) : undefined);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered ${path} with something other than JSON: is it an OpenAI-compatible server?`);
      }
    } catch (err) {
      if (err instanceof WestfallError) throw err;
      if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
      throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
    } finally {
      deadline.clear();
    }
  }

  /** Model ids the server lists. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const body = await this.#json('/models', 'GET', undefined, 'models', signal);
    const data = (body as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered /models without a "data" list`);
    return data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string');
  }

  /** POST /chat/completions without streaming: the parsed JSON answer. */
  async chatJson(body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return (await this.#json('/chat/completions', 'POST', body, 'chat', signal)) as Record<string, unknown>;
  }

  /** POST /chat/completions with stream: true; resolves once the headers say the stream has begun. */
  async chatStream(body: Record<string, unknown>, signal?: AbortSignal): Promise<UpstreamStream> {
    const deadline = new Deadline(this.config.timeoutMs);
    let answer: Answer;
    try {
      answer = await this.#request('/chat/completions', 'POST', JSON.stringify({ ...body, stream: true }), true, deadline, signal);
      const { res } = answer;
      const status = res.statusCode ?? 0;
      if (status >= 400) {
        const text = await readText(res).catch(() => '');
        throw httpError(this.ctx, status, text, headersOf(res), 'chat', String(body.model));
      }
      const type = res.headers['content-type'] ?? '';
      if (!type.includes('text/event-stream')) {
        const text = await readText(res).catch(() => '');
        throw new WestfallError('upstream_error', `${this.ctx.provider} (${this.ctx.host}) answered a streaming request with ${type || 'no content type'}: ${text.slice(0, 200)}`);
      }
    } catch (err) {
      deadline.clear();
      if (err instanceof WestfallError) throw err;
      if (signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
      throw networkError(this.ctx, err, deadline.timedOut, this.config.timeoutMs);
    }
    const { req, res } = answer;
    const ctx = this.ctx;
    const timeoutMs = this.config.timeoutMs;
    const source = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let cancelled = false;
    let ended = false;
    /** The next raw chunk, or null at the end of the body. */
    const pull = async (): Promise<Buffer | null> => {
      if (ended) return null;
      let r: IteratorResult<Buffer>;
      try {
        r = await source.next();
      } catch (err) {
        ended = true;
        deadline.clear();
        if (signal?.aborted || cancelled) throw new WestfallError('aborted', 'the request was cancelled');
        const e = networkError(ctx, err, deadline.timedOut, timeoutMs);
        throw new WestfallError(deadline.timedOut ? e.code : 'upstream_error', `the stream from ${ctx.provider} (${ctx.host}) was cut off: ${e.message}`, { details: e.details });
      }
      // A body that ends without its last chunk (the connection closed mid-way) ends "normally" on
      // some Node versions: `complete` tells the two apart.
      if (r.done) {
        ended = true;
        deadline.clear();
        if (!res.complete && !cancelled) throw new WestfallError('upstream_error', `the stream from ${ctx.provider} (${ctx.host}) was cut off`);
        return null;
      }
      deadline.reset();
      return r.value;
    };
    let buf = '';
    const decoder = new TextDecoder();
    // The bytes of a character split over two chunks, which the decoder holds until the next one.
    let heldBytes: Buffer | null = null;
    async function* events(): AsyncGenerator<string> {
      for (;;) {
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (ev.length > 0) yield ev;
        }
        const chunk = await pull();
        if (chunk === null) break;
        buf += decoder.decode(chunk, { stream: true });
        const tail = incompleteUtf8Tail(chunk);
        heldBytes = tail > 0 ? chunk.subarray(chunk.length - tail) : null;
        if (buf.includes('\r')) buf = buf.replace(/\r\n?/g, '\n');
      }
      if (buf.trim().length > 0) yield buf;
      buf = '';
    }
    async function* rest(): AsyncGenerator<Buffer | string> {
      const held = buf;
      buf = '';
      if (held) yield held;
      if (heldBytes) yield heldBytes;
      for (;;) {
        const chunk = await pull();
        if (chunk === null) return;
        yield chunk;
      }
    }
    return {
      events,
      rest,
      cancel: () => {
        cancelled = true;
        deadline.clear();
        // Destroying the request closes the connection: the upstream sees the client leave.
        if (!ended || !res.complete) {
          res.destroy();
          req.destroy();
        }
      },
    };
  }
}

/** How many bytes at the end of `b` start a UTF-8 character that continues in the next chunk. */
export function incompleteUtf8Tail(b: Buffer): number {
  for (let i = 1; i <= Math.min(3, b.length); i++) {
    const c = b[b.length - i]!;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > i ? i : 0;
  }
  return 0;
}

/** The JSON of an SSE event's data lines; null for [DONE], comments and events without data. */
export function eventData(ev: string): string | null {
  let data = '';
  for (const line of ev.split('\n')) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line.charAt(5) === ' ' ? 6 : 5);
  }
  return data === '' || data === '[DONE]' ? null : data;
}
