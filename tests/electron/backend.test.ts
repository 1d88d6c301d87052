// Backend supervision against real child processes: the fake backend (tests/electron/fixtures) and, at the
// end, the real `westfall serve` with the tiny synthetic model.
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendSupervisor, backoffDelay, findFreePort, generateToken, type CrashInfo, type FailureInfo } from '../../electron/main/backend.js';
import { fakeBackend, isAlive, repoRoot, waitFor } from './helpers.js';

const running: BackendSupervisor[] = [];
const servers: Server[] = [];
function supervise(options: ConstructorParameters<typeof BackendSupervisor>[0]): BackendSupervisor {
  const s = new BackendSupervisor(options);
  running.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function occupy(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    servers.push(server);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

describe('ports, tokens and backoff', () => {
  it('uses the preferred port when it is free and another free one when it is taken', async () => {
    const taken = await occupy();
    const other = await findFreePort(taken);
    expect(other).not.toBe(taken);
    expect(other).toBeGreaterThan(0);
    const free = await findFreePort(0);
    expect(await findFreePort(free)).toBe(free);
  });

  it('generates long random tokens and refuses short ones', () => {
    const a = generateToken();
    expect(a.length).toBeGreaterThanOrEqual(16);
    expect(a).toMatch(/^[\x21-\x7e]+$/);
    expect(generateToken()).not.toBe(a);
    expect(() => new BackendSupervisor({ command: 'x', args: () => [], token: 'short' })).toThrow(/16/);
  });

  it('doubles the delay per attempt up to a cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 500, 8000))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });
});

describe('BackendSupervisor with a real child process', () => {
  it('starts the backend with the token, host and port, and waits for /health', async () => {
    const taken = await occupy();
    const { options, events } = fakeBackend({}, { preferredPort: taken });
    const s = supervise(options);
    const states: string[] = [];
    s.on('state', (st) => states.push(st));
    const addr = await s.start();
    expect(s.state).toBe('ready');
    expect(addr.port).not.toBe(taken); // 8756-style preferred port busy → another free one
    expect(addr.baseUrl).toBe(`http://127.0.0.1:${addr.port}`);
    expect(addr.wsUrl).toBe(`ws://127.0.0.1:${addr.port}`);
    expect(addr.token).toBe(s.token);
    // The child got the token: an authenticated route answers with it, and refuses without.
    const ok = await fetch(`${addr.baseUrl}/api/whoami`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { pid: number }).pid).toBe(s.pid);
    expect((await fetch(`${addr.baseUrl}/api/whoami`)).status).toBe(401);
    expect(events()[0]).toBe(`start ${s.pid} ${addr.port}`);
    expect(states).toEqual(['starting', 'ready']);
    // The token never shows in the output the supervisor keeps.
    expect(s.outputTail).toContain('(token <token>)');
    expect(s.outputTail).not.toContain(s.token);
  });

  it('restarts a crashed backend with backoff and reports the crash', async () => {
    const { options } = fakeBackend({}, { backoffBaseMs: 200 });
    const s = supervise(options);
    const first = await s.start();
    const firstPid = s.pid;
    const crashes: CrashInfo[] = [];
    s.on('crash', (c) => crashes.push(c));
    const readyAgain = new Promise<number>((resolve) => s.once('ready', () => resolve(Date.now())));
    const crashedAt = Date.now();
    await fetch(`${first.baseUrl}/__crash`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } });
    const back = await readyAgain;
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ reason: 'exited', code: 70, attempt: 1, delayMs: 200, maxRestarts: 4 });
    expect(back - crashedAt).toBeGreaterThanOrEqual(200);
    expect(s.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(s.address?.port).toBe(first.port); // the same port again while it is free
    expect(s.address?.token).toBe(first.token);
  });

  it('backs off exponentially over consecutive failed launches, then runs', async () => {
    const { options, events } = fakeBackend({ FAKE_FAIL_FIRST: 3 }, { backoffBaseMs: 100, maxRestarts: 5 });
    const s = supervise(options);
    const crashes: CrashInfo[] = [];
    s.on('crash', (c) => crashes.push(c));
    await s.start();
    expect(crashes.map((c) => [c.attempt, c.delayMs, c.code])).toEqual([
      [1, 100, 3],
      [2, 200, 3],
      [3, 400, 3],
    ]);
    expect(crashes[0]!.outputTail).toContain('simulated startup failure (token <token>)');
    expect(events().filter((e) => e.startsWith('start'))).toHaveLength(4);
  });

  it('gives up after maxRestarts consecutive failures with the reason and the last output', async () => {
    const { options } = fakeBackend({ FAKE_MODE: 'exit' }, { maxRestarts: 3, backoffBaseMs: 50 });
    const s = supervise(options);
    const failed = new Promise<FailureInfo>((resolve) => s.once('failed', resolve));
    await expect(s.start()).rejects.toThrow(/failed 3 times in a row; the last time it exited \(exit code 3\)/);
    const info = await failed;
    expect(s.state).toBe('failed');
    expect(info).toMatchObject({ reason: 'exited', attempts: 3, code: 3 });
    expect(info.outputTail).toContain('fatal: simulated startup failure');
    expect(info.outputTail).not.toContain(s.token);
    expect(s.address).toBeNull();
  });

  it('treats a backend that never becomes healthy as a failure and kills it', async () => {
    const { options } = fakeBackend({ FAKE_MODE: 'unhealthy' }, { maxRestarts: 1, healthTimeoutMs: 400 });
    const s = supervise(options);
    const failed = new Promise<FailureInfo>((resolve) => s.once('failed', resolve));
    const started = s.start();
    const pid = await waitFor(() => s.pid, 'the child to spawn');
    await expect(started).rejects.toThrow(/did not answer on \/health within/);
    expect((await failed).reason).toBe('health_timeout');
    await waitFor(() => !isAlive(pid), 'the unhealthy child to be gone', 5000);
  });

  it('retry() after a failure starts over', async () => {
    const { options } = fakeBackend({ FAKE_FAIL_FIRST: 2 }, { maxRestarts: 2, backoffBaseMs: 20 });
    const s = supervise(options);
    await expect(s.start()).rejects.toThrow();
    const ready = new Promise((resolve) => s.once('ready', resolve));
    s.retry();
    await ready;
    expect(s.state).toBe('ready');
    expect(s.failureCount).toBe(0);
  });

  it('stops gracefully with SIGTERM', async () => {
    const { options, events } = fakeBackend({ FAKE_SHUTDOWN_MS: 200 });
    const s = supervise(options);
    await s.start();
    const pid = s.pid;
    const result = await s.stop();
    expect(result).toMatchObject({ graceful: true, code: 0, signal: null });
    expect(events().slice(-2)).toEqual([`sigterm ${pid}`, `exit ${pid} 0`]);
    expect(isAlive(pid)).toBe(false);
    expect(s.state).toBe('stopped');
  });

  it('kills a backend that ignores SIGTERM after the timeout', async () => {
    const { options, events } = fakeBackend({ FAKE_MODE: 'ignore-sigterm' }, { stopTimeoutMs: 300 });
    const s = supervise(options);
    await s.start();
    const pid = s.pid;
    const t0 = Date.now();
    const result = await s.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(result).toMatchObject({ graceful: false, signal: 'SIGKILL' });
    expect(events()).toContain(`sigterm ${pid} ignored`);
    expect(isAlive(pid)).toBe(false);
  });

  it('stop() during a backoff cancels the pending restart', async () => {
    const { options, events } = fakeBackend({ FAKE_MODE: 'exit' }, { backoffBaseMs: 300, maxRestarts: 5 });
    const s = supervise(options);
    s.start().catch(() => undefined);
    await new Promise<void>((resolve) => s.once('crash', () => resolve()));
    await s.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(events().filter((e) => e.startsWith('start'))).toHaveLength(1);
    expect(s.state).toBe('stopped');
  });

  it('redacts the token even when the output splits it across writes', async () => {
    const script = `const t = process.env.WESTFALL_API_TOKEN; process.stderr.write('bad token ' + t.slice(0, 10)); setTimeout(() => { process.stderr.write(t.slice(10) + ' rejected\\n'); process.exit(2); }, 50);`;
    const s = supervise({ command: process.execPath, args: () => ['-e', script], preferredPort: 0, maxRestarts: 1 });
    const failed = new Promise<FailureInfo>((resolve) => s.once('failed', resolve));
    await expect(s.start()).rejects.toThrow(/exit code 2/);
    const info = await failed;
    expect(info.outputTail).toBe('bad token <token> rejected');
    expect(info.outputTail).not.toContain(s.token.slice(10));
  });

  it('reports a command that cannot be spawned', async () => {
    const s = supervise({ command: join(tmpdir(), 'no-such-binary-westfall'), args: () => [], preferredPort: 0, maxRestarts: 1 });
    await expect(s.start()).rejects.toThrow(/could not be started/);
  });
});

