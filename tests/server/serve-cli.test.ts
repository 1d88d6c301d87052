// `westfall serve` and `westfall login-link` as processes, as a user runs them: the address and a login
// link printed last; a new link from `westfall login-link` for the running backend; a second backend on a
// taken port says in one line what to do (open the running one, or choose WESTFALL_PORT) instead of a
// stack; a stop and start on the same data directory keeps the browser's session and loads the last used
// model; a configured file that is not GGUF is refused at start.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_MODEL, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'index.ts');
const T = 240_000;

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function cli(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', WESTFALL_THREADS: '1', WESTFALL_LOG_LEVEL: 'info', WESTFALL_API_TOKEN: '', WESTFALL_CONTEXT_SIZE: '512', WESTFALL_PARALLEL: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(fn: () => T | Promise<T>, what: string, run?: Run): Promise<NonNullable<T>> {
  const deadline = Date.now() + T / 2;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (run && run.child.exitCode !== null) throw new Error(`${what}: the process exited (${run.child.exitCode}):\n${run.out()}\n${run.err()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${T / 2} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request on its own connection (the backend restarts within the test; no pooled sockets). */
function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; setCookie: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: String(res.headers['set-cookie'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const redeem = (url: string, link: string) =>
  http(`${url}/api/session/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ code: new URL(link).hash.replace(/^#login=/, '') }),
  });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const LINK = /(http:\/\/127\.0\.0\.1:\d+\/#login=[A-Za-z0-9_-]+)/g;

describe('westfall serve and westfall login-link', () => {
  const data = tempDir('westfall-serve-cli-');
  const env = { WESTFALL_DATA_DIR: data.dir, WESTFALL_MODELS_DIR: join(data.dir, 'models') };
  const running: Run[] = [];
  let other: Server | null = null;
  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    other?.close();
    data.cleanup();
  });

  async function stop(r: Run): Promise<void> {
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  }

  it(
    'keeps the session and the model across a restart; a taken port gets a one-line answer; login-link prints fresh links',
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const first = cli(['serve', '--port', String(port), '--model', TINY_MODEL], env);
      running.push(first);
      // The address and link come last: again once the model has loaded, below its log lines.
      await until(() => /is ready at .*\n {2}Sign in: http/.test(first.out()), 'the ready lines', first);
      const tail = first.out().trimEnd().split('\n').slice(-3).join('\n');
      expect(tail).toMatch(new RegExp(`Westfall Assistant is ready at ${url} \\(model tiny-qwen2 loaded\\)`));
      expect(tail).toContain('npx westfall login-link');
      // Routine requests are not logged at info.
      for (let i = 0; i < 3; i++) await http(`${url}/health`);
      const links = [...first.out().matchAll(LINK)].map((m) => m[1]!);
      expect(links.length).toBeGreaterThanOrEqual(2);
      expect(first.out()).not.toMatch(/incoming request|request completed/);

      const signed = await redeem(url, links[0]!);
      expect(signed.status).toBe(200);
      const cookie = signed.setCookie.split(';')[0]!;
      expect((await redeem(url, links[0]!)).status).toBe(401); // one-time

      // A new link from another process, for the backend that runs now.
      const ll = cli(['login-link'], env);
      expect(await ll.exited).toBe(0);
      const fresh = ll.out().trim();
      expect(fresh).toMatch(new RegExp(`^${url}/#login=[A-Za-z0-9_-]+$`));
      expect((await redeem(url, fresh)).status).toBe(200);
      expect((await redeem(url, fresh)).status).toBe(401);

      // Another backend on the same port: one line saying the other one runs, and where. No stack, no crash.
      const second = cli(['serve', '--port', String(port)], env);
      running.push(second);
      expect(await second.exited).toBe(1);
      const lines = second.err().split('\n').filter((l) => l.startsWith('westfall:'));
      expect(lines).toEqual([expect.stringContaining(`another Westfall Assistant is already running at ${url}`)]);
      expect(second.err() + second.out()).not.toMatch(/sonic boom|EADDRINUSE|\bat .*\.js:\d+/);

      await stop(first);
      // Restarted without --model: the same browser session, the last used model.
      const unused = links[1]!;
      const third = cli(['serve', '--port', String(port)], env);
      running.push(third);
      await until(() => third.out().includes('is listening on'), 'the banner', third);
      expect(third.out()).toMatch(/loading the last used model/);
      expect((await http(`${url}/api/system`, { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
      expect((await redeem(url, unused)).status).toBe(401); // printed by the previous run
      await until(async () => {
        const r = await http(`${url}/api/system`, { headers: { cookie } });
        const sys = JSON.parse(r.body) as { model: { state: string; path: string | null } };
        return sys.model.state === 'ready' && sys.model.path === TINY_MODEL;
      }, 'the last used model loaded', third);
      await stop(third);

      // Nothing runs now: login-link says so.
      const none = cli(['login-link'], env);
      expect(await none.exited).toBe(1);
      expect(none.err()).toMatch(/no Westfall backend is running .*npm start/);
    },
    T,
  );

  it(
    'a port held by another program: one line that says to set WESTFALL_PORT',
    async () => {
      other = createServer((_req, res) => res.end('not westfall'));
      await new Promise<void>((resolve) => other!.listen(0, '127.0.0.1', () => resolve()));
      const port = (other.address() as AddressInfo).port;
      const run = cli(['serve', '--port', String(port)], { ...env, WESTFALL_DATA_DIR: join(data.dir, 'other') });
      running.push(run);
      expect(await run.exited).toBe(1);
      const lines = run.err().split('\n').filter((l) => l.startsWith('westfall:'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`port ${port} is in use by another program: set WESTFALL_PORT`))]);
      expect(run.err() + run.out()).not.toMatch(/sonic boom|\bat .*\.js:\d+/);
    },
    T,
  );

  it(
    'refuses a configured model that is not a GGUF file, at start',
    async () => {
      const fake = join(data.dir, 'model.safetensors');
      writeFileSync(fake, Buffer.from('{"__metadata__":{}}'.padEnd(64, ' ')));
      const run = cli(['serve', '--port', '0', '--model', fake], { ...env, WESTFALL_DATA_DIR: join(data.dir, 'gguf') });
      running.push(run);
      expect(await run.exited).toBe(2);
      expect(run.err()).toContain('WESTFALL_MODEL (--model)');
      expect(run.err()).toMatch(/model\.safetensors is not a GGUF model \(a \.safetensors file\)/);
      expect(run.out()).not.toContain('is listening on');
    },
    T,
  );
});
