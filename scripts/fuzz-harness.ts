// The shared half of the HTTP fuzzers (scripts/fuzz-routes.ts, scripts/fuzz-grammar.ts): the whole
// service as `westfall serve` composes it (model, models, tool and renderer routes) in a child process
// with the tiny model loaded, so that an abort inside llama.cpp ends only the child and is reported as a
// crash; a client that sends exactly what it is given (bad bytes, bad headers) and waits up to a generous
// limit; and the one property every answer must have.
//
// The property: a status below 500, or one of the documented 5xx (ALLOWED_5XX: 503 while no model is
// ready or the service shuts down, 502/507 of model downloads); every error in the project's error shape
// with a string `code` (OpenAI's shape on /v1); SSE error events likewise; every request answered within
// the limit; the process alive and /health answering after every batch.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { ERROR_HTTP } from '../src/server/errors.js';
import { errorBodySchema, openAIErrorBodySchema, wsServerMessageSchema } from '../src/server/schemas.js';

// ---------------------------------------------------------------------------------------------------
// Seeded randomness: every case has its own generator, derived from the run's seed and the case's index,
// so one case can be replayed alone (--case N) with the same bytes.

/** mulberry32, as scripts/fuzz-gguf.ts. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function caseRng(seed: number, index: number): () => number {
  return rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

export class Random {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }
  /** One of `weighted` [weight, value] pairs. */
  weighted<T>(weighted: readonly (readonly [number, T])[]): T {
    const total = weighted.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of weighted) {
      r -= w;
      if (r < 0) return v;
    }
    return weighted[weighted.length - 1]![1];
  }
}

// ---------------------------------------------------------------------------------------------------
// The allowed answers

/** Codes a 5xx may carry: the service is not ready (no model, loading, shutting down) or a download's upstream failed. */
export const ALLOWED_5XX: ReadonlySet<string> = new Set(
  Object.entries(ERROR_HTTP)
    .filter(([code, m]) => m.status >= 500 && (m.type === 'unavailable_error' || m.type === 'upstream_error' || code === 'insufficient_disk_space'))
    .map(([code]) => code),
);

export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
  websocket: boolean;
  queryToken: boolean;
}

export interface HttpRequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Stop reading an event stream after its first event (streams that never end on their own). */
  firstEventOnly?: boolean;
}

export type HttpOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; ms: number }
  | { kind: 'hang'; ms: number; status?: number }
  | { kind: 'neterror'; message: string; ms: number };

const MAX_BODY_KEPT = 8 * 1024 * 1024;

/** Sends one request on its own connection and waits up to `limitMs` for the whole answer. */
export function sendHttp(port: number, spec: HttpRequestSpec, limitMs: number): Promise<HttpOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let status: number | undefined;
    const done = (o: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(spec.body));
    }
    const req = httpRequest({ host: '127.0.0.1', port, method: spec.method, path: spec.path, headers, agent: false, setHost: !('host' in headers) });
    const timer = setTimeout(() => done({ kind: 'hang', ms: ms(), ...(status !== undefined ? { status } : {}) }), limitMs);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      const finish = () => done({ kind: 'response', status: status!, headers: res.headers, body: Buffer.concat(chunks), ms: ms() });
      res.on('data', (d: Buffer) => {
        if (kept < MAX_BODY_KEPT) {
          chunks.push(d);
          kept += d.length;
        }
        if (stream && spec.firstEventOnly && Buffer.concat(chunks).includes('\n\n')) finish();
      });
      res.on('end', finish);
      // A stream cut by the server after its headers still answered; what it sent is checked.
      res.on('error', finish);
      res.on('aborted', finish);
    });
    req.on('error', (err) => {
      // The server may answer (413) and close before a large body is all sent: the answer counts.
      if (status === undefined) done({ kind: 'neterror', message: err.message, ms: ms() });
    });
    if (spec.body === undefined) req.end();
    else {
      // A large body goes in pieces, and stops once the answer has begun.
      const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : spec.body;
      const CHUNK = 64 * 1024;
      let at = 0;
      const pump = () => {
        while (at < body.length && status === undefined && !settled) {
          const piece = body.subarray(at, at + CHUNK);
          at += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        if (!settled) req.end();
      };
      pump();
    }
  });
}

