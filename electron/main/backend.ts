// Backend supervision: runs `westfall serve` as a child process with a per-launch token and port, waits for
// GET /health, restarts it with exponential backoff when it exits unexpectedly (or never becomes healthy),
// gives up after `maxRestarts` consecutive failures, and stops it gracefully (SIGTERM, then SIGKILL after a
// timeout). Nothing here imports electron: the command to run is an option.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';

export const DEFAULT_PORT = 8756;
export const DEFAULT_HOST = '127.0.0.1';

export type BackendState = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface BackendAddress {
  port: number;
  baseUrl: string;
  wsUrl: string;
  token: string;
}

export interface BackendExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CrashInfo extends BackendExit {
  /** Why this launch failed: it exited, or it never answered /health in time. */
  reason: 'exited' | 'health_timeout' | 'spawn_error';
  /** Consecutive failures so far (1 for the first). */
  attempt: number;
  maxRestarts: number;
  /** Delay before the next try. */
  delayMs: number;
  outputTail: string;
}

export interface FailureInfo extends BackendExit {
  reason: CrashInfo['reason'];
  attempts: number;
  message: string;
  outputTail: string;
}

export interface StopResult extends BackendExit {
  /** True when the backend exited on its own after SIGTERM; false when it had to be killed. */
  graceful: boolean;
}

export interface BackendSupervisorOptions {
  /** Executable: `process.execPath` (with ELECTRON_RUN_AS_NODE=1 in `env` under Electron) or a Node binary. */
  command: string;
  /** Arguments for a port, e.g. `[cliPath, 'serve', '--port', String(port)]`. */
  args: (port: number) => string[];
  /** Environment of the child (defaults to process.env); WESTFALL_API_TOKEN, _HOST and _PORT are set on top. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  host?: string;
  /** Port to try first (8756); another free one is taken if it is busy. */
  preferredPort?: number;
  /** Bearer token; a random one (43 characters) if absent. */
  token?: string;
  healthTimeoutMs?: number;
  healthIntervalMs?: number;
  /** Consecutive failed launches tolerated before giving up (the first launch counts). */
  maxRestarts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A backend healthy for this long resets the failure count. */
  stableAfterMs?: number;
  /** Time between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
  /** Lines of output kept for the error screen. */
  outputLines?: number;
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
  fetch?: typeof fetch;
  findPort?: (preferred: number, host: string) => Promise<number>;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

export interface BackendSupervisorEvents {
  state: [BackendState];
  ready: [BackendAddress];
  crash: [CrashInfo];
  failed: [FailureInfo];
  output: [string];
  stopped: [StopResult];
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Delay before retry number `attempt` (1-based): base · 2^(attempt-1), capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

function probe(port: number, host: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(null);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => {
      const addr = server.address();
      const got = typeof addr === 'object' && addr ? addr.port : port;
      server.close(() => resolve(got));
    });
  });
}

