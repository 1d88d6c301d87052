import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendSupervisorOptions } from '../../electron/main/backend.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const FAKE_BACKEND = join(here, 'fixtures', 'fake-backend.mjs');

export interface FakeBackendEnv {
  FAKE_MODE?: 'ok' | 'exit' | 'unhealthy' | 'ignore-sigterm';
  FAKE_FAIL_FIRST?: number;
  FAKE_SHUTDOWN_MS?: number;
  FAKE_DOWNLOAD_MS?: number;
}

/** Supervisor options running the fake backend with short timings; `events()` reads its event log. */
export function fakeBackend(fake: FakeBackendEnv = {}, overrides: Partial<BackendSupervisorOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'westfall-fake-backend-'));
  const eventsFile = join(dir, 'events.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    FAKE_EVENTS: eventsFile,
    FAKE_COUNTER: join(dir, 'counter'),
  };
  for (const [k, v] of Object.entries(fake)) if (v !== undefined) env[k] = String(v);
  const options: BackendSupervisorOptions = {
    command: process.execPath,
    args: (port) => [FAKE_BACKEND, 'serve', '--port', String(port)],
    env,
    preferredPort: 0,
    healthIntervalMs: 25,
    healthTimeoutMs: 5000,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    maxRestarts: 4,
    stopTimeoutMs: 3000,
    ...overrides,
  };
  const events = (): string[] => (existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean) : []);
  return { options, events, dir };
}

export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