/** The problems of one HTTP answer, none when it has the property. */
export function checkHttpAnswer(spec: HttpRequestSpec, o: HttpOutcome, options: { allowRendererNotBuilt?: boolean } = {}): string[] {
  if (o.kind === 'hang') return [`no complete answer within the limit (${o.ms} ms${o.status !== undefined ? `, status ${o.status} arrived` : ''})`];
  if (o.kind === 'neterror') return [`connection failed: ${o.message}`];
  const problems: string[] = [];
  const openAI = spec.path === '/v1' || spec.path.startsWith('/v1/') || spec.path.startsWith('/v1?');
  const type = String(o.headers['content-type'] ?? '');
  const text = o.body.toString('utf8');
  const path = spec.path.split('?')[0]!;
  if (o.status >= 400) {
    // The web UI's page when dist/renderer is missing: HTML for a browser, documented in renderer.ts.
    if (o.status === 503 && options.allowRendererNotBuilt !== false && spec.method === 'GET' && (path === '/' || path === '/index.html') && type.startsWith('text/html')) {
      return [];
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`status ${o.status} with a body that is not JSON (${type}): ${clip(text, 200)}`];
    }
    const shape = (openAI ? openAIErrorBodySchema : errorBodySchema).safeParse(body);
    if (!shape.success) problems.push(`status ${o.status}: the error body is not in the ${openAI ? 'OpenAI' : 'project'}'s shape: ${clip(text, 300)}`);
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    if (typeof code !== 'string') problems.push(`status ${o.status}: the error has no string code: ${clip(text, 300)}`);
    else if (o.status >= 500 && !ALLOWED_5XX.has(code)) problems.push(`status ${o.status} ${code}: ${clip(text, 300)}`);
    return problems;
  }
  if (type.startsWith('text/event-stream')) problems.push(...checkSse(text, openAI));
  else if (type.startsWith('application/json') && o.status !== 204) {
    try {
      JSON.parse(text);
    } catch {
      problems.push(`status ${o.status}: application/json that does not parse: ${clip(text, 200)}`);
    }
  }
  return problems;
}

/** An event stream's error events: each in the error shape with a documented code. */
function checkSse(text: string, openAI: boolean): string[] {
  const problems: string[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data || data === '[DONE]') continue;
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      problems.push(`an event's data is not JSON: ${clip(data, 200)}`);
      continue;
    }
    // Error events carry { error: { code, … } } (the agent's in the project's shape, /v1's in OpenAI's); a
    // download's events are its snapshot, whose `error` is null until it fails.
    const error = (value as { error?: unknown } | null)?.error;
    if (error === undefined || error === null) {
      if (event === 'error' && !openAI && (value as { state?: unknown } | null)?.state === undefined) problems.push(`an error event without an error: ${clip(data, 300)}`);
      continue;
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') problems.push(`an error event without a string code: ${clip(data, 300)}`);
    else if (!ALLOWED_5XX.has(code) && (ERROR_HTTP[code]?.status ?? 400) >= 500) problems.push(`an error event with ${code}: ${clip(data, 300)}`);
  }
  return problems;
}

export function clip(s: string, n: number): string {
  const clean = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length <= n ? clean : `${clean.slice(0, n)}… (${s.length} chars)`;
}

// ---------------------------------------------------------------------------------------------------
// WebSocket

export interface WsMessageSpec {
  data: string | Buffer;
  binary: boolean;
}

export interface WsSpec {
  path: string;
  headers: Record<string, string>;
  protocols?: string[];
  messages: WsMessageSpec[];
  /** The upgrade must be refused (bad token, bad Host). */
  expectRefused: boolean;
  /** A frame over the server's maxPayload: the server closes with 1009 and answers nothing more. */
  oversized: boolean;
}

export type WsOutcome =
  | { kind: 'refused'; status: number; body: string; ms: number }
  | { kind: 'answered'; messages: string[]; closeCode: number | null; ms: number }
  | { kind: 'hang'; messages: string[]; waitingFor: string[]; ms: number }
  | { kind: 'neterror'; message: string; ms: number };

const SENTINEL_PREFIX = 'fuzz-sentinel-';