/** `preferred` when a probe socket can listen on it, else a free port the system picks. */
export async function findFreePort(preferred: number, host: string = DEFAULT_HOST): Promise<number> {
  if (preferred > 0) {
    const got = await probe(preferred, host);
    if (got !== null) return got;
  }
  const any = await probe(0, host);
  if (any === null) throw new Error(`no free port on ${host}`);
  return any;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Redacts the token from text shown to the user or logged. */
function redact(text: string, token: string): string {
  return token ? text.split(token).join('<token>') : text;
}

interface Launch {
  child: ChildProcess;
  port: number;
  exited: Promise<BackendExit>;
  exit: BackendExit | null;
  abort: AbortController;
}

export class BackendSupervisor extends EventEmitter<BackendSupervisorEvents> {
  readonly token: string;
  private readonly opts: Required<
    Pick<
      BackendSupervisorOptions,
      | 'host'
      | 'preferredPort'
      | 'healthTimeoutMs'
      | 'healthIntervalMs'
      | 'maxRestarts'
      | 'backoffBaseMs'
      | 'backoffMaxMs'
      | 'stableAfterMs'
      | 'stopTimeoutMs'
      | 'outputLines'
    >
  > &
    BackendSupervisorOptions;
  private _state: BackendState = 'idle';
  private launch: Launch | null = null;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private lastPort: number | null = null;
  private output: string[] = [];
  private partial = '';
  private _address: BackendAddress | null = null;
  private firstReady: { resolve: (a: BackendAddress) => void; reject: (e: Error) => void; promise: Promise<BackendAddress> };
  private stopping: Promise<StopResult> | null = null;

  constructor(options: BackendSupervisorOptions) {
    super();
    this.opts = {
      host: DEFAULT_HOST,
      preferredPort: DEFAULT_PORT,
      healthTimeoutMs: 30_000,
      healthIntervalMs: 150,
      maxRestarts: 5,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      stableAfterMs: 60_000,
      stopTimeoutMs: 10_000,
      outputLines: 40,
      ...options,
    };
    this.token = options.token ?? generateToken();
    if (this.token.length < 16) throw new Error('the backend token must be at least 16 characters');
    let resolve!: (a: BackendAddress) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<BackendAddress>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // observed through start()
    this.firstReady = { resolve, reject, promise };
  }

  get state(): BackendState {
    return this._state;
  }

  /** The address while the backend is ready (or restarting on the same token), else null. */
  get address(): BackendAddress | null {
    return this._address;
  }

  get pid(): number | undefined {
    return this.launch?.child.pid;
  }

  /** Consecutive failed launches since the last stable run. */
  get failureCount(): number {
    return this.failures;
  }

  /** The last lines the backend printed (token redacted). */
  get outputTail(): string {
    return [...this.output, ...(this.partial ? [redact(this.partial, this.token)] : [])].join('\n');
  }

  /** Starts the backend; resolves with its address once /health answers, rejects if it fails for good. */
  start(): Promise<BackendAddress> {
    if (this._state === 'idle') void this.run();
    return this.firstReady.promise;
  }

  /** After `failed`: starts again with a fresh failure count. */
  retry(): void {
    if (this._state !== 'failed') return;
    this.failures = 0;
    void this.run();
  }

  private setState(state: BackendState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  private log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void {
    this.opts.log?.(level, message, data);
  }

  private record(chunk: string): void {
    // Redact whole lines: a token may arrive split across chunks.
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = (lines.pop() ?? '').slice(-4096);
    for (const raw of lines) {
      const line = redact(raw, this.token);
      this.output.push(line);
      this.emit('output', line);
    }
    if (this.output.length > this.opts.outputLines) this.output.splice(0, this.output.length - this.opts.outputLines);
  }

  private async run(): Promise<void> {
    if (this._state === 'stopping' || this._state === 'stopped') return;
    this.setState(this.failures === 0 ? 'starting' : 'restarting');
    let port: number;
    try {
      port = await (this.opts.findPort ?? findFreePort)(this.lastPort ?? this.opts.preferredPort, this.opts.host);
    } catch (err) {
      this.onFailure('spawn_error', { code: null, signal: null }, (err as Error).message);
      return;
    }
    if (this.isStopping()) return;
    this.lastPort = port;
    const spawn = this.opts.spawn ?? nodeSpawn;
    const env: NodeJS.ProcessEnv = {
      ...(this.opts.env ?? process.env),
      WESTFALL_API_TOKEN: this.token,
      WESTFALL_HOST: this.opts.host,
      WESTFALL_PORT: String(port),
    };
    this.output = [];
    this.partial = '';
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command, this.opts.args(port), {
        env,
        ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}),
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (err) {
      this.onFailure('spawn_error', { code: null, signal: null }, (err as Error).message);
      return;
    }
    const launch: Launch = {
      child,
      port,
      exit: null,
      abort: new AbortController(),
      exited: new Promise<BackendExit>((resolve) => {
        child.once('error', (err) => {
          this.record(`${err.message}\n`);
          // A child that never spawned emits no 'exit'.
          if (child.pid === undefined) resolve({ code: null, signal: null });
        });
        child.once('exit', (code, signal) => resolve({ code, signal }));
      }),
    };
    // 'close' comes after the child's output has been read; the error screen wants its last lines.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.launch = launch;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.record(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.record(d));
    this.log('info', 'backend starting', { pid: child.pid, port });

    void launch.exited.then(async (exit) => {
      launch.exit = exit;
      launch.abort.abort();
      if (this.launch !== launch || this.isStopping()) return;
      this.launch = null;
      this.clearStable();
      await Promise.race([closed, delay(500)]);
      if (this.isStopping()) return;
      this.log('warn', 'backend exited', { ...exit });
      this.onFailure(child.pid === undefined ? 'spawn_error' : 'exited', exit);
    });

    const healthy = await this.waitForHealth(port, launch.abort.signal);
    if (this.launch !== launch || this.isStopping()) return;
    if (!healthy) {
      if (launch.exit) return; // the exit handler took over
      this.log('error', 'backend did not become healthy in time; killing it', { timeoutMs: this.opts.healthTimeoutMs });
      this.launch = null;
      await this.terminate(launch, 2000);
      this.onFailure('health_timeout', launch.exit ?? { code: null, signal: null });
      return;
    }
    const hostForUrl = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this._address = { port, baseUrl: `http://${hostForUrl}:${port}`, wsUrl: `ws://${hostForUrl}:${port}`, token: this.token };
    this.setState('ready');
    this.log('info', 'backend ready', { port, pid: child.pid });
    this.clearStable();
    this.stableTimer = setTimeout(() => {
      this.failures = 0;
    }, this.opts.stableAfterMs);
    this.stableTimer.unref();
    this.emit('ready', this._address);
    this.firstReady.resolve(this._address);
  }

  private async waitForHealth(port: number, signal: AbortSignal): Promise<boolean> {
    const fetchImpl = this.opts.fetch ?? fetch;
    const hostForUrl = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    const url = `http://${hostForUrl}:${port}/health`;
    const deadline = Date.now() + this.opts.healthTimeoutMs;
    while (!signal.aborted && Date.now() < deadline) {
      try {
        const res = await fetchImpl(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
        if (res.ok) {
          const body = (await res.json()) as { status?: unknown };
          if (body && body.status === 'ok') return true;
        } else {
          await res.body?.cancel();
        }
      } catch {
        // not listening yet
      }
      await delay(this.opts.healthIntervalMs, signal);
    }
    return false;
  }

  private onFailure(reason: CrashInfo['reason'], exit: BackendExit, message?: string): void {
    this.failures += 1;
    const outputTail = this.outputTail;
    if (this.failures >= this.opts.maxRestarts) {
      this._address = null;
      this.setState('failed');
      const why =
        reason === 'health_timeout'
          ? `it did not answer on /health within ${Math.round(this.opts.healthTimeoutMs / 1000)} s`
          : reason === 'spawn_error'
            ? `it could not be started${message ? ` (${message})` : ''}`
            : `it exited (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})`;
      const info: FailureInfo = {
        ...exit,
        reason,
        attempts: this.failures,
        message: `The backend failed ${this.failures} time${this.failures === 1 ? '' : 's'} in a row; the last time ${why}.`,
        outputTail,
      };
      this.log('error', 'backend failed for good', { attempts: this.failures, reason });
      this.emit('failed', info);
      this.firstReady.reject(Object.assign(new Error(info.message), { info }));
      return;
    }
    const delayMs = backoffDelay(this.failures, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
    this.setState('restarting');
    this.emit('crash', { ...exit, reason, attempt: this.failures, maxRestarts: this.opts.maxRestarts, delayMs, outputTail });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.run();
    }, delayMs);
  }

  private clearStable(): void {
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }

  private isStopping(): boolean {
    return this._state === 'stopping' || this._state === 'stopped';
  }

  private async terminate(launch: Launch, timeoutMs: number): Promise<StopResult> {
    if (launch.exit) return { ...launch.exit, graceful: true };
    if (launch.child.pid === undefined) return { code: null, signal: null, graceful: true };
    launch.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const exit = await Promise.race([launch.exited, timedOut]);
    clearTimeout(timer);
    if (exit) return { ...exit, graceful: true };
    this.log('warn', 'backend ignored SIGTERM; killing it', { timeoutMs });
    launch.child.kill('SIGKILL');
    const killed = await Promise.race([launch.exited, delay(5000).then(() => ({ code: null, signal: 'SIGKILL' as NodeJS.Signals }))]);
    return { ...killed, graceful: false };
  }

  /** Stops the backend: SIGTERM, wait up to `stopTimeoutMs`, then SIGKILL. Cancels pending restarts. */
  stop(): Promise<StopResult> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.setState('stopping');
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.clearStable();
      const launch = this.launch;
      this.launch = null;
      this._address = null;
      const result = launch ? await this.terminate(launch, this.opts.stopTimeoutMs) : { code: null, signal: null, graceful: true };
      launch?.abort.abort();
      this.setState('stopped');
      this.log('info', 'backend stopped', { ...result });
      this.emit('stopped', result);
      this.firstReady.reject(new Error('the backend was stopped'));
      return result;
    })();
    return this.stopping;
  }
}
