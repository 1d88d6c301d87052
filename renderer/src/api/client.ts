// The backend's HTTP API: JSON requests with the bearer token, errors as ApiError (from the service's
// `{ error: { type, code, message, details } }`), Server-Sent Events read through fetch (EventSource cannot
// send the Authorization header), and the WebSocket chat stream (chat-socket.ts).
import { ChatSocket } from './chat-socket.js';
import type { ErrorBody } from './types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** A route this backend does not have (a feature not present in this build). */
  get isMissingRoute(): boolean {
    return this.status === 404 && this.code === 'not_found' && /^(no route|Route) /i.test(this.message);
  }
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
}

export class ApiClient {
  readonly baseUrl: string;
  /** Null in a browser signed in with the session cookie (the page never holds a token then). */
  readonly #token: string | null;
  #socket: ChatSocket | null = null;

  constructor(baseUrl: string, token: string | null) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  get wsBaseUrl(): string {
    return this.baseUrl.replace(/^http/, 'ws');
  }

  /** Whether requests carry a bearer token (the desktop app, `/?token=` scripts) rather than the session cookie. */
  get hasToken(): boolean {
    return this.#token !== null;
  }

  /** The Authorization header value ('' with a cookie session), for the few places that build their own requests. */
  get authorization(): string {
    return this.#token === null ? '' : `Bearer ${this.#token}`;
  }

  #authHeaders(): Record<string, string> {
    return this.#token === null ? {} : { authorization: this.authorization };
  }

  /** WebSocket subprotocols; the token rides in one (browsers cannot set headers on a WebSocket), the cookie goes by itself. */
  get wsProtocols(): string[] {
    return this.#token === null ? ['westfall.v1'] : ['westfall.v1', `bearer.${this.#token}`];
  }

  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { ...this.#authHeaders(), accept: 'application/json', ...opts.headers };
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), { method, headers, body: payload, signal: opts.signal ?? null, cache: 'no-store' });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'offline', 'The assistant service cannot be reached. Is it running?');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!res.ok) throw toApiError(res.status, json, text);
    return json as T;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, opts);
  }
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body ?? {}, opts);
  }
  put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, body ?? {}, opts);
  }
  patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, body ?? {}, opts);
  }
  delete<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, undefined, opts);
  }

  /**
   * Reads a Server-Sent Events stream (GET, or a POST with `init.body`) until it ends or `signal` aborts;
   * `onEvent` gets each event (comments and keep-alives are skipped).
   */
  async sse(path: string, onEvent: (e: SseEvent) => void, signal?: AbortSignal, init: { method?: string; body?: unknown } = {}): Promise<void> {
    const headers: Record<string, string> = { ...this.#authHeaders(), accept: 'text/event-stream' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: signal ?? null,
        cache: 'no-store',
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'offline', 'The assistant service cannot be reached. Is it running?');
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw toApiError(res.status, json, text);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let m: RegExpExecArray | null;
      while ((m = /\r?\n\r?\n/.exec(buffer)) !== null) {
        const block = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        const ev = parseSseBlock(block);
        if (ev) onEvent(ev);
      }
    }
  }

  /** The shared WebSocket of the chat stream (opened on first use, reopened after a drop). */
  get chat(): ChatSocket {
    this.#socket ??= new ChatSocket(`${this.wsBaseUrl}/api/llm/stream`, this.wsProtocols);
    return this.#socket;
  }

  close(): void {
    this.#socket?.close();
    this.#socket = null;
  }
}

export function parseSseBlock(block: string): SseEvent | null {
  let event = 'message';
  const data: string[] = [];
  let id: string | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return null;
  return { event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) };
}

function toApiError(status: number, json: unknown, text: string): ApiError {
  const body = json as Partial<ErrorBody> | undefined;
  const e = body?.error;
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    return new ApiError(status, typeof e.code === 'string' ? e.code : 'error', e.message, e.details);
  }
  return new ApiError(status, status === 0 ? 'offline' : 'http_error', text.trim().slice(0, 200) || `HTTP ${status}`);
}

async function sessionRequest(baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'offline', 'The assistant service cannot be reached. Is it running?');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw toApiError(res.status, json, text);
  return json;
}

/**
 * Signs this browser in with a one-time login code (from the link `npm start` / `westfall login-link`
 * prints) or the access token: the backend answers with an httpOnly session cookie, shared by every tab.
 */
export async function signIn(baseUrl: string, credential: { code: string } | { token: string }): Promise<void> {
  await sessionRequest(baseUrl, 'POST', '/api/session/login', credential);
}

/** Whether this browser has a session (its cookie is not readable by the page, so the backend is asked). */
export async function sessionStatus(baseUrl: string): Promise<{ signedIn: boolean; hint?: string }> {
  const r = (await sessionRequest(baseUrl, 'GET', '/api/session')) as { signedIn?: unknown; hint?: unknown };
  return { signedIn: r.signedIn === true, ...(typeof r.hint === 'string' ? { hint: r.hint } : {}) };
}

/** Ends this browser's session, or (everywhere) every browser's and every unused login link. */
export async function signOut(baseUrl: string, everywhere = false): Promise<void> {
  await sessionRequest(baseUrl, 'POST', everywhere ? '/api/session/logout-all' : '/api/session/logout', {});
}
