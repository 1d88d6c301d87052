// "Share this computer's memory" in the tray: runs `westfall worker` (ggml's RPC server from our own
// build) as a child process, so another Westfall can split a model over this machine. It listens on
// 127.0.0.1 unless the desktop settings say otherwise: the protocol has no authentication, so reaching it
// from elsewhere is the user's explicit choice (an SSH tunnel, or a trusted network; docs/rpc.md).
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface WorkerShareOptions {
  command: string;
  /** The CLI's arguments for `worker` with these flags appended. */
  args: (flags: string[]) => string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  host?: string;
  port?: number;
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

export type WorkerShareState = 'off' | 'starting' | 'on' | 'failed';

export interface WorkerShareEvents {
  state: [WorkerShareState];
}

export class WorkerShare extends EventEmitter<WorkerShareEvents> {
  #child: ChildProcess | null = null;
  #state: WorkerShareState = 'off';
  /** The address others use, once listening; why it stopped, once failed. */
  endpoint: string | null = null;
  error: string | null = null;

  constructor(private readonly opts: WorkerShareOptions) {
    super();
  }

  get state(): WorkerShareState {
    return this.#state;
  }

  #set(s: WorkerShareState): void {
    this.#state = s;
    this.emit('state', s);
  }

  start(): void {
    if (this.#child) return;
    const flags = ['--host', this.opts.host ?? '127.0.0.1', ...(this.opts.port ? ['--port', String(this.opts.port)] : [])];
    const spawn = this.opts.spawn ?? nodeSpawn;
    this.error = null;
    this.endpoint = null;
    let out = '';
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command, this.opts.args(flags), { env: this.opts.env, cwd: this.opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.error = (err as Error).message;
      this.#set('failed');
      return;
    }
    this.#child = child;
    this.#set('starting');
    const onData = (d: Buffer | string) => {
      out = (out + String(d)).slice(-4000);
      const m = /westfall worker listening on (\S+)/.exec(out);
      if (m && this.#state === 'starting') {
        this.endpoint = m[1]!;
        this.#set('on');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      this.error = err.message;
    });
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = null;
      if (this.#state === 'off') return; // stopped by us
      const line = out.split('\n').reverse().find((l) => l.startsWith('westfall worker:'));
      this.error = line?.replace(/^westfall worker:\s*/, '') ?? this.error ?? `the worker exited (${signal ?? code})`;
      this.#set('failed');
    });
  }

  /** Stops the worker; resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#set('off');
    this.endpoint = null;
    if (!child) return;
    this.#child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
