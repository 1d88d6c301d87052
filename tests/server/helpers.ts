// Shared setup for the service tests: a config for the tiny model, a real listening server on
// 127.0.0.1:0, and a small WebSocket client that collects protocol messages by request id.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { configFrom, type Config, type RawSettings } from '../../src/config/index.js';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES } from '../../src/gguf/index.js';
import { createLogger } from '../../src/logging/index.js';
import { createApp, ModelManager, wsServerMessageSchema, type AppDeps, type WsServerMessage } from '../../src/server/index.js';

export const TINY_MODEL = join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export function tempDir(prefix = 'westfall-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Small, fast settings: 1024-token context, one thread (two spinning threads on a busy 2-core box crawl). */
export function testConfig(settings: RawSettings = {}): Config {
  return configFrom({
    WESTFALL_API_TOKEN: TOKEN,
    WESTFALL_CONTEXT_SIZE: 1024,
    WESTFALL_THREADS: 1,
    WESTFALL_PARALLEL: 2,
    WESTFALL_MAX_TOKENS: 16,
    WESTFALL_DATA_DIR: join(tmpdir(), 'westfall-test-data'),
    WESTFALL_LOG_FILE: false,
    WESTFALL_SHUTDOWN_TIMEOUT_MS: 3000,
    // The data folder is shared by the test files: saved conversation states would carry over from one
    // test to another. The tests of that feature use a folder of their own.
    WESTFALL_PROMPT_CACHE_MB: 0,
    ...settings,
  });
}

/** Captures log lines as parsed JSON. */
export function logCapture(level: 'info' | 'debug' | 'warn' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  const { logger } = createLogger({ level, logsDir: null, console: false, destination: stream });
  return { logger, lines, raw };
}

export interface TestServer {
  app: ReturnType<typeof createApp>;
  manager: ModelManager;
  config: Config;
  port: number;
  url: string;
  wsUrl: string;
  close: () => Promise<void>;
}

export async function startServer(options: { settings?: RawSettings; load?: boolean; deps?: AppDeps } = {}): Promise<TestServer> {
  const config = testConfig(options.settings);
  const manager = options.deps?.manager ?? ModelManager.fromConfig(config);
  if (options.load !== false) await manager.load(TINY_MODEL);
  const app = createApp(config, { ...options.deps, manager });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    app,
    manager,
    config,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/llm/stream`,
    close: () => app.close(),
  };
}

/** A WebSocket client of the streaming protocol; every server message is validated by the shared schema. */
export class StreamClient {
  readonly ws: WebSocket;
  readonly messages: WsServerMessage[] = [];
  readonly invalid: unknown[] = [];
  closeCode: number | null = null;
  #listeners = new Set<() => void>();

  constructor(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}) {
    this.ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? AUTH });
    this.ws.on('message', (data) => {
      const parsed = wsServerMessageSchema.safeParse(JSON.parse(String(data)));
      if (parsed.success) this.messages.push(parsed.data);
      else this.invalid.push(String(data));
      this.#notify();
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.#notify();
    });
    this.ws.on('error', () => this.#notify());
  }

  #notify() {
    for (const l of [...this.#listeners]) l();
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  of(id: string): WsServerMessage[] {
    return this.messages.filter((m) => 'id' in m && m.id === id);
  }

  /** Resolves when `predicate` holds (checked on every message), or rejects after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = predicate();
        if (v) {
          this.#listeners.delete(check);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`timed out; messages so far: ${JSON.stringify(this.messages).slice(0, 2000)}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  /** The final message (done or error) of request `id`. */
  final(id: string, timeoutMs?: number) {
    return this.waitFor(() => this.of(id).find((m) => m.type === 'done' || m.type === 'error'), timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns truthy. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(stepMs);
  }
}
