// scripts/start.mjs (`npm start`): without Electron's binary (as here) it starts `westfall serve` and prints
// the browser login URL; with one (a stand-in executable) it launches Electron on the compiled main.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, repoRoot, waitFor } from './helpers.js';

const START = join(repoRoot, 'scripts', 'start.mjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'westfall-start-'));
  const child = spawn(process.execPath, [START, ...args], {
    cwd: repoRoot,
    env: { ...process.env, WESTFALL_DATA_DIR: dataDir, WESTFALL_LOG_FILE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

describe('npm start without Electron', () => {
  it('builds what is needed, starts the backend and prints the login URL', async () => {
    const { child, out, exited } = start(['--port', '0']);
    const url = await waitFor(() => /==> Open this (?:one-time login )?link in your browser to use Westfall Assistant: (\S+)/.exec(out.stdout)?.[1], 'the login URL', 110_000);
    expect(out.stderr).toContain('Electron is not installed, so the desktop window cannot open.');
    expect(out.stderr).toContain('Starting the backend only: open the login URL printed below in your browser.');
    // The one-time login link (or, from an older CLI, the token link).
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/(#login=|\?token=)[\x21-\x7e]{16,}$/);
    expect(out.stdout).toContain(url); // printed by `westfall serve` itself, pointed at again
    const base = new URL(url);
    const health = (await (await fetch(`${base.origin}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    // Stopping `npm start` stops the backend gracefully.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${base.origin}/health`)).rejects.toThrow();
  }, 120_000);

  it('never prints a token configured in WESTFALL_API_TOKEN', async () => {
    const { child, out, exited } = start(['--no-build', '--port', '0'], { WESTFALL_API_TOKEN: 'a-configured-token-1234' });
    const line = await waitFor(() => /==> (.*)/.exec(out.stdout)?.[1], 'the hint', 30_000);
    expect(line).toMatch(
      /^(Open this one-time login link in your browser to use Westfall Assistant: http:\/\/127\.0\.0\.1:\d+\/#login=\S+|Open http:\/\/127\.0\.0\.1:\d+\/ in your browser and sign in with the token from WESTFALL_API_TOKEN\.)$/,
    );
    expect(out.stdout + out.stderr).not.toContain('a-configured-token-1234');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);
});

describe('npm start with Electron', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'electron', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`electron/build.mjs failed:\n${r.stdout}\n${r.stderr}`);
  }, 120_000);

  it('launches Electron on the compiled main with the arguments, on this Node for the backend', async () => {
    // A stand-in for Electron's binary: the electron package resolves ELECTRON_OVERRIDE_DIST_PATH/electron.
    const dist = mkdtempSync(join(tmpdir(), 'westfall-fake-electron-bin-'));
    const record = join(dist, 'record.json');
    const bin = join(dist, 'electron');
    writeFileSync(
      bin,
      `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), backendNode: process.env.WESTFALL_BACKEND_NODE }));\n`,
    );
    chmodSync(bin, 0o755);
    const { out, exited, child } = start(['--no-build', '--quick-ask', 'hello there'], { ELECTRON_OVERRIDE_DIST_PATH: dist });
    expect(await exited).toBe(0);
    expect(out.stderr).toContain(`starting the desktop app with Electron (${bin})`);
    expect(out.stderr).not.toContain('Electron is not installed');
    const got = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; backendNode: string };
    expect(got.argv).toEqual([join(repoRoot, 'dist', 'electron', 'main', 'index.js'), '--quick-ask', 'hello there']);
    expect(got.backendNode).toBe(process.execPath);
    expect(existsSync(join(repoRoot, 'dist', 'electron', 'preload', 'index.cjs'))).toBe(true);
    expect(isAlive(child.pid)).toBe(false);
  }, 60_000);
});
