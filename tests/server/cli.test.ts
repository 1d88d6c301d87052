// The `westfall serve` CLI as a child process: startup banner, exit code 2 on bad settings, and a
// graceful shutdown on SIGTERM while a WebSocket and an SSE stream are running.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, StreamClient, TINY_MODEL, TOKEN, eventually, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'index.ts');

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('westfall CLI', () => {
  const running: Cli[] = [];
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(() => {
    for (const c of running.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('exits with code 2 and names every invalid setting', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const cli = runCli(['serve', '--port', 'http'], { WESTFALL_DATA_DIR: tmp.dir, WESTFALL_CONTEXT_SIZE: 'big', WESTFALL_TEMPERATURE: '-3' });
    running.push(cli);
    const { code } = await cli.exited;
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('WESTFALL_PORT (--port)');
    expect(cli.stderr()).toContain('WESTFALL_CONTEXT_SIZE');
    expect(cli.stderr()).toContain('WESTFALL_TEMPERATURE');
    expect(cli.stdout()).not.toContain('listening');
  });

  it('shuts down gracefully on SIGTERM during streams: final messages, model freed, exit 0', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const cli = runCli(['serve', '--model', TINY_MODEL, '--port', '0'], {
      WESTFALL_DATA_DIR: tmp.dir,
      WESTFALL_API_TOKEN: TOKEN,
      WESTFALL_CONTEXT_SIZE: '4096',
      WESTFALL_THREADS: '1',
      WESTFALL_LOG_LEVEL: 'info',
    });
    running.push(cli);
    const url = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stdout())?.[1], 30_000, 50);
    expect(cli.stdout()).toContain('Authorization: Bearer <token>'); // a configured token is not printed
    expect(cli.stdout()).not.toContain(TOKEN);
    await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, 30_000, 50);

    // A WebSocket stream and an SSE stream, both long (they are ended by the shutdown).
    const ws = new StreamClient(`${url.replace('http', 'ws')}/api/llm/stream`);
    await ws.opened();
    ws.send({ type: 'chat', id: 'w', messages: [{ role: 'user', content: 'Talk forever.' }], params: { maxTokens: 4000, ignoreEos: true } });
    const sse = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'Talk forever.' }], max_tokens: 4000, stream: true }),
    });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    let sseText = new TextDecoder().decode((await reader.read()).value);
    await ws.waitFor(() => ws.of('w').some((m) => m.type === 'token'));

    const t0 = Date.now();
    cli.child.kill('SIGTERM');
    const sseDone = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        sseText += new TextDecoder().decode(value);
      }
    })();

    const final = await ws.final('w');
    expect(final.type).toBe('error');
    expect(final.type === 'error' && final.error.code).toBe('shutting_down');
    await sseDone;
    const events = sseText.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice(6))).toMatchObject({ error: { code: 'shutting_down', type: 'unavailable_error' } });

    const { code } = await cli.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    await ws.waitFor(() => ws.closeCode !== null);
    expect(ws.closeCode).toBe(1001);

    const logFile = join(tmp.dir, 'logs', 'westfall.log');
    expect(existsSync(logFile)).toBe(true);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('shutting down');
    expect(log).toContain('"msg":"model freed"');
    expect(log).toContain('"msg":"stopped"');
    expect(log).not.toContain(TOKEN);
  });

  it('prints a generated token and a login URL, and exits 0 on SIGINT when idle', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const cli = runCli(['serve', '--port', '0', '--host', '127.0.0.1'], { WESTFALL_DATA_DIR: tmp.dir, WESTFALL_LOG_FILE: 'false', WESTFALL_API_TOKEN: '' });
    running.push(cli);
    const url = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stdout())?.[1], 30_000, 50);
    const token = /Bearer (\S+)/.exec(cli.stdout())?.[1];
    expect(token).toBeTruthy();
    expect(token).not.toBe('<token>');
    expect(cli.stdout()).toContain(`${url}/?token=${token}`);
    expect((await fetch(`${url}/api/system`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/api/system`)).status).toBe(401);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('model_not_loaded');
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
  });
});