/**
 * Opens a socket, sends the messages, then a sentinel (an invalid chat with a known id) whose error shows
 * that every earlier message was read; then waits for the final message (done or error) of every valid
 * chat that was sent. Cancels of unknown ids have no answer by design.
 */
export function runWs(port: number, spec: WsSpec, limitMs: number, isValidChat: (raw: string) => string | null): Promise<WsOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const received: string[] = [];
    const waiting = new Set<string>();
    const sentinel = `${SENTINEL_PREFIX}${Math.floor(Math.random() * 1e9)}`;
    let sentAll = false;
    let sentinelSeen = false;
    let settled = false;
    let closeCode: number | null = null;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${spec.path}`, spec.protocols ?? [], {
      headers: spec.headers,
      maxPayload: 64 * 1024 * 1024,
      perMessageDeflate: false,
    });
    const done = (o: WsOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => done({ kind: 'hang', messages: received, waitingFor: sentinelSeen ? [...waiting] : [sentinel, ...waiting], ms: ms() }), limitMs);
    const check = () => {
      if (sentAll && sentinelSeen && waiting.size === 0) done({ kind: 'answered', messages: received, closeCode, ms: ms() });
    };
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => done({ kind: 'refused', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: ms() }));
      res.on('error', () => done({ kind: 'refused', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: ms() }));
    });
    ws.on('error', (err) => {
      if (!settled && ws.readyState !== WebSocket.OPEN && received.length === 0 && closeCode === null) done({ kind: 'neterror', message: err.message, ms: ms() });
    });
    ws.on('message', (data) => {
      const text = String(data);
      received.push(text);
      try {
        const m = JSON.parse(text) as { type?: string; id?: string };
        if (m.id === sentinel) sentinelSeen = true;
        if ((m.type === 'done' || m.type === 'error') && m.id !== undefined) waiting.delete(m.id);
      } catch {
        // Reported by the check.
      }
      check();
    });
    ws.on('close', (code) => {
      closeCode = code;
      // A closed socket answers nothing more: what arrived is checked (an early close is a finding there).
      done({ kind: 'answered', messages: received, closeCode, ms: ms() });
    });
    ws.on('open', () => {
      for (const m of spec.messages) {
        if (!m.binary && typeof m.data === 'string') {
          const id = isValidChat(m.data);
          if (id !== null) waiting.add(id);
        }
        ws.send(m.data, { binary: m.binary });
      }
      ws.send(JSON.stringify({ type: 'chat', id: sentinel, messages: [] }));
      sentAll = true;
      check();
    });
  });
}

export function checkWsAnswer(spec: WsSpec, o: WsOutcome): string[] {
  if (o.kind === 'neterror') return [`connection failed: ${o.message}`];
  if (o.kind === 'hang') return [`no answer within the limit (${o.ms} ms) for ${o.waitingFor.join(', ')}; got ${clip(o.messages.join(' | '), 400)}`];
  if (o.kind === 'refused') {
    if (!spec.expectRefused) return [`the upgrade was refused with ${o.status}: ${clip(o.body, 300)}`];
    const problems: string[] = [];
    if (o.status >= 500) problems.push(`the upgrade was refused with ${o.status}`);
    try {
      const parsed = errorBodySchema.safeParse(JSON.parse(o.body));
      if (!parsed.success) problems.push(`the refusal is not in the error shape: ${clip(o.body, 300)}`);
    } catch {
      problems.push(`the refusal body is not JSON: ${clip(o.body, 300)}`);
    }
    return problems;
  }
  const problems: string[] = [];
  if (spec.expectRefused) problems.push('the upgrade was accepted without a valid token or Host');
  for (const text of o.messages) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push(`a message that is not JSON: ${clip(text, 200)}`);
      continue;
    }
    const parsed = wsServerMessageSchema.safeParse(value);
    if (!parsed.success) {
      problems.push(`a message outside the protocol: ${clip(text, 300)}`);
      continue;
    }
    const m = parsed.data;
    if (m.type === 'error' && !ALLOWED_5XX.has(m.error.code) && (ERROR_HTTP[m.error.code]?.status ?? 400) >= 500) {
      problems.push(`an error message with ${m.error.code}: ${clip(text, 300)}`);
    }
  }
  // A frame over maxPayload is the one reason the server closes by itself: 1009, or 1006 when the cut
  // reaches the client (still sending the frame) before the close frame does.
  if (o.closeCode !== null && !(spec.oversized && (o.closeCode === 1009 || o.closeCode === 1006))) problems.push(`the server closed the socket with ${o.closeCode}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The service in a child process

