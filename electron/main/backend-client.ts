// A small authenticated client for the backend's HTTP API (used by the tray and the notification sources).
import type { BackendAddress } from './backend.js';

export class BackendHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'BackendHttpError';
  }
}

export interface BackendClient {
  readonly address: BackendAddress;
  json<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** A Server-Sent Events stream: calls onEvent for each event until the stream ends or `signal` aborts. */
  events(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void>;
}

export function createBackendClient(address: BackendAddress, fetchImpl: typeof fetch = fetch): BackendClient {
  const headers = (extra?: Record<string, string>): Record<string, string> => ({ authorization: `Bearer ${address.token}`, ...extra });
  return {
    address,
    async json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      const res = await fetchImpl(`${address.baseUrl}${path}`, {
        method,
        headers: headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal ?? AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!res.ok) {
        const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new BackendHttpError(res.status, err?.code, err?.message ?? `${method} ${path} answered ${res.status}`);
      }
      return parsed as T;
    },
    async events(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
      const res = await fetchImpl(`${address.baseUrl}${path}`, { headers: headers({ accept: 'text/event-stream' }), signal });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new BackendHttpError(res.status, undefined, `GET ${path} answered ${res.status}`);
      }
      const decoder = new TextDecoder();
      let buffer = '';
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let sep: number;
          while ((sep = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, sep);
            buffer = buffer.slice(sep).replace(/^\r?\n\r?\n/, '');
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith(':')) continue;
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length === 0) continue;
            let payload: unknown = data.join('\n');
            try {
              payload = JSON.parse(payload as string);
            } catch {
              // plain text data
            }
            onEvent(event, payload);
          }
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}