const cli = join(repoRoot, 'dist', 'cli', 'index.js');
const model = join(repoRoot, 'models', 'tiny-qwen2.gguf');
const haveRealBackend = existsSync(cli) && existsSync(model);

describe.skipIf(!haveRealBackend)('BackendSupervisor with the real `westfall serve`', () => {
  it('starts it with the tiny model, authenticates with the launch token, and stops it gracefully', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'westfall-electron-serve-'));
    const s = supervise({
      command: process.execPath,
      args: (port) => [cli, 'serve', '--port', String(port), '--model', model, '--context-size', '256', '--parallel', '1'],
      env: { ...process.env, WESTFALL_DATA_DIR: dataDir, WESTFALL_LOG_FILE: 'false', WESTFALL_LOG_LEVEL: 'warn' },
      preferredPort: 0,
      healthTimeoutMs: 30_000,
      stopTimeoutMs: 15_000,
    });
    const addr = await s.start();
    const health = (await (await fetch(`${addr.baseUrl}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect((await fetch(`${addr.baseUrl}/api/system`)).status).toBe(401);
    const system = await fetch(`${addr.baseUrl}/api/system`, { headers: { authorization: `Bearer ${addr.token}` } });
    expect(system.status).toBe(200);
    // The model loads in the background; wait until it is ready so the shutdown also frees it.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await fetch(`${addr.baseUrl}/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${addr.baseUrl}/health/ready`)).status).toBe(200);
    const pid = s.pid;
    const result = await s.stop();
    expect(result).toMatchObject({ graceful: true, code: 0 });
    expect(isAlive(pid)).toBe(false);
  });
});