export const FUZZ_TOKEN = 'fuzz-token-0123456789abcdef0123';

export interface ServerOptions {
  /** The model to load; default: the tiny synthetic model. */
  model?: string;
  /** The server's default max tokens (requests that give none). */
  maxTokens?: number;
  /** Request body limit in bytes. */
  bodyLimit?: number;
}

interface ReadyMessage {
  type: 'ready';
  port: number;
  routes: RouteInfo[];
  musicDir: string;
  bodyLimit: number;
}

export type CrashInfo = { signal: string | null; exitCode: number | null; stderr: string };

const SELF = fileURLToPath(import.meta.url);

/** One running service; start() again after a crash. */
export class FuzzServer {
  child: ChildProcess | null = null;
  port = 0;
  routes: RouteInfo[] = [];
  musicDir = '';
  bodyLimit = 0;
  stderr = '';
  crash: CrashInfo | null = null;
  readonly dir: string;
  #starts = 0;
  #pending = new Map<number, (v: unknown) => void>();
  #nextId = 1;

  constructor(readonly options: ServerOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'westfall-fuzz-server-'));
  }

  get alive(): boolean {
    return this.child !== null && this.crash === null;
  }

  async start(): Promise<void> {
    const dataDir = join(this.dir, `run-${this.#starts++}`);
    mkdirSync(dataDir, { recursive: true });
    this.crash = null;
    this.stderr = '';
    const child = fork(SELF, ['--fuzz-server'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, WESTFALL_FUZZ_SERVER: JSON.stringify({ ...this.options, dataDir }) },
    });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-16_384);
    });
    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      child.on('message', (m: ReadyMessage | { type: 'reply'; id: number; value: unknown }) => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'reply') {
          this.#pending.get(m.id)?.(m.value);
          this.#pending.delete(m.id);
        }
      });
      child.on('exit', (exitCode, signal) => {
        if (this.child === child) this.crash = { signal, exitCode, stderr: this.stderr };
        for (const p of this.#pending.values()) p(null);
        this.#pending.clear();
        reject(new Error(`the fuzz server exited before it was ready (${signal ?? exitCode}): ${this.stderr.slice(-2000)}`));
      });
    });
    const m = await ready;
    this.port = m.port;
    this.routes = m.routes;
    this.musicDir = m.musicDir;
    this.bodyLimit = m.bodyLimit;
  }

  /** Loads the model again if a request unloaded it (POST /api/models/unload is fuzzed too). */
  ensureModel(): Promise<unknown> {
    if (!this.alive) return Promise.resolve(null);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child!.send({ type: 'ensure-model', id });
    });
  }

  /** GET /health answers 200 { status: 'ok' }. */
  async healthy(limitMs: number): Promise<string | null> {
    if (!this.alive) return 'the server process is gone';
    const o = await sendHttp(this.port, { method: 'GET', path: '/health', headers: {} }, limitMs);
    if (o.kind !== 'response') return `GET /health: ${o.kind === 'hang' ? 'no answer' : o.message}`;
    if (o.status !== 200) return `GET /health answered ${o.status}: ${clip(o.body.toString('utf8'), 200)}`;
    return null;
  }

  /**
   * After a hang: waits until no generation runs or queues (a generation the client left ends only
   * between tokens), so that the next case is not charged for this one's; restarts the server if it
   * never gets there within `limitMs`.
   */
  async waitIdle(limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (this.alive && Date.now() < deadline) {
      const o = await sendHttp(this.port, { method: 'GET', path: '/health/ready', headers: {} }, limitMs);
      if (o.kind === 'response') {
        try {
          const s = (JSON.parse(o.body.toString('utf8')) as { scheduler?: { running: number; queued: number } }).scheduler;
          if (!s || (s.running === 0 && s.queued === 0)) return;
        } catch {
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (this.alive) {
      this.stop();
      await this.start();
    }
  }

  /** Waits for the child's exit (a crash shows a moment after the connection drops). */
  async settle(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const onExit = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        child.off('exit', onExit);
        resolve();
      }, 200);
      child.once('exit', onExit);
    });
  }

  stop(): void {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  dispose(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function serverMain(): Promise<void> {
  const opts = JSON.parse(process.env.WESTFALL_FUZZ_SERVER ?? '{}') as ServerOptions & { dataDir: string };
  const { configFrom } = await import('../src/config/index.js');
  const { createApp, ModelManager } = await import('../src/server/index.js');
  const { createToolPlugins } = await import('../src/server/routes/tool-plugins.js');
  const modelsRoutes = (await import('../src/server/routes/models.js')).default;
  const { rendererRoutes, LoginCodes } = await import('../src/server/routes/renderer.js');
  const { createToolServices } = await import('../src/tools/index.js');
  const { createLogger } = await import('../src/logging/index.js');
  const { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } = await import('../src/gguf/index.js');

  const model = opts.model ?? join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
  // A fresh clone has no test models until `npm run models` or the test suite has made them.
  if (!opts.model && !existsSync(model)) await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'tiny' });
  const modelsDir = join(opts.dataDir, 'models');
  const musicDir = join(opts.dataDir, 'music');
  mkdirSync(modelsDir, { recursive: true });
  mkdirSync(musicDir, { recursive: true });
  const config = configFrom({
    WESTFALL_API_TOKEN: FUZZ_TOKEN,
    WESTFALL_CONTEXT_SIZE: 1024,
    WESTFALL_THREADS: 1,
    WESTFALL_PARALLEL: 2,
    WESTFALL_MAX_TOKENS: opts.maxTokens ?? 8,
    WESTFALL_DATA_DIR: opts.dataDir,
    WESTFALL_MODELS_DIR: modelsDir,
    WESTFALL_LOG_FILE: false,
    WESTFALL_SHUTDOWN_TIMEOUT_MS: 3000,
    ...(opts.bodyLimit ? { WESTFALL_BODY_LIMIT: opts.bodyLimit } : {}),
  });
  // Errors only, to stderr: an internal error's stack lands in the crash report's tail.
  const { logger } = createLogger({ level: 'error', logsDir: null, console: false, destination: process.stderr });
  const manager = ModelManager.fromConfig(config);
  await manager.load(model);
  // A cheap vault KDF (production's takes a second per unlock) and a short wait for tool confirmations
  // that nobody answers here.
  const tools = createToolServices(opts.dataDir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } }, confirmationTimeoutMs: 1000 });
  // Downloads never leave the machine: every fetch is a 404.
  const models = async (app: import('fastify').FastifyInstance, o: { config: { modelsDir: string }; manager: unknown }) => {
    await app.register(modelsRoutes, {
      ...(o as Parameters<typeof modelsRoutes>[1]),
      download: { fetchImpl: async () => new Response('not here', { status: 404 }), retryDelayMs: 1, retryMaxDelayMs: 1 },
      machineMemory: () => ({ totalBytes: 8 * 1024 ** 3, gpuBytes: null }),
    } as Parameters<typeof modelsRoutes>[1]);
  };
  const app = createApp(config, {
    manager,
    logger,
    extraPlugins: [models as never, ...createToolPlugins(tools), rendererRoutes({ logins: new LoginCodes() })],
  });
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      if (method === 'HEAD') continue;
      const cfg = (r.config ?? {}) as { public?: boolean; queryToken?: boolean };
      routes.push({ method, url: r.url, public: cfg.public === true, websocket: (r as { websocket?: boolean }).websocket === true, queryToken: cfg.queryToken === true });
    }
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  process.on('message', (m: { type: string; id: number }) => {
    if (m.type !== 'ensure-model') return;
    void (async () => {
      let state = manager.status().state;
      try {
        if (state !== 'ready') {
          await manager.load(model);
          state = manager.status().state;
        }
      } catch (err) {
        state = `error: ${(err as Error).message}` as never;
      }
      process.send!({ type: 'reply', id: m.id, value: state });
    })();
  });
  process.send!({ type: 'ready', port, routes, musicDir, bodyLimit: config.bodyLimit } satisfies ReadyMessage);
}

const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (invoked && process.argv.includes('--fuzz-server')) {
  serverMain().catch((err: unknown) => {
    process.stderr.write(`fuzz server failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
